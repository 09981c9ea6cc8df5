import type { PendingNote } from './notes-model';

/**
 * The login session lives in sessionStorage, not localStorage:
 * - it is scoped to one tab and dropped when the tab closes, so a token left on a shared
 *   computer does not outlive the browser session, and the JWT's exposure window is small;
 * - two tabs can be signed in as two different people (handy for trying the live feed);
 * - it survives a reload of the tab, which is all a single-page app needs.
 * Any script on the page could read either store, so the app never renders HTML from data
 * ({@html} is not used) and the token is only ever sent to the configured API.
 */
export interface Session {
	token: string;
	username: string;
	expiresAt: string;
}

const KEY = 'notes.session';

type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

function defaultStorage(): StorageLike | null {
	try {
		return typeof sessionStorage === 'undefined' ? null : sessionStorage;
	} catch {
		return null;
	}
}

export function isExpired(session: Session, now = Date.now()): boolean {
	const t = Date.parse(session.expiresAt);
	return Number.isNaN(t) ? false : t <= now;
}

export function loadSession(storage: StorageLike | null = defaultStorage(), now = Date.now()): Session | null {
	if (!storage) return null;
	try {
		const raw = storage.getItem(KEY);
		if (!raw) return null;
		const s = JSON.parse(raw) as Partial<Session>;
		if (typeof s.token !== 'string' || typeof s.username !== 'string' || typeof s.expiresAt !== 'string') {
			storage.removeItem(KEY);
			return null;
		}
		const session = { token: s.token, username: s.username, expiresAt: s.expiresAt };
		if (isExpired(session, now)) {
			storage.removeItem(KEY);
			return null;
		}
		return session;
	} catch {
		return null;
	}
}

export function saveSession(session: Session, storage: StorageLike | null = defaultStorage()): void {
	storage?.setItem(KEY, JSON.stringify(session));
}

export function clearSession(storage: StorageLike | null = defaultStorage()): void {
	storage?.removeItem(KEY);
}

/**
 * Notes posted and not yet seen saved or failed live in localStorage, one entry per user
 * (`notes.pending.<username>`), so that a reload, or a tab closed and opened again, can still ask
 * the server what became of them: a note-failed pushed while no connection was open is not kept
 * for later, and the server keeps no text of a failed note. An entry holds what "Try again" needs
 * (text, visibility, Idempotency-Key) and goes as soon as the note is settled (saved, failed,
 * dismissed or deleted). This is the user's own text, kept for seconds as a rule; unlike the
 * token it gives no access to anything.
 */
const PENDING_PREFIX = 'notes.pending.';

/**
 * How long a pending note is kept at most: the server keeps an Idempotency-Key 24 hours, and a
 * note neither stored nor failed by then was deleted or dismissed elsewhere.
 */
export const PENDING_MAX_AGE_MS = 24 * 60 * 60 * 1000;

function defaultLocalStorage(): StorageLike | null {
	try {
		return typeof localStorage === 'undefined' ? null : localStorage;
	} catch {
		return null;
	}
}

function isPendingNote(value: unknown): value is PendingNote {
	if (typeof value !== 'object' || value === null) return false;
	const v = value as Record<string, unknown>;
	return (
		typeof v.noteId === 'string' &&
		typeof v.content === 'string' &&
		typeof v.isPublic === 'boolean' &&
		(v.idempotencyKey === undefined || typeof v.idempotencyKey === 'string') &&
		typeof v.createdAt === 'string'
	);
}

function readPending(username: string, storage: StorageLike): PendingNote[] {
	try {
		const raw = storage.getItem(PENDING_PREFIX + username);
		const list: unknown = raw ? JSON.parse(raw) : [];
		return Array.isArray(list) ? list.filter(isPendingNote) : [];
	} catch {
		return [];
	}
}

function writePending(username: string, notes: PendingNote[], storage: StorageLike): void {
	try {
		if (notes.length === 0) storage.removeItem(PENDING_PREFIX + username);
		else storage.setItem(PENDING_PREFIX + username, JSON.stringify(notes));
	} catch {
		// Full or refused: the note still settles by its event, only not across a reload.
	}
}

/** The user's pending notes, as a reload finds them (those older than `PENDING_MAX_AGE_MS` dropped). */
export function loadPendingNotes(
	username: string,
	storage: StorageLike | null = defaultLocalStorage(),
	now = Date.now()
): PendingNote[] {
	if (!storage) return [];
	const all = readPending(username, storage);
	const fresh = all.filter((n) => !(now - Date.parse(n.createdAt) > PENDING_MAX_AGE_MS));
	if (fresh.length !== all.length) writePending(username, fresh, storage);
	return fresh;
}

/**
 * Writes down notes that went pending (`add`, replacing any entry of the same id) and forgets
 * those settled (`remove`), leaving every other entry (another tab's) as it is.
 */
export function storePendingNotes(
	username: string,
	changes: { add: readonly PendingNote[]; remove: readonly string[] },
	storage: StorageLike | null = defaultLocalStorage()
): void {
	if (!storage || (changes.add.length === 0 && changes.remove.length === 0)) return;
	const drop = new Set([...changes.remove, ...changes.add.map((n) => n.noteId)]);
	const kept = readPending(username, storage).filter((n) => !drop.has(n.noteId));
	writePending(username, [...kept, ...changes.add], storage);
}
