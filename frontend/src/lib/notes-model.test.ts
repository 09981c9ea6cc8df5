import { describe, expect, it } from 'vitest';
import {
	addPending,
	appendPage,
	applyEvent,
	applyNote,
	emptyModel,
	isDeleted,
	MAX_MARKS,
	pendingChanges,
	pendingIds,
	pendingNotes,
	removeNote,
	replaceFirstPage,
	resendAccepted,
	restorePending,
	settledSince,
	type NotesModel
} from './notes-model';
import type { FailedNote, Note, NoteEvent } from './types';

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
	version: 1,
	...over
});

let seq = 0;
const ev = (over: Partial<NoteEvent>): NoteEvent => ({
	eventType: 'note-saved',
	eventId: `e${++seq}`,
	timestamp: iso(100),
	noteId: 'n1',
	username: 'ann',
	version: 1,
	...over
});

const saved = (over: Partial<NoteEvent> = {}) =>
	ev({ eventType: 'note-saved', content: 'hello', isPublic: true, savedAt: iso(100), ...over });

const failedNote = (over: Partial<FailedNote> = {}): FailedNote => ({
	noteId: 'n1',
	username: 'ann',
	status: 'failed',
	error: 'The note could not be stored: the service kept failing.',
	createdAt: iso(0),
	failedAt: iso(50),
	version: 1,
	...over
});

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
		m = applyEvent(m, ev({ eventType: 'note-updated', content: 'edited', isPublic: true, wasPublic: true, version: 2 }));
		expect(m.feed.items[0].content).toBe('edited');
		m = applyEvent(m, ev({ eventType: 'note-updated', content: 'secret', isPublic: false, wasPublic: true, version: 3 }));
		expect(m.feed.items).toHaveLength(0);
		m = applyEvent(m, ev({ eventType: 'note-updated', content: 'open again', isPublic: true, wasPublic: false, version: 4 }));
		expect(m.feed.items[0].content).toBe('open again');
	});

	it('drops a note that left the feed when the update carries no content', () => {
		let m = applyEvent(emptyModel('bob'), saved());
		m = applyEvent(
			m,
			ev({ eventType: 'note-updated', isPublic: false, wasPublic: true, updatedAt: iso(500), version: 2 })
		);
		expect(m.feed.items).toEqual([]);
		expect(m.mine.items).toEqual([]);
	});

	it('shows nothing of another user\'s note that left the feed before it was loaded', () => {
		const m = applyEvent(
			emptyModel('bob'),
			ev({ eventType: 'note-updated', isPublic: false, wasPublic: true, updatedAt: iso(500), version: 2 })
		);
		expect(m.feed.items).toEqual([]);
		expect(m.mine.items).toEqual([]);
	});

	it('moves a failed note to saved when a redrive stores it', () => {
		let m = addPending(emptyModel('ann'), { noteId: 'n1', content: 'hello', isPublic: false }, T0);
		m = applyEvent(m, ev({ eventType: 'note-failed', error: 'The service kept failing.' }));
		expect(m.mine.items[0]).toMatchObject({ status: 'failed', error: 'The service kept failing.' });
		// The redrive stores it one version past the failure.
		m = applyEvent(m, saved({ isPublic: false, timestamp: iso(5000), savedAt: iso(5000), version: 2 }));
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
		m = applyEvent(m, saved({ eventId: 's1', version: 2 }), T0 + 40);
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
			m = applyEvent(m, saved({ eventId: 's1', savedAt: iso(200), version: 2 }), T0 + 200);
			expect(m.mine.items[0]).toMatchObject({ noteId: 'n1', status: 'saved' });
			expect(m.feed.items.map((n) => n.noteId)).toEqual(['n1']);
		});

		it('fails again on the identical note-failed (the same version: it settles a pending note)', () => {
			let m = resendAccepted(failedNote(), 'n1', T0 + 100, T0 + 150);
			m = applyEvent(m, ev({ eventType: 'note-failed', eventId: 'f1', error: 'The service kept failing.' }), T0 + 200);
			expect(m.mine.items[0]).toMatchObject({ status: 'failed', idempotencyKey: 'k1', failedEventId: 'f1' });
			expect(m.feed.items).toHaveLength(0);
		});

		it('keeps what an event that beat the 202 answer showed', () => {
			const sentAt = T0 + 100;
			const savedMeanwhile = applyEvent(failedNote(), saved({ eventId: 's1', version: 2 }), sentAt + 5);
			expect(resendAccepted(savedMeanwhile, 'n1', sentAt, sentAt + 10)).toBe(savedMeanwhile);
			expect(savedMeanwhile.mine.items[0].status).toBe('saved');
		});

		it('drops a copy of the note-failed it already shows (the same version) that beat the 202 answer', () => {
			const sentAt = T0 + 100;
			const failed = failedNote();
			expect(applyEvent(failed, ev({ eventType: 'note-failed', eventId: 'f1', error: 'again' }), sentAt + 5)).toBe(failed);
			expect(resendAccepted(failed, 'n1', sentAt, sentAt + 10).mine.items[0].status).toBe('pending');
		});

		it('changes nothing for a note that is gone or not failed', () => {
			const m = failedNote();
			const gone = removeNote(m, 'n1');
			expect(resendAccepted(gone, 'n1', T0 + 100, T0 + 150)).toBe(gone);
			const stored = applyEvent(m, saved({ eventId: 's1', version: 2 }), T0 + 20);
			expect(resendAccepted(stored, 'n1', T0 + 100, T0 + 150)).toBe(stored);
		});
	});

	it('never shows a dismissed failed note again, even if a redrive stores it before the DELETE lands', () => {
		let m = addPending(emptyModel('ann'), { noteId: 'n1', content: 'hello', isPublic: true, idempotencyKey: 'k1' }, T0);
		m = applyEvent(m, ev({ eventType: 'note-failed', eventId: 'f1', error: 'x' }));
		m = removeNote(m, 'n1');
		expect(m.mine.items).toEqual([]);
		m = applyEvent(m, saved({ eventId: 's1', version: 2 }));
		m = replaceFirstPage(m, 'mine', { notes: [note({ version: 2 })] }, T0);
		m = replaceFirstPage(m, 'feed', { notes: [note()] }, T0);
		expect(m.mine.items).toEqual([]);
		expect(m.feed.items).toEqual([]);
	});

	it('ignores an update older than what is shown', () => {
		let m = applyEvent(emptyModel('ann'), saved(), T0);
		m = applyEvent(m, ev({ eventType: 'note-updated', content: 'v3', isPublic: true, version: 3 }));
		m = applyEvent(m, ev({ eventType: 'note-updated', content: 'v2', isPublic: true, version: 2 }));
		m = applyEvent(m, saved()); // replayed note-saved (v1)
		expect(m.mine.items[0].content).toBe('v3');
		expect(m.feed.items[0].content).toBe('v3');
	});

	it('removes a deleted note everywhere, and it never comes back', () => {
		let m = applyEvent(emptyModel('ann'), saved(), T0);
		m = applyEvent(m, ev({ eventType: 'note-deleted', deletedAt: iso(500), wasPublic: true, version: 2 }));
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
		m = applyNote(m, note({ content: 'put', isPublic: false, updatedAt: iso(900), version: 2 }));
		expect(m.mine.items[0]).toMatchObject({ content: 'put', isPublic: false });
		expect(m.feed.items).toHaveLength(0);
		m = removeNote(m, 'n1');
		expect(m.mine.items).toHaveLength(0);
		m = applyEvent(m, ev({ eventType: 'note-updated', content: 'late', isPublic: true, updatedAt: iso(950), version: 3 }));
		expect(m.feed.items).toHaveLength(0);
	});

	describe.each([
		{ whose: 'my own note', me: 'ann' },
		{ whose: "someone else's note", me: 'bob' }
	])('late, repeated and out-of-order events: $whose', ({ me }) => {
		const mine = me === 'ann';
		/** v is the version. */
		const savedV = (v: number, content: string) => saved({ content, version: v });
		/** As the server pushes it: another user gets no content for a note that left the feed. */
		const updatedV = (v: number, content: string, isPublic: boolean, wasPublic = true) =>
			ev({
				eventType: 'note-updated',
				isPublic,
				wasPublic,
				updatedAt: iso(v * 100),
				version: v,
				...(isPublic || mine ? { content } : {})
			});
		const deletedV = (v: number) => ev({ eventType: 'note-deleted', deletedAt: iso(v * 100), wasPublic: true, version: v });
		const shown = (m: NotesModel) => ({
			mine: m.mine.items.map((n) => [n.content, n.isPublic]),
			feed: m.feed.items.map((n) => n.content)
		});
		/** What the lists should hold when the note shows `content` (public or not). */
		const expected = (content: string, isPublic: boolean) => ({
			mine: mine ? [[content, isPublic]] : [],
			feed: isPublic ? [content] : []
		});
		const apply = (...events: NoteEvent[]) => events.reduce((m, e) => applyEvent(m, e, T0), emptyModel(me));

		it('shows v2 when a late note-saved v1 follows a note-updated v2', () => {
			const m = apply(updatedV(2, 'v2', true, true));
			expect(shown(m)).toEqual(expected('v2', true));
			expect(applyEvent(m, savedV(1, 'v1'), T0)).toBe(m);
			// After the note-saved, an older note-updated is just as late.
			const later = apply(savedV(1, 'v1'), updatedV(3, 'v3', true), updatedV(2, 'v2', true));
			expect(shown(later)).toEqual(expected('v3', true));
		});

		it('keeps a note made private (v2) out of the feed when a late public v1 comes', () => {
			const m = apply(savedV(1, 'v0'), updatedV(3, 'v2', false), updatedV(2, 'v1', true));
			expect(shown(m)).toEqual(expected('v2', false));
			// Never shown before: the private v2 comes first, its older public versions after it.
			const first = apply(updatedV(3, 'v2', false), savedV(1, 'v0'), updatedV(2, 'v1', true));
			expect(first.feed.items).toEqual([]);
			if (mine) expect(shown(first)).toEqual(expected('v2', false));
			else expect(first.mine.items).toEqual([]);
		});

		it('never brings back a deleted note, from a late or even a newer-versioned event', () => {
			let m = apply(savedV(1, 'v0'), deletedV(3));
			expect(shown(m)).toEqual({ mine: [], feed: [] });
			expect(isDeleted(m, 'n1')).toBe(true);
			for (const late of [savedV(1, 'v0'), updatedV(2, 'v1', true), updatedV(3, 'v1', true), updatedV(4, 'skew', true)]) {
				expect(applyEvent(m, late, T0)).toBe(m);
			}
			// Deleted before its note-saved ever came.
			m = apply(deletedV(3), savedV(1, 'v0'));
			expect(shown(m)).toEqual({ mine: [], feed: [] });
			// Nor from a refetch that raced the delete, or a single note's GET.
			m = replaceFirstPage(m, 'feed', { notes: [note()] }, T0, T0);
			m = replaceFirstPage(m, 'mine', { notes: mine ? [note()] : [] }, T0, T0);
			m = appendPage(m, 'feed', { notes: [note({ version: 9 })] }, T0);
			m = applyNote(m, note({ version: 9 }), T0);
			expect(shown(m)).toEqual({ mine: [], feed: [] });
		});

		it('follows public, private and public again (v3) delivered in order', () => {
			const m = apply(savedV(1, 'v1'), updatedV(2, 'v2', false), updatedV(3, 'v3', true, false));
			expect(shown(m)).toEqual(expected('v3', true));
			expect(m.feed.items[0]).toMatchObject({ noteId: 'n1', version: 3, username: 'ann' });
		});

		it('ends on the newest version whatever the order, never showing an older one after a newer one', () => {
			const events = [savedV(1, 'v1'), updatedV(2, 'v2', true), updatedV(3, 'v3', false), updatedV(4, 'v4', true, false)];
			for (const order of permutations(events)) {
				let m = emptyModel(me);
				let newest = -Infinity;
				for (const e of order) {
					m = applyEvent(m, e, T0);
					for (const n of [...m.mine.items, ...m.feed.items]) expect(n.version).toBeGreaterThanOrEqual(newest);
					for (const n of [...m.mine.items, ...m.feed.items]) newest = Math.max(newest, n.version);
					// v3 is private: once it was applied, nothing older is in the feed.
					if (order.indexOf(e) >= order.indexOf(events[2])) {
						expect(m.feed.items.filter((n) => n.version < 3)).toEqual([]);
					}
				}
				expect(shown(m)).toEqual(expected('v4', true));
			}
		});

		it('lets a delete win whatever the order', () => {
			for (const order of permutations([savedV(1, 'v1'), updatedV(2, 'v2', true), deletedV(3)])) {
				expect(shown(apply(...order))).toEqual({ mine: [], feed: [] });
			}
		});

		it('is not changed by a repeated event (same version), whatever its eventId', () => {
			const sequence = [savedV(1, 'v1'), updatedV(2, 'v2', true), updatedV(3, 'v3', false), updatedV(4, 'v4', true, false), deletedV(5)];
			let m = emptyModel(me);
			for (const e of sequence) {
				m = applyEvent(m, e, T0);
				expect(applyEvent(m, e, T0 + 50)).toBe(m);
				expect(applyEvent(m, { ...e, eventId: `${e.eventId}-again` }, T0 + 50)).toBe(m);
			}
			expect(shown(m)).toEqual({ mine: [], feed: [] });
		});

		it('lets a refetch bring a note back to the feed only with a version newer than when it left', () => {
			let m = apply(savedV(1, 'v1'), updatedV(2, 'v2', false));
			// A snapshot from before it left (the request raced the change): not back.
			const stale = note({ content: 'v1', version: 1 });
			m = replaceFirstPage(m, 'feed', { notes: [stale] }, T0, T0);
			m = appendPage(m, 'feed', { notes: [stale] }, T0);
			expect(m.feed.items).toEqual([]);
			// A newer public version (made public again while we were offline): back.
			m = replaceFirstPage(m, 'feed', { notes: [note({ content: 'v3', version: 3 })] }, T0, T0);
			expect(m.feed.items.map((n) => n.content)).toEqual(['v3']);
			// And once more out: a late public event of v3 or older cannot undo that.
			m = applyEvent(m, updatedV(4, 'v4', false), T0);
			m = applyEvent(m, updatedV(3, 'v3', true), T0);
			m = appendPage(m, 'feed', { notes: [note({ content: 'v3', version: 3 })] }, T0);
			expect(m.feed.items).toEqual([]);
		});
	});

	describe('numeric versions: the highest version seen per note wins', () => {
		const updated = (version: number, content: string) =>
			ev({ eventType: 'note-updated', content, isPublic: true, wasPublic: true, version });
		const deleted = (version: number) => ev({ eventType: 'note-deleted', wasPublic: true, version });
		const failed = (version: number, error = 'the service kept failing') => ev({ eventType: 'note-failed', error, version });

		it('note-updated v3 arriving before v2: v2 is dropped', () => {
			let m = applyEvent(emptyModel('ann'), saved(), T0);
			m = applyEvent(m, updated(3, 'v3'), T0);
			expect(applyEvent(m, updated(2, 'v2'), T0)).toBe(m);
			expect(m.mine.items[0]).toMatchObject({ content: 'v3', version: 3 });
			expect(m.feed.items[0]).toMatchObject({ content: 'v3', version: 3 });
		});

		it('note-deleted v4 then note-updated v3: the note stays deleted', () => {
			let m = applyEvent(emptyModel('ann'), saved(), T0);
			m = applyEvent(m, deleted(4), T0);
			expect(applyEvent(m, updated(3, 'v3'), T0)).toBe(m);
			expect(m.mine.items).toEqual([]);
			expect(m.feed.items).toEqual([]);
			expect(isDeleted(m, 'n1')).toBe(true);
		});

		it('note-saved after note-failed for the same note with a higher version (a redrive stored it): shows saved', () => {
			let m = addPending(emptyModel('ann'), { noteId: 'n1', content: 'hello', isPublic: true, idempotencyKey: 'k1' }, T0);
			m = applyEvent(m, failed(1), T0);
			expect(m.mine.items[0]).toMatchObject({ status: 'failed', version: 1 });
			m = applyEvent(m, saved({ version: 2 }), T0);
			expect(m.mine.items).toHaveLength(1);
			expect(m.mine.items[0]).toMatchObject({ status: 'saved', content: 'hello', version: 2 });
			expect(m.feed.items.map((n) => n.noteId)).toEqual(['n1']);
		});

		it('note-failed with a version lower than a held saved note: dropped', () => {
			const m = applyEvent(emptyModel('ann'), saved({ version: 2 }), T0);
			expect(applyEvent(m, failed(1), T0)).toBe(m);
			expect(m.mine.items[0]).toMatchObject({ status: 'saved', version: 2 });
		});

		it('an event of the version held is the same state: a duplicate, dropped whatever its eventId', () => {
			const m = applyEvent(emptyModel('ann'), updated(2, 'v2'), T0);
			expect(applyEvent(m, updated(2, 'something else'), T0 + 5)).toBe(m);
			expect(applyEvent(m, deleted(2), T0 + 5)).toBe(m);
			expect(m.mine.items[0].content).toBe('v2');
		});

		it('keeps the version a list page brought: an event of a lower one is dropped', () => {
			const m = replaceFirstPage(emptyModel('ann'), 'mine', { notes: [note({ content: 'v5', version: 5 })] }, T0, T0);
			expect(applyEvent(m, updated(4, 'v4'), T0)).toBe(m);
			expect(m.mine.items[0]).toMatchObject({ content: 'v5', version: 5 });
		});

		it('drops a fetched note of a lower version than the one an event brought (GET, first page, "Load more")', () => {
			const m = applyEvent(emptyModel('ann'), updated(6, 'v6'), T0);
			const older = note({ content: 'v5', version: 5 });
			expect(applyNote(m, older, T0)).toBe(m);
			const shown = (x: NotesModel) => [...x.mine.items, ...x.feed.items].map((n) => [n.content, n.version]);
			expect(shown(replaceFirstPage(m, 'mine', { notes: [older] }, T0 - 1, T0))).toEqual([['v6', 6], ['v6', 6]]);
			expect(shown(appendPage(m, 'feed', { notes: [older] }, T0))).toEqual([['v6', 6], ['v6', 6]]);
		});
	});

	describe('failed notes the server lists (GET /notes, GET /notes/{noteId})', () => {
		it('shows a failed note this page did not post with the server\'s reason, no text and no key (Dismiss only)', () => {
			const m = replaceFirstPage(emptyModel('ann'), 'mine', { notes: [failedNote()] }, T0, T0);
			expect(m.mine.items).toHaveLength(1);
			expect(m.mine.items[0]).toMatchObject({
				noteId: 'n1',
				status: 'failed',
				error: 'The note could not be stored: the service kept failing.',
				content: '',
				version: 1,
				createdAt: iso(0),
				failedAt: iso(50)
			});
			expect(m.mine.items[0].idempotencyKey).toBeUndefined();
			expect(m.feed.items).toEqual([]);
		});

		it('keeps the text and key of a note this page posted when the list says it failed', () => {
			let m = addPending(emptyModel('ann'), { noteId: 'n1', content: 'hello', isPublic: true, idempotencyKey: 'k1' }, T0);
			m = replaceFirstPage(m, 'mine', { notes: [failedNote()] }, T0 + 10, T0 + 20);
			expect(m.mine.items[0]).toMatchObject({ status: 'failed', content: 'hello', isPublic: true, idempotencyKey: 'k1' });
			// The same failure listed again keeps what this page knows.
			m = replaceFirstPage(m, 'mine', { notes: [failedNote()] }, T0 + 30, T0 + 40);
			expect(m.mine.items[0]).toMatchObject({ status: 'failed', content: 'hello', idempotencyKey: 'k1' });
		});

		it('never puts a failed note in the public feed', () => {
			let m = addPending(emptyModel('ann'), { noteId: 'n1', content: 'hello', isPublic: true, idempotencyKey: 'k1' }, T0);
			m = replaceFirstPage(m, 'feed', { notes: [failedNote()] }, T0 + 10, T0 + 20);
			m = applyNote(m, failedNote(), T0 + 30, T0 + 25);
			expect(m.feed.items).toEqual([]);
		});

		it('shows saved a failed note the list then has stored at a higher version (a redrive)', () => {
			let m = replaceFirstPage(emptyModel('ann'), 'mine', { notes: [failedNote()] }, T0, T0);
			m = replaceFirstPage(m, 'mine', { notes: [note({ version: 2 })] }, T0 + 10, T0 + 20);
			expect(m.mine.items).toHaveLength(1);
			expect(m.mine.items[0]).toMatchObject({ status: 'saved', content: 'hello', version: 2 });
		});
	});

	describe('settling a pending note from the server\'s answer', () => {
		const posted = () =>
			addPending(emptyModel('ann'), { noteId: 'n1', content: 'hello', isPublic: false, idempotencyKey: 'k1' }, T0);

		it('GET /notes/{noteId} answers saved: shows it saved', () => {
			const m = applyNote(posted(), note({ isPublic: false }), T0 + 20, T0 + 10);
			expect(m.mine.items[0]).toMatchObject({ status: 'saved', content: 'hello', version: 1 });
			expect(pendingIds(m)).toEqual([]);
		});

		it('GET /notes/{noteId} answers failed: shows it failed with exactly the server\'s error, Try again kept', () => {
			const m = applyNote(posted(), failedNote({ error: 'content was refused by the store' }), T0 + 20, T0 + 10);
			expect(m.mine.items[0]).toMatchObject({
				status: 'failed',
				error: 'content was refused by the store',
				content: 'hello',
				idempotencyKey: 'k1'
			});
		});

		it('a note sent again after it failed (v1) settles from an answer of the same version requested after it went pending', () => {
			let m = applyEvent(posted(), ev({ eventType: 'note-failed', eventId: 'f1', error: 'first', version: 1 }), T0 + 10);
			m = resendAccepted(m, 'n1', T0 + 20, T0 + 30);
			expect(m.mine.items[0]).toMatchObject({ status: 'pending', version: 1 });
			// An answer to a request sent before it went pending again may predate the resend: kept pending.
			expect(applyNote(m, failedNote({ error: 'again' }), T0 + 40, T0 + 25)).toBe(m);
			m = applyNote(m, failedNote({ error: 'again' }), T0 + 50, T0 + 40);
			expect(m.mine.items[0]).toMatchObject({ status: 'failed', error: 'again', content: 'hello', idempotencyKey: 'k1' });
		});

		it('tells which pending notes an answer settled', () => {
			const before = addPending(posted(), { noteId: 'n2', content: 'two', isPublic: false, idempotencyKey: 'k2' }, T0);
			const after = applyNote(before, failedNote(), T0 + 20, T0 + 10);
			expect(settledSince(before, after).map((n) => [n.noteId, n.status])).toEqual([['n1', 'failed']]);
			expect(settledSince(after, after)).toEqual([]);
		});
	});

	describe('pending notes across a reload', () => {
		it('restores pending notes with their text, visibility and key, in their place by posting time', () => {
			let m = replaceFirstPage(emptyModel('ann'), 'mine', { notes: [note({ noteId: 'old', createdAt: iso(-5000) })] }, T0, T0);
			m = restorePending(
				m,
				[
					{ noteId: 'p1', content: 'one', isPublic: true, idempotencyKey: 'k1', createdAt: iso(-1000) },
					{ noteId: 'p2', content: 'two', isPublic: false, idempotencyKey: 'k2', createdAt: iso(-9000) }
				],
				T0
			);
			expect(m.mine.items.map((n) => [n.noteId, n.status])).toEqual([
				['p1', 'pending'],
				['old', 'saved'],
				['p2', 'pending']
			]);
			expect(m.mine.items[0]).toMatchObject({ content: 'one', isPublic: true, idempotencyKey: 'k1', version: 0 });
			expect(pendingNotes(m)).toEqual([
				{ noteId: 'p1', content: 'one', isPublic: true, idempotencyKey: 'k1', createdAt: iso(-1000) },
				{ noteId: 'p2', content: 'two', isPublic: false, idempotencyKey: 'k2', createdAt: iso(-9000) }
			]);
		});

		it('tells what to write down: the notes gone pending, and the ids no longer pending', () => {
			const a = addPending(emptyModel('ann'), { noteId: 'n1', content: 'hello', isPublic: false, idempotencyKey: 'k1' }, T0);
			expect(pendingChanges(emptyModel('ann'), a)).toEqual({
				add: [{ noteId: 'n1', content: 'hello', isPublic: false, idempotencyKey: 'k1', createdAt: iso(0) }],
				remove: []
			});
			const b = applyEvent(a, saved({ isPublic: false }), T0 + 10);
			expect(pendingChanges(a, b)).toEqual({ add: [], remove: ['n1'] });
			expect(pendingChanges(b, b)).toEqual({ add: [], remove: [] });
			const c = removeNote(a, 'n1');
			expect(pendingChanges(a, c)).toEqual({ add: [], remove: ['n1'] });
		});
	});

	describe('versions kept per note', () => {
		const uuid7 = (ms: number, n: number) =>
			`${ms.toString(16).padStart(12, '0').replace(/^(.{8})/, '$1-')}-7000-8000-${n.toString(16).padStart(12, '0')}`;

		it('ignores a PUT answer or GET older than an event already applied', () => {
			let m = applyEvent(emptyModel('ann'), saved(), T0);
			m = applyEvent(m, ev({ eventType: 'note-updated', content: 'v3', isPublic: false, wasPublic: true, version: 3 }), T0);
			expect(applyNote(m, note({ content: 'v2', isPublic: true, version: 2 }), T0)).toBe(m);
			m = applyNote(m, note({ content: 'v4', isPublic: true, version: 4 }), T0);
			expect(m.mine.items.map((n) => n.content)).toEqual(['v4']);
			expect(m.feed.items.map((n) => n.content)).toEqual(['v4']);
		});

		it('keeps my note made private out of a feed refetch that predates it', () => {
			let m = replaceFirstPage(emptyModel('ann'), 'feed', { notes: [note()] }, T0, T0);
			m = replaceFirstPage(m, 'mine', { notes: [note()] }, T0, T0);
			m = applyEvent(m, ev({ eventType: 'note-updated', content: 'secret', isPublic: false, wasPublic: true, version: 2 }), T0);
			m = replaceFirstPage(m, 'feed', { notes: [note()] }, T0 - 1, T0 + 10);
			m = replaceFirstPage(m, 'mine', { notes: [note()] }, T0 - 1, T0 + 10);
			expect(m.feed.items).toEqual([]);
			expect(m.mine.items.map((n) => [n.content, n.isPublic])).toEqual([['secret', false]]);
		});

		it('puts my updated note in my list when it falls within the pages loaded, and waits for "Load more" otherwise', () => {
			const [old, mid, fresh] = [uuid7(T0 - 3000, 1), uuid7(T0 - 2000, 2), uuid7(T0 - 1000, 3)];
			let m = replaceFirstPage(
				emptyModel('ann'),
				'mine',
				{ notes: [note({ noteId: mid, createdAt: iso(-2000), isPublic: false })], nextCursor: 'c1' },
				T0,
				T0
			);
			const upd = (noteId: string, v: number) =>
				ev({ eventType: 'note-updated', noteId, content: `edited ${noteId}`, isPublic: false, wasPublic: false, version: v });
			m = applyEvent(m, upd(fresh, 2), T0);
			m = applyEvent(m, upd(old, 2), T0);
			expect(m.mine.items.map((n) => n.noteId)).toEqual([fresh, mid]);
			// The late note-saved of the new note changes nothing.
			expect(applyEvent(m, saved({ noteId: fresh, isPublic: false, savedAt: iso(100) }), T0)).toBe(m);
			// A "Load more" answer older than that update (the request raced it) leaves the note out
			// rather than show older text; the next answer brings it.
			const staleOld = note({ noteId: old, createdAt: iso(-3000), content: 'before', isPublic: false });
			expect(appendPage(m, 'mine', { notes: [staleOld] }, T0).mine.items.map((n) => n.noteId)).toEqual([fresh, mid]);
			// "Load more" brings the old one at the version the update showed.
			m = appendPage(m, 'mine', { notes: [note({ noteId: old, createdAt: iso(-3000), content: `edited ${old}`, isPublic: false, version: 2 })] }, T0);
			expect(m.mine.items.map((n) => [n.noteId, n.content])).toEqual([
				[fresh, `edited ${fresh}`],
				[mid, 'hello'],
				[old, `edited ${old}`]
			]);
		});

		it('does not fail a note whose stored version was seen', () => {
			let m = applyEvent(emptyModel('ann'), saved({ isPublic: false }), T0);
			m = removeNote(replaceFirstPage(m, 'mine', { notes: [] }, T0 + 1, T0 + 2), 'other');
			expect(applyEvent(m, ev({ eventType: 'note-failed', error: 'late' }), T0)).toBe(m);
			expect(addPending(m, { noteId: 'n1', content: 'hello', isPublic: false }, T0)).toBe(m);
		});

		it(`remembers at most ${MAX_MARKS} notes, forgetting the least recently recorded first`, () => {
			let m = removeNote(emptyModel('bob'), 'gone');
			m = applyEvent(m, ev({ noteId: 'left', eventType: 'note-updated', isPublic: false, wasPublic: true, version: 3 }), T0);
			const page = (from: number, count: number) => ({
				notes: Array.from({ length: count }, (_, i) => note({ noteId: `p${from + i}` }))
			});
			m = replaceFirstPage(m, 'feed', page(0, MAX_MARKS - 2), T0, T0);
			expect(m.marks.size).toBe(MAX_MARKS);
			expect(isDeleted(m, 'gone')).toBe(true);
			expect(applyEvent(m, saved({ noteId: 'gone' }), T0)).toBe(m);
			// p0 listed again: recorded anew, so it is now among the most recent.
			m = replaceFirstPage(m, 'feed', { notes: [note({ noteId: 'p0' }), ...page(MAX_MARKS, 1).notes] }, T0, T0);
			expect(m.marks.size).toBe(MAX_MARKS);
			expect(m.marks.has('gone')).toBe(false); // the oldest went first
			expect(m.marks.get('left')).toEqual({ version: 3, state: 'seen' });
			m = replaceFirstPage(m, 'feed', page(MAX_MARKS + 1, 2), T0, T0);
			expect(m.marks.size).toBe(MAX_MARKS);
			expect(m.marks.has('left')).toBe(false);
			expect(m.marks.has('p1')).toBe(false);
			expect(m.marks.has('p0')).toBe(true);
			// Forgotten, a deleted note is no longer guarded against a late event: the bound's price.
			expect(applyEvent(m, saved({ noteId: 'gone' }), T0).feed.items.some((n) => n.noteId === 'gone')).toBe(true);
		});
	});
});

function permutations<T>(items: T[]): T[][] {
	if (items.length <= 1) return [items];
	return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}
