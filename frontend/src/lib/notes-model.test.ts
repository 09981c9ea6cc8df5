import { describe, expect, it } from 'vitest';
import {
	addPending,
	appendPage,
	applyEvent,
	applyNote,
	emptyModel,
	pendingIds,
	removeNote,
	replaceFirstPage,
	resendAccepted
} from './notes-model';
import type { Note, NoteEvent } from './types';

const T0 = Date.parse('2026-01-01T10:00:00.000Z');
const iso = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

const note = (over: Partial<Note> = {}): Note => ({
	noteId: 'n1',
	username: 'ann',
	content: 'hello',
	isPublic: true,
	status: 'saved',
	createdAt: iso(0),
	savedAt: iso(100),
	...over
});

let seq = 0;
const ev = (over: Partial<NoteEvent>): NoteEvent => ({
	eventType: 'note-saved',
	eventId: `e${++seq}`,
	timestamp: iso(100),
	noteId: 'n1',
	username: 'ann',
	...over
});

const saved = (over: Partial<NoteEvent> = {}) =>
	ev({ eventType: 'note-saved', content: 'hello', isPublic: true, savedAt: iso(100), ...over });

describe('notes model', () => {
	it('shows a posted note as pending, then saved when note-saved arrives', () => {
		let m = addPending(emptyModel('ann'), { noteId: 'n1', content: 'hello', isPublic: false }, T0);
		expect(m.mine.items[0]).toMatchObject({ noteId: 'n1', status: 'pending' });
		m = applyEvent(m, saved({ isPublic: false }), T0);
		expect(m.mine.items).toHaveLength(1);
		expect(m.mine.items[0]).toMatchObject({ status: 'saved', content: 'hello' });
		expect(m.feed.items).toHaveLength(0); // private: never in the feed
	});

	it('marks a pending note failed with the reason', () => {
		let m = addPending(emptyModel('ann'), { noteId: 'n1', content: 'hello', isPublic: true }, T0);
		m = applyEvent(m, ev({ eventType: 'note-failed', error: 'Content was rejected.' }), T0);
		expect(m.mine.items[0]).toMatchObject({ status: 'failed', error: 'Content was rejected.' });
		expect(m.feed.items).toHaveLength(0);
		expect(pendingIds(m)).toEqual([]);
	});

	it('does not downgrade a note whose note-saved beat the 202 answer', () => {
		let m = applyEvent(emptyModel('ann'), saved(), T0);
		m = addPending(m, { noteId: 'n1', content: 'hello', isPublic: true }, T0);
		expect(m.mine.items[0].status).toBe('saved');
	});

	it('applies a duplicated event idempotently', () => {
		const e = saved();
		const once = applyEvent(emptyModel('ann'), e, T0);
		const twice = applyEvent(once, { ...e, eventId: 'other-id' }, T0);
		expect(twice.mine.items).toEqual(once.mine.items);
		expect(twice.feed.items).toEqual(once.feed.items);
	});

	it("puts another user's public note in the feed but not in my notes", () => {
		const m = applyEvent(emptyModel('bob'), saved(), T0);
		expect(m.mine.items).toHaveLength(0);
		expect(m.feed.items.map((n) => n.noteId)).toEqual(['n1']);
	});

	it('never puts a private note in the public feed', () => {
		let m = applyEvent(emptyModel('bob'), saved({ isPublic: false }), T0);
		expect(m.feed.items).toHaveLength(0);
		m = replaceFirstPage(m, 'feed', { notes: [note({ noteId: 'p', isPublic: false })] }, T0);
		expect(m.feed.items).toHaveLength(0);
		m = appendPage(m, 'feed', { notes: [note({ noteId: 'q', isPublic: false })] });
		expect(m.feed.items).toHaveLength(0);
	});

	it('follows updates in the feed, and drops a note made private', () => {
		let m = applyEvent(emptyModel('bob'), saved(), T0);
		m = applyEvent(m, ev({ eventType: 'note-updated', content: 'edited', isPublic: true, updatedAt: iso(200), wasPublic: true }));
		expect(m.feed.items[0].content).toBe('edited');
		m = applyEvent(m, ev({ eventType: 'note-updated', content: 'secret', isPublic: false, updatedAt: iso(300), wasPublic: true }));
		expect(m.feed.items).toHaveLength(0);
		m = applyEvent(m, ev({ eventType: 'note-updated', content: 'open again', isPublic: true, updatedAt: iso(400), wasPublic: false }));
		expect(m.feed.items[0].content).toBe('open again');
	});

	it('drops a note that left the feed when the update carries no content', () => {
		let m = applyEvent(emptyModel('bob'), saved());
		m = applyEvent(
			m,
			ev({ eventType: 'note-updated', isPublic: false, wasPublic: true, updatedAt: iso(500), timestamp: iso(500) })
		);
		expect(m.feed.items).toEqual([]);
		expect(m.mine.items).toEqual([]);
	});

	it('shows nothing of another user\'s note that left the feed before it was loaded', () => {
		const m = applyEvent(
			emptyModel('bob'),
			ev({ eventType: 'note-updated', isPublic: false, wasPublic: true, updatedAt: iso(500) })
		);
		expect(m.feed.items).toEqual([]);
		expect(m.mine.items).toEqual([]);
	});

	it('moves a failed note to saved when a redrive stores it', () => {
		let m = addPending(emptyModel('ann'), { noteId: 'n1', content: 'hello', isPublic: false }, T0);
		m = applyEvent(m, ev({ eventType: 'note-failed', error: 'The service kept failing.' }));
		expect(m.mine.items[0]).toMatchObject({ status: 'failed', error: 'The service kept failing.' });
		m = applyEvent(m, saved({ isPublic: false, timestamp: iso(5000), savedAt: iso(5000) }));
		expect(m.mine.items).toHaveLength(1);
		expect(m.mine.items[0]).toMatchObject({ noteId: 'n1', status: 'saved', content: 'hello' });
	});

	it('keeps the Idempotency-Key of a posted note while it is pending or failed, and the failing eventId', () => {
		let m = addPending(emptyModel('ann'), { noteId: 'n1', content: 'hello', isPublic: true, idempotencyKey: 'k1' }, T0);
		expect(m.mine.items[0]).toMatchObject({ status: 'pending', idempotencyKey: 'k1' });
		m = applyEvent(m, ev({ eventType: 'note-failed', eventId: 'f1', error: 'x' }), T0 + 10);
		expect(m.mine.items[0]).toMatchObject({ status: 'failed', idempotencyKey: 'k1', failedEventId: 'f1' });
		// A refetch (the server does not list it) keeps it, key and all.
		m = replaceFirstPage(m, 'mine', { notes: [] }, T0 + 20, T0 + 30);
		expect(m.mine.items[0]).toMatchObject({ status: 'failed', idempotencyKey: 'k1' });
		m = applyEvent(m, saved({ eventId: 's1' }), T0 + 40);
		expect(m.mine.items[0].status).toBe('saved');
		expect(m.mine.items[0].idempotencyKey).toBeUndefined();
	});

	it('knows no key for a failed note this page did not post', () => {
		const m = applyEvent(emptyModel('ann'), ev({ eventType: 'note-failed', eventId: 'f1', error: 'x' }), T0);
		expect(m.mine.items[0]).toMatchObject({ status: 'failed', failedEventId: 'f1' });
		expect(m.mine.items[0].idempotencyKey).toBeUndefined();
	});

	describe('a failed note sent again under its key (resendAccepted)', () => {
		const failedNote = () => {
			const m = addPending(emptyModel('ann'), { noteId: 'n1', content: 'hello', isPublic: true, idempotencyKey: 'k1' }, T0);
			return applyEvent(m, ev({ eventType: 'note-failed', eventId: 'f1', error: 'The service kept failing.' }), T0 + 10);
		};

		it('goes back to pending on 202, same noteId and key, and waits for its event', () => {
			let m = resendAccepted(failedNote(), 'n1', T0 + 100, T0 + 150);
			expect(m.mine.items).toHaveLength(1);
			expect(m.mine.items[0]).toMatchObject({ noteId: 'n1', status: 'pending', idempotencyKey: 'k1', content: 'hello' });
			expect(m.mine.items[0].error).toBeUndefined();
			expect(m.mine.items[0].failedEventId).toBeUndefined();
			expect(pendingIds(m)).toEqual(['n1']);
			// Saved this time: public, so it joins the feed.
			m = applyEvent(m, saved({ eventId: 's1', savedAt: iso(200) }), T0 + 200);
			expect(m.mine.items[0]).toMatchObject({ noteId: 'n1', status: 'saved' });
			expect(m.feed.items.map((n) => n.noteId)).toEqual(['n1']);
		});

		it('fails again on the identical note-failed', () => {
			let m = resendAccepted(failedNote(), 'n1', T0 + 100, T0 + 150);
			m = applyEvent(m, ev({ eventType: 'note-failed', eventId: 'f1', error: 'The service kept failing.' }), T0 + 200);
			expect(m.mine.items[0]).toMatchObject({ status: 'failed', idempotencyKey: 'k1', failedEventId: 'f1' });
			expect(m.feed.items).toHaveLength(0);
		});

		it('keeps what an event that beat the 202 answer showed', () => {
			const sentAt = T0 + 100;
			const failedAgain = applyEvent(failedNote(), ev({ eventType: 'note-failed', eventId: 'f1', error: 'again' }), sentAt + 5);
			expect(resendAccepted(failedAgain, 'n1', sentAt, sentAt + 10)).toBe(failedAgain);
			const savedMeanwhile = applyEvent(failedNote(), saved({ eventId: 's1' }), sentAt + 5);
			expect(resendAccepted(savedMeanwhile, 'n1', sentAt, sentAt + 10)).toBe(savedMeanwhile);
			expect(savedMeanwhile.mine.items[0].status).toBe('saved');
		});

		it('changes nothing for a note that is gone or not failed', () => {
			const m = failedNote();
			const gone = removeNote(m, 'n1');
			expect(resendAccepted(gone, 'n1', T0 + 100, T0 + 150)).toBe(gone);
			const stored = applyEvent(m, saved({ eventId: 's1' }), T0 + 20);
			expect(resendAccepted(stored, 'n1', T0 + 100, T0 + 150)).toBe(stored);
		});
	});

	it('never shows a dismissed failed note again, even if a redrive stores it before the DELETE lands', () => {
		let m = addPending(emptyModel('ann'), { noteId: 'n1', content: 'hello', isPublic: true, idempotencyKey: 'k1' }, T0);
		m = applyEvent(m, ev({ eventType: 'note-failed', eventId: 'f1', error: 'x' }));
		m = removeNote(m, 'n1');
		expect(m.mine.items).toEqual([]);
		m = applyEvent(m, saved({ eventId: 's1' }));
		m = replaceFirstPage(m, 'mine', { notes: [note()] }, T0);
		m = replaceFirstPage(m, 'feed', { notes: [note()] }, T0);
		expect(m.mine.items).toEqual([]);
		expect(m.feed.items).toEqual([]);
	});

	it('ignores an update older than what is shown', () => {
		let m = applyEvent(emptyModel('ann'), saved(), T0);
		m = applyEvent(m, ev({ eventType: 'note-updated', content: 'v3', isPublic: true, updatedAt: iso(300) }));
		m = applyEvent(m, ev({ eventType: 'note-updated', content: 'v2', isPublic: true, updatedAt: iso(200) }));
		m = applyEvent(m, saved()); // replayed note-saved
		expect(m.mine.items[0].content).toBe('v3');
		expect(m.feed.items[0].content).toBe('v3');
	});

	it('removes a deleted note everywhere, and it never comes back', () => {
		let m = applyEvent(emptyModel('ann'), saved(), T0);
		m = applyEvent(m, ev({ eventType: 'note-deleted', deletedAt: iso(500), wasPublic: true }));
		expect(m.mine.items).toHaveLength(0);
		expect(m.feed.items).toHaveLength(0);
		m = applyEvent(m, saved()); // a late duplicate
		m = replaceFirstPage(m, 'feed', { notes: [note()] }, T0); // a refetch that raced the delete
		expect(m.feed.items).toHaveLength(0);
		expect(m.mine.items).toHaveLength(0);
	});

	it('keeps pending notes and fresh local changes across a refetch, and drops what the server no longer has', () => {
		let m = replaceFirstPage(
			emptyModel('ann'),
			'mine',
			{ notes: [note({ noteId: 'old', isPublic: false }), note({ noteId: 'gone' })], nextCursor: 'c1' },
			T0,
			T0
		);
		m = addPending(m, { noteId: 'p1', content: 'draft', isPublic: false }, T0 + 1000);
		const requestedAt = T0 + 2000;
		m = applyEvent(m, saved({ noteId: 'live', savedAt: iso(3000) }), T0 + 3000); // arrived during the request
		m = replaceFirstPage(m, 'mine', { notes: [note({ noteId: 'old', isPublic: false })] }, requestedAt, T0 + 4000);
		expect(m.mine.items.map((n) => n.noteId).sort()).toEqual(['live', 'old', 'p1']);
		expect(m.mine.nextCursor).toBeUndefined();
		expect(m.mine.loaded).toBe(true);
	});

	it('appends a next page without duplicates, newest first', () => {
		let m = replaceFirstPage(emptyModel('ann'), 'feed', { notes: [note({ noteId: 'b', createdAt: iso(2) })], nextCursor: 'c' }, T0);
		m = appendPage(m, 'feed', { notes: [note({ noteId: 'b', createdAt: iso(2) }), note({ noteId: 'a', createdAt: iso(1) })] });
		expect(m.feed.items.map((n) => n.noteId)).toEqual(['b', 'a']);
		expect(m.feed.nextCursor).toBeUndefined();
	});

	it('applies a PUT answer, and removeNote after a DELETE', () => {
		let m = applyEvent(emptyModel('ann'), saved(), T0);
		m = applyNote(m, note({ content: 'put', isPublic: false, updatedAt: iso(900) }));
		expect(m.mine.items[0]).toMatchObject({ content: 'put', isPublic: false });
		expect(m.feed.items).toHaveLength(0);
		m = removeNote(m, 'n1');
		expect(m.mine.items).toHaveLength(0);
		m = applyEvent(m, ev({ eventType: 'note-updated', content: 'late', isPublic: true, updatedAt: iso(950) }));
		expect(m.feed.items).toHaveLength(0);
	});
});
