/**
 * How long a text is, counted as the server counts it: in Unicode scalar values (code points), like
 * Rust's `str::chars().count()`, not in UTF-16 code units like `String.prototype.length`. An emoji
 * such as 😀 is one character here and on the server, but `'😀'.length` is 2. A lone surrogate (which
 * JSON can carry but Rust rejects) counts as one.
 */
export function countChars(text: string): number {
	let count = 0;
	for (let i = 0; i < text.length; i++) {
		const unit = text.charCodeAt(i);
		// A high surrogate followed by a low one is a single code point: skip the low half.
		if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
			const next = text.charCodeAt(i + 1);
			if (next >= 0xdc00 && next <= 0xdfff) i++;
		}
		count++;
	}
	return count;
}

/**
 * One voice for every message the app shows: a sentence. The API's messages are lower-case
 * fragments ("the username or password is wrong"); this capitalises the first letter and ends the
 * text with a full stop unless it already ends with one (or with ! ? … or a closing quote or
 * bracket after one). Messages that already are sentences come back unchanged.
 */
export function sentence(message: string): string {
	const text = message.trim().replace(/\s+/g, ' ');
	if (!text) return '';
	const first = String.fromCodePoint(text.codePointAt(0) ?? 0);
	const capitalised = first.toLocaleUpperCase() + text.slice(first.length);
	return /[.!?…]["'”’)\]]*$/.test(capitalised) ? capitalised : `${capitalised}.`;
}
