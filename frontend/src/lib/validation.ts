import { countChars } from './text';

/** The limits of docs/rest-api.md ("Validation"), counted in characters as the server counts them. */
export const NOTE_MAX_CHARS = 10_000;
export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

const USERNAME_ALLOWED = /^[a-z0-9_-]$/;

/** "10,000" in the person's locale. */
export const fmt = (n: number): string => n.toLocaleString();

/**
 * Only white space as the server means it: Unicode's White_Space property (Rust's `str::trim`,
 * shared/openapi.yaml's Content pattern), which holds U+0085 and not U+FEFF, unlike `String.trim()`.
 */
const ONLY_WHITE_SPACE = /^\p{White_Space}*$/u;

/** A control character the server refuses in a note: all of Unicode's Cc but tab, LF and CR. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/u;

/** Why a note's text would be refused, or null if the server will take it. */
export function noteProblem(content: string, emptyMessage = 'Write something first.'): string | null {
	if (ONLY_WHITE_SPACE.test(content)) return emptyMessage;
	if (CONTROL.test(content)) {
		return 'A note cannot contain control characters (only tabs and line breaks); remove them and try again.';
	}
	const n = countChars(content);
	if (n > NOTE_MAX_CHARS) {
		return `A note can be at most ${fmt(NOTE_MAX_CHARS)} characters; this one has ${fmt(n)}.`;
	}
	return null;
}

/** What a username may be, in the words shown under the field. */
export const USERNAME_RULE = `${USERNAME_MIN} to ${USERNAME_MAX} characters: lowercase letters a–z, digits 0–9, _ and -.`;

/** Why a (trimmed) username would be refused, saying what is allowed; null if it is fine. */
export function usernameProblem(username: string): string | null {
	if (username.length === 0) return 'Choose a username.';
	const foreign = [...new Set(username)].filter((c) => !USERNAME_ALLOWED.test(c));
	if (foreign.length > 0) {
		const capitals = foreign.filter((c) => /[A-Z]/.test(c));
		const others = foreign.filter((c) => !/[A-Z]/.test(c) && !/\s/.test(c));
		const parts: string[] = [];
		if (capitals.length > 0) parts.push(`capital letters (${capitals.slice(0, 3).join(', ')})`);
		if (foreign.some((c) => /\s/.test(c))) parts.push('spaces');
		parts.push(...others.slice(0, 3).map((c) => `“${c}”`));
		return `A username may contain only lowercase letters a–z, digits 0–9, _ and -, not ${listOf(parts)}.`;
	}
	const n = countChars(username);
	if (n < USERNAME_MIN || n > USERNAME_MAX) {
		return `A username has ${USERNAME_MIN} to ${USERNAME_MAX} characters; this one has ${n}.`;
	}
	return null;
}

/** Why a password would be refused, or null if it is fine. */
export function passwordProblem(password: string): string | null {
	if (password.length === 0) return 'Choose a password.';
	const n = countChars(password);
	if (n < PASSWORD_MIN) return `A password needs at least ${PASSWORD_MIN} characters; this one has ${n}.`;
	if (n > PASSWORD_MAX) return `A password can be at most ${PASSWORD_MAX} characters; this one has ${n}.`;
	return null;
}

function listOf(items: string[]): string {
	if (items.length <= 1) return items.join('');
	return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
