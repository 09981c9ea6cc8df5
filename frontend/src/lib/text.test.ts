import { describe, expect, it } from 'vitest';
import { countChars, sentence } from './text';

describe('countChars (as the server counts: code points)', () => {
	it('counts ASCII like length', () => {
		expect(countChars('')).toBe(0);
		expect(countChars('hello')).toBe(5);
		expect(countChars('a\nb')).toBe(3);
	});

	it('counts an emoji outside the BMP as one character, not two', () => {
		expect('😀'.length).toBe(2);
		expect(countChars('😀')).toBe(1);
		expect(countChars('a😀b')).toBe(3);
		expect(countChars('😀'.repeat(5001))).toBe(5001);
		expect(countChars('😀'.repeat(10_000))).toBe(10_000);
	});

	it('counts accented letters and CJK as one each', () => {
		expect(countChars('é')).toBe(1);
		expect(countChars('日本語')).toBe(3);
		expect(countChars('𝄞')).toBe(1); // U+1D11E, a surrogate pair
	});

	it('counts what Rust counts for combining marks and ZWJ sequences (each code point)', () => {
		expect(countChars('e\u0301')).toBe(2); // e + combining acute
		expect(countChars('👩‍💻')).toBe(3); // woman, ZWJ, laptop
		expect(countChars('👍🏽')).toBe(2); // thumbs up + skin tone modifier
	});

	it('agrees with iterating the string by code point', () => {
		const samples = ['', 'abc', '😀😀', 'x\u{1F600}y\u{10FFFF}', '\uD83D', 'a\uDE00b', '\uDE00\uD83D'];
		for (const s of samples) expect(countChars(s)).toBe([...s].length);
	});

	it('counts a lone surrogate as one character', () => {
		expect(countChars('\uD83D')).toBe(1);
		expect(countChars('\uDE00')).toBe(1);
		expect(countChars('\uD83Dx')).toBe(2);
	});
});

describe('sentence (one voice for messages)', () => {
	it('capitalises a server fragment and ends it with a full stop', () => {
		expect(sentence('the username or password is wrong')).toBe('The username or password is wrong.');
		expect(sentence('that username is taken')).toBe('That username is taken.');
		expect(sentence('content must be at most 10000 characters long')).toBe(
			'Content must be at most 10000 characters long.'
		);
		expect(sentence('the service is briefly unavailable; please retry')).toBe(
			'The service is briefly unavailable; please retry.'
		);
	});

	it('leaves a sentence alone', () => {
		for (const s of [
			'A note can be at most 10,000 characters.',
			'Could not reach the server. Check your connection and try again.',
			'Too many requests: wait a moment and try again.',
			'Really?',
			'Done!',
			'Saving…',
			'He said “hello.”',
			'(See the log.)'
		]) {
			expect(sentence(s)).toBe(s);
		}
	});

	it('is idempotent', () => {
		const once = sentence('no such note');
		expect(once).toBe('No such note.');
		expect(sentence(once)).toBe(once);
	});

	it('keeps the rest of the text as it is (names, codes, quotes)', () => {
		expect(sentence("username may contain only lowercase letters, digits, '_' and '-'")).toBe(
			"Username may contain only lowercase letters, digits, '_' and '-'."
		);
		expect(sentence('Idempotency-Key must be 1 to 128 characters')).toBe('Idempotency-Key must be 1 to 128 characters.');
		expect(sentence('the request body is larger than 65536 bytes')).toBe('The request body is larger than 65536 bytes.');
	});

	it('trims, collapses white space, and handles empty text and non-letters first', () => {
		expect(sentence('  the request was not valid \n ')).toBe('The request was not valid.');
		expect(sentence('')).toBe('');
		expect(sentence('   ')).toBe('');
		expect(sentence('413: too large')).toBe('413: too large.');
		expect(sentence('élan is required')).toBe('Élan is required.');
		expect(sentence('😀 works')).toBe('😀 works.');
	});
});
