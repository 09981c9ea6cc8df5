import { describe, expect, it } from 'vitest';
import { clearSession, loadSession, saveSession } from './session';

function memoryStorage() {
	const m = new Map<string, string>();
	return {
		getItem: (k: string) => m.get(k) ?? null,
		setItem: (k: string, v: string) => void m.set(k, v),
		removeItem: (k: string) => void m.delete(k)
	};
}

describe('session storage', () => {
	it('round-trips, and drops an expired or malformed session', () => {
		const s = memoryStorage();
		const now = Date.parse('2026-01-01T00:00:00Z');
		saveSession({ token: 't', username: 'ann', expiresAt: '2026-01-02T00:00:00Z' }, s);
		expect(loadSession(s, now)).toEqual({ token: 't', username: 'ann', expiresAt: '2026-01-02T00:00:00Z' });
		expect(loadSession(s, Date.parse('2026-01-03T00:00:00Z'))).toBeNull();
		expect(s.getItem('notes.session')).toBeNull();
		s.setItem('notes.session', '{"token":1}');
		expect(loadSession(s, now)).toBeNull();
		saveSession({ token: 't', username: 'ann', expiresAt: '2026-01-02T00:00:00Z' }, s);
		clearSession(s);
		expect(loadSession(s, now)).toBeNull();
	});
});
