import { describe, expect, it } from 'vitest';
import {
	addPending,
	appendPage,
	applyEvent,
	applyNote,
	emptyModel,
	isDeleted,
	MAX_MARKS,
	pendingIds,
	removeNote,
	replaceFirstPage,
	resendAccepted,
	type NotesModel
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

	describe.each([
		{ whose: 'my own note', me: 'ann' },
		{ whose: "someone else's note", me: 'bob' }
	])('late, repeated and out-of-order events: $whose', ({ me }) => {
		const mine = me === 'ann';
		/** v is the version, in ms after T0. */
		const savedV = (v: number, content: string) => saved({ content, savedAt: iso(v), timestamp: iso(v) });
		/** As the server pushes it: another user gets no content for a note that left the feed. */
		const updatedV = (v: number, content: string, isPublic: boolean, wasPublic = true) =>
			ev({
				eventType: 'note-updated',
				isPublic,
				wasPublic,
				updatedAt: iso(v),
				timestamp: iso(v),
				...(isPublic || mine ? { content } : {})
			});
		const deletedV = (v: number) => ev({ eventType: 'note-deleted', deletedAt: iso(v), timestamp: iso(v), wasPublic: true });
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
			const m = apply(updatedV(200, 'v2', true, true));
			expect(shown(m)).toEqual(expected('v2', true));
			expect(applyEvent(m, savedV(100, 'v1'), T0)).toBe(m);
			// After the note-saved, an older note-updated is just as late.
			const later = apply(savedV(100, 'v1'), updatedV(300, 'v3', true), updatedV(200, 'v2', true));
			expect(shown(later)).toEqual(expected('v3', true));
		});

		it('keeps a note made private (v2) out of the feed when a late public v1 comes', () => {
			const m = apply(savedV(100, 'v0'), updatedV(300, 'v2', false), updatedV(200, 'v1', true));
			expect(shown(m)).toEqual(expected('v2', false));
			// Never shown before: the private v2 comes first, its older public versions after it.
			const first = apply(updatedV(300, 'v2', false), savedV(100, 'v0'), updatedV(200, 'v1', true));
			expect(first.feed.items).toEqual([]);
			if (mine) expect(shown(first)).toEqual(expected('v2', false));
			else expect(first.mine.items).toEqual([]);
		});

		it('never brings back a deleted note, from a late or even a newer-stamped event', () => {
			let m = apply(savedV(100, 'v0'), deletedV(300));
			expect(shown(m)).toEqual({ mine: [], feed: [] });
			expect(isDeleted(m, 'n1')).toBe(true);
			for (const late of [savedV(100, 'v0'), updatedV(200, 'v1', true), updatedV(300, 'v1', true), updatedV(400, 'skew', true)]) {
				expect(applyEvent(m, late, T0)).toBe(m);
			}
			// Deleted before its note-saved ever came.
			m = apply(deletedV(300), savedV(100, 'v0'));
			expect(shown(m)).toEqual({ mine: [], feed: [] });
			// Nor from a refetch that raced the delete, or a single note's GET.
			m = replaceFirstPage(m, 'feed', { notes: [note()] }, T0, T0);
			m = replaceFirstPage(m, 'mine', { notes: mine ? [note()] : [] }, T0, T0);
			m = appendPage(m, 'feed', { notes: [note({ updatedAt: iso(900) })] }, T0);
			m = applyNote(m, note({ updatedAt: iso(900) }), T0);
			expect(shown(m)).toEqual({ mine: [], feed: [] });
		});

		it('follows public, private and public again (v3) delivered in order', () => {
			const m = apply(savedV(100, 'v1'), updatedV(200, 'v2', false), updatedV(300, 'v3', true, false));
			expect(shown(m)).toEqual(expected('v3', true));
			expect(m.feed.items[0]).toMatchObject({ noteId: 'n1', changedAt: T0 + 300, username: 'ann' });
		});

		it('ends on the newest version whatever the order, never showing an older one after a newer one', () => {
			const events = [savedV(100, 'v1'), updatedV(200, 'v2', true), updatedV(300, 'v3', false), updatedV(400, 'v4', true, false)];
			for (const order of permutations(events)) {
				let m = emptyModel(me);
				let newest = -Infinity;
				for (const e of order) {
					m = applyEvent(m, e, T0);
					for (const n of [...m.mine.items, ...m.feed.items]) expect(n.changedAt).toBeGreaterThanOrEqual(newest);
					for (const n of [...m.mine.items, ...m.feed.items]) newest = Math.max(newest, n.changedAt);
					// v3 is private: once it was applied, nothing older is in the feed.
					if (order.indexOf(e) >= order.indexOf(events[2])) {
						expect(m.feed.items.filter((n) => n.changedAt < T0 + 300)).toEqual([]);
					}
				}
				expect(shown(m)).toEqual(expected('v4', true));
			}
		});

		it('lets a delete win whatever the order', () => {
			for (const order of permutations([savedV(100, 'v1'), updatedV(200, 'v2', true), deletedV(300)])) {
				expect(shown(apply(...order))).toEqual({ mine: [], feed: [] });
			}
		});

		it('is not changed by a repeated event (same version), whatever its eventId', () => {
			const sequence = [savedV(100, 'v1'), updatedV(200, 'v2', true), updatedV(300, 'v3', false), updatedV(400, 'v4', true, false), deletedV(500)];
			let m = emptyModel(me);
			for (const e of sequence) {
				m = applyEvent(m, e, T0);
				expect(applyEvent(m, e, T0 + 50)).toBe(m);
				expect(applyEvent(m, { ...e, eventId: `${e.eventId}-again` }, T0 + 50)).toBe(m);
			}
			expect(shown(m)).toEqual({ mine: [], feed: [] });
		});

		it('lets a refetch bring a note back to the feed only with a version newer than when it left', () => {
			let m = apply(savedV(100, 'v1'), updatedV(300, 'v2', false));
			// A snapshot from before it left (the request raced the change): not back.
			const stale = note({ content: 'v1', savedAt: iso(100), updatedAt: iso(200) });
			m = replaceFirstPage(m, 'feed', { notes: [stale] }, T0, T0);
			m = appendPage(m, 'feed', { notes: [stale] }, T0);
			expect(m.feed.items).toEqual([]);
			if (!mine) {
				// Someone else's note, listed at the very version it left at: only a newer one brings it back.
				const same = replaceFirstPage(m, 'feed', { notes: [note({ content: 'v2', updatedAt: iso(300) })] }, T0, T0);
				expect(same.feed.items).toEqual([]);
			}
			// A newer public version (made public again while we were offline): back.
			m = replaceFirstPage(m, 'feed', { notes: [note({ content: 'v3', updatedAt: iso(400) })] }, T0, T0);
			expect(m.feed.items.map((n) => n.content)).toEqual(['v3']);
			// And once more out: a late public event of v3 or older cannot undo that.
			m = applyEvent(m, updatedV(500, 'v4', false), T0);
			m = applyEvent(m, updatedV(400, 'v3', true), T0);
			m = appendPage(m, 'feed', { notes: [note({ content: 'v3', updatedAt: iso(400) })] }, T0);
			expect(m.feed.items).toEqual([]);
		});
	});

	describe('versions kept per note', () => {
		const uuid7 = (ms: number, n: number) =>
			`${ms.toString(16).padStart(12, '0').replace(/^(.{8})/, '$1-')}-7000-8000-${n.toString(16).padStart(12, '0')}`;

		it('ignores a PUT answer or GET older than an event already applied', () => {
			let m = applyEvent(emptyModel('ann'), saved(), T0);
			m = applyEvent(m, ev({ eventType: 'note-updated', content: 'v3', isPublic: false, wasPublic: true, updatedAt: iso(300) }), T0);
			expect(applyNote(m, note({ content: 'v2', isPublic: true, updatedAt: iso(200) }), T0)).toBe(m);
			m = applyNote(m, note({ content: 'v4', isPublic: true, updatedAt: iso(400) }), T0);
			expect(m.mine.items.map((n) => n.content)).toEqual(['v4']);
			expect(m.feed.items.map((n) => n.content)).toEqual(['v4']);
		});

		it('keeps my note made private out of a feed refetch that predates it', () => {
			let m = replaceFirstPage(emptyModel('ann'), 'feed', { notes: [note()] }, T0, T0);
			m = replaceFirstPage(m, 'mine', { notes: [note()] }, T0, T0);
			m = applyEvent(m, ev({ eventType: 'note-updated', content: 'secret', isPublic: false, wasPublic: true, updatedAt: iso(300) }), T0);
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
				ev({ eventType: 'note-updated', noteId, content: `edited ${noteId}`, isPublic: false, wasPublic: false, updatedAt: iso(v) });
			m = applyEvent(m, upd(fresh, 500), T0);
			m = applyEvent(m, upd(old, 500), T0);
			expect(m.mine.items.map((n) => n.noteId)).toEqual([fresh, mid]);
			// The late note-saved of the new note changes nothing.
			expect(applyEvent(m, saved({ noteId: fresh, isPublic: false, savedAt: iso(100) }), T0)).toBe(m);
			// A "Load more" answer older than that update (the request raced it) leaves the note out
			// rather than show older text; the next answer brings it.
			const staleOld = note({ noteId: old, createdAt: iso(-3000), content: 'before', isPublic: false });
			expect(appendPage(m, 'mine', { notes: [staleOld] }, T0).mine.items.map((n) => n.noteId)).toEqual([fresh, mid]);
			// "Load more" brings the old one at the version the update showed.
			m = appendPage(m, 'mine', { notes: [note({ noteId: old, createdAt: iso(-3000), content: `edited ${old}`, isPublic: false, updatedAt: iso(500) })] }, T0);
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
			m = applyEvent(m, ev({ noteId: 'left', eventType: 'note-updated', isPublic: false, wasPublic: true, updatedAt: iso(300) }), T0);
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
			expect(m.marks.get('left')).toEqual({ version: T0 + 300, state: 'left' });
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
