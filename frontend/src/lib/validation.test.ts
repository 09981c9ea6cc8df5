import { describe, expect, it } from 'vitest';
import { NOTE_MAX_CHARS, noteProblem, passwordProblem, usernameProblem } from './validation';

const n = (x: number) => x.toLocaleString();

describe('noteProblem (the composer and the edit form)', () => {
	it('refuses blank text with the message the caller gives', () => {
		expect(noteProblem('')).toBe('Write something first.');
		expect(noteProblem(' \n\t ')).toBe('Write something first.');
		expect(noteProblem('', 'A note cannot be empty.')).toBe('A note cannot be empty.');
	});

	it('counts as white space what the server does (Unicode White_Space), not what String.trim() does', () => {
		expect(noteProblem('\u0085\u3000\u2028')).toBe('Write something first.');
		// U+FEFF is no White_Space: the server stores it, so the app sends it.
		expect(noteProblem('\ufeff')).toBeNull();
		expect(noteProblem(' x ')).toBeNull();
	});

	it('takes up to 10,000 characters as the server counts them (emoji are one)', () => {
		expect(noteProblem('a'.repeat(NOTE_MAX_CHARS))).toBeNull();
		expect(noteProblem('😀'.repeat(NOTE_MAX_CHARS))).toBeNull();
		expect(noteProblem('😀'.repeat(5001))).toBeNull();
	});

	it('refuses 10,001 characters, saying the limit and the count', () => {
		expect(noteProblem('a'.repeat(NOTE_MAX_CHARS + 1))).toBe(
			`A note can be at most ${n(10_000)} characters; this one has ${n(10_001)}.`
		);
		expect(noteProblem('😀'.repeat(NOTE_MAX_CHARS + 1))).toMatch(/this one has/);
	});
});

describe('usernameProblem (signup)', () => {
	it('accepts 3 to 32 of a-z 0-9 _ -', () => {
		for (const ok of ['ann', 'a_b-c', 'x'.repeat(32), 'e2e-a-m1x2y3', '___']) expect(usernameProblem(ok)).toBeNull();
	});

	it('says what is allowed when a character is not', () => {
		expect(usernameProblem('Ann')).toBe(
			'A username may contain only lowercase letters a–z, digits 0–9, _ and -, not capital letters (A).'
		);
		expect(usernameProblem('ann smith')).toBe(
			'A username may contain only lowercase letters a–z, digits 0–9, _ and -, not spaces.'
		);
		expect(usernameProblem('zoé.b')).toBe(
			'A username may contain only lowercase letters a–z, digits 0–9, _ and -, not “é” or “.”.'
		);
		expect(usernameProblem('Bob O.')).toBe(
			'A username may contain only lowercase letters a–z, digits 0–9, _ and -, not capital letters (B, O), spaces or “.”.'
		);
	});

	it('says how long a username may be', () => {
		expect(usernameProblem('ab')).toBe('A username has 3 to 32 characters; this one has 2.');
		expect(usernameProblem('x'.repeat(33))).toBe('A username has 3 to 32 characters; this one has 33.');
		expect(usernameProblem('')).toBe('Choose a username.');
	});
});

describe('passwordProblem (signup)', () => {
	it('accepts 8 to 128 characters, counted as the server counts them', () => {
		expect(passwordProblem('12345678')).toBeNull();
		expect(passwordProblem('p'.repeat(128))).toBeNull();
		expect(passwordProblem('🔑'.repeat(128))).toBeNull(); // 256 UTF-16 units, 128 characters
	});

	it('says the bound and the count otherwise', () => {
		expect(passwordProblem('')).toBe('Choose a password.');
		expect(passwordProblem('short')).toBe('A password needs at least 8 characters; this one has 5.');
		expect(passwordProblem('🔑'.repeat(4))).toBe('A password needs at least 8 characters; this one has 4.');
		expect(passwordProblem('p'.repeat(129))).toBe('A password can be at most 128 characters; this one has 129.');
	});
});

describe('control characters', () => {
	it('refuses the control characters the server refuses, and keeps tabs and line breaks', () => {
		for (const c of ['\u0001', '\u000b', '\u007f', '\u0085']) {
			expect(noteProblem(`a${c}b`)).toMatch(/control characters/);
		}
		expect(noteProblem('a\tb\r\nc')).toBeNull();
	});
});
