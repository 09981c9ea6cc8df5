import { describe, expect, it } from 'vitest';
import { clearSession, loadPendingNotes, loadSession, PENDING_MAX_AGE_MS, saveSession, storePendingNotes } from './session';

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

	it('keeps pending notes per user in localStorage across a reload, and forgets them once settled', () => {
		const s = memoryStorage();
		const now = Date.parse('2026-01-01T00:00:00Z');
		const one = { noteId: 'n1', content: 'hello', isPublic: true, idempotencyKey: 'k1', createdAt: '2026-01-01T00:00:00.000Z' };
		const two = { noteId: 'n2', content: 'two', isPublic: false, idempotencyKey: 'k2', createdAt: '2026-01-01T00:00:00.000Z' };
		storePendingNotes('ann', { add: [one], remove: [] }, s);
		// Another tab of ann's writes its own without undoing this one's; bob's are apart.
		storePendingNotes('ann', { add: [two], remove: [] }, s);
		storePendingNotes('bob', { add: [{ ...one, noteId: 'b1' }], remove: [] }, s);
		expect(loadPendingNotes('ann', s, now)).toEqual([one, two]);
		expect(loadPendingNotes('bob', s, now).map((n) => n.noteId)).toEqual(['b1']);
		storePendingNotes('ann', { add: [], remove: ['n1'] }, s);
		expect(loadPendingNotes('ann', s, now)).toEqual([two]);
		storePendingNotes('ann', { add: [], remove: ['n2'] }, s);
		expect(s.getItem('notes.pending.ann')).toBeNull();
	});

	it('drops pending notes older than a day, and entries that are not pending notes', () => {
		const s = memoryStorage();
		const posted = Date.parse('2026-01-01T00:00:00Z');
		const note = { noteId: 'n1', content: 'hello', isPublic: true, idempotencyKey: 'k1', createdAt: '2026-01-01T00:00:00.000Z' };
		s.setItem('notes.pending.ann', JSON.stringify([note, { noteId: 7 }, 'junk']));
		expect(loadPendingNotes('ann', s, posted + 1000)).toEqual([note]);
		expect(loadPendingNotes('ann', s, posted + PENDING_MAX_AGE_MS + 1)).toEqual([]);
		expect(s.getItem('notes.pending.ann')).toBeNull();
		s.setItem('notes.pending.ann', 'not json');
		expect(loadPendingNotes('ann', s, posted)).toEqual([]);
	});
});
