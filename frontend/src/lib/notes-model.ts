import type { Note, NoteEvent, NotePage } from './types';

/**
 * The dashboard's two lists and how events, REST answers and refetches change them.
 * Pure functions over immutable data: every change returns a new model, so the Svelte page
 * keeps it in `$state.raw` and the rules here are unit-tested without a browser.
 *
 * Events come at least once and in no order (EventBridge and Lambda's asynchronous invocations
 * keep none), so each one is judged by the version of the note it shows: `savedAt` for
 * note-saved, `updatedAt` for note-updated, `deletedAt` for note-deleted (a REST note's version is
 * its `updatedAt`, else its `savedAt`). Per noteId the model keeps the newest version it has shown
 * or removed (`marks`), and:
 * - everything is keyed by noteId, so an event applied twice changes nothing the second time
 *   (the same model comes back);
 * - an event older than the version the model holds for its note, in either list or in `marks`,
 *   is ignored: a client never shows an older version of a note after a newer one;
 * - the public feed only ever holds notes whose isPublic is true; someone else's note that left
 *   it (note-updated with isPublic false, or without content) is remembered with the version it
 *   left at, and only a newer public version brings it back (an event or a REST page alike);
 * - a deleted noteId (note-deleted, or deleted here) never comes back from any event or REST
 *   answer: the server neither edits nor stores a deleted note again, and deletedAt, stamped by
 *   another function's clock than an edit's updatedAt, is no safe bound to compare with;
 * - REST answers are the server's truth, except that they never bring back what left or was
 *   deleted at the same or a newer version, and never replace a newer version shown here.
 *
 * The memory is bounded: `marks` holds at most `MAX_MARKS` ids, and the one recorded least recently
 * goes first. It lives as long as the page (a reload starts afresh from REST). Forgetting an id
 * only forgets its version: a note in a list still carries its own (`changedAt`).
 */

export type NoteStatus = 'pending' | 'saved' | 'failed';

export interface NoteView {
	noteId: string;
	username: string;
	content: string;
	isPublic: boolean;
	status: NoteStatus;
	error?: string;
	createdAt?: string;
	savedAt?: string;
	updatedAt?: string;
	/** Newest first by this (createdAt, else savedAt, else when we first saw it). */
	sortAt: number;
	/** Server time of the last change applied (ms), for ignoring stale events. */
	changedAt: number;
	/** Client time of the last local change (ms), for merging refetches safely. */
	touchedAt: number;
	/**
	 * Pending and failed notes posted from this page: the Idempotency-Key they were posted with.
	 * "Try again" sends the same note again under it, so the server answers for the same noteId
	 * instead of making a second note. Absent on a note this page did not post (another tab, or
	 * posted before a reload): such a note cannot be sent again, only dismissed.
	 */
	idempotencyKey?: string;
	/**
	 * The eventId of the note-failed that failed it. Sending the note again under its key
	 * republishes the identical note-created, so a second failure comes as the identical
	 * note-failed (same eventId): the socket must forget this id first or it drops that event.
	 */
	failedEventId?: string;
}

export interface NoteList {
	items: NoteView[];
	nextCursor?: string;
	loaded: boolean;
}

/**
 * What the model remembers of a noteId, whether or not the note is in a list.
 * - `shown`: a version this user may read (shown in a list, or one of my notes not loaded);
 *   anything older is ignored.
 * - `left`: someone else's note that left the public feed (made private) at `version`; nothing
 *   of the same or an older version brings it back, a newer public version does.
 * - `deleted`: gone for good; `version` is `Infinity`, nothing comes after a delete.
 */
export interface NoteMark {
	/** Server time (ms) of the newest version shown or removed. */
	version: number;
	state: 'shown' | 'left' | 'deleted';
}

/**
 * How many noteIds `marks` remembers at most (the least recently seen is dropped first). A page
 * sees far fewer in a session: 20 per page loaded, plus one per note an event is about.
 */
export const MAX_MARKS = 5000;

export interface NotesModel {
	me: string;
	mine: NoteList;
	feed: NoteList;
	/** Per noteId, the newest version shown or removed (bounded, see `MAX_MARKS`). */
	marks: ReadonlyMap<string, NoteMark>;
}

export function emptyModel(me: string): NotesModel {
	return {
		me,
		mine: { items: [], loaded: false },
		feed: { items: [], loaded: false },
		marks: new Map()
	};
}

/** Whether the note was deleted (seen deleted, or deleted here): nothing brings it back. */
export function isDeleted(model: NotesModel, noteId: string): boolean {
	return model.marks.get(noteId)?.state === 'deleted';
}

function ms(value: string | undefined): number {
	if (!value) return NaN;
	return Date.parse(value);
}

function firstTime(...values: (string | undefined)[]): number {
	for (const v of values) {
		const t = ms(v);
		if (!Number.isNaN(t)) return t;
	}
	return NaN;
}

export function fromNote(note: Note, now = Date.now()): NoteView {
	const sortAt = firstTime(note.createdAt, note.savedAt);
	const changedAt = firstTime(note.updatedAt, note.savedAt, note.createdAt);
	return {
		noteId: note.noteId,
		username: note.username,
		content: note.content,
		isPublic: note.isPublic === true,
		status: 'saved',
		createdAt: note.createdAt,
		savedAt: note.savedAt,
		updatedAt: note.updatedAt,
		sortAt: Number.isNaN(sortAt) ? now : sortAt,
		changedAt: Number.isNaN(changedAt) ? 0 : changedAt,
		touchedAt: now
	};
}

function sorted(items: NoteView[]): NoteView[] {
	return [...items].sort((a, b) => b.sortAt - a.sortAt);
}

function upsert(list: NoteList, view: NoteView): NoteList {
	const rest = list.items.filter((n) => n.noteId !== view.noteId);
	return { ...list, items: sorted([...rest, view]) };
}

function remove(list: NoteList, noteId: string): NoteList {
	if (!list.items.some((n) => n.noteId === noteId)) return list;
	return { ...list, items: list.items.filter((n) => n.noteId !== noteId) };
}

function find(list: NoteList, noteId: string): NoteView | undefined {
	return list.items.find((n) => n.noteId === noteId);
}

/** Put a note into (or out of) the public feed according to its isPublic flag. */
function syncFeed(feed: NoteList, view: NoteView): NoteList {
	if (view.isPublic && view.status === 'saved') return upsert(feed, view);
	return remove(feed, view.noteId);
}

/** The version of the note an event shows (its own timestamp if it lacks the field). */
function eventVersion(event: NoteEvent): number {
	const field =
		event.eventType === 'note-saved'
			? event.savedAt
			: event.eventType === 'note-updated'
				? event.updatedAt
				: event.eventType === 'note-deleted'
					? event.deletedAt
					: undefined;
	return firstTime(field, event.timestamp);
}

const UUID_V7 = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** When a note was created, from its id (a UUID v7 starts with its creation time in ms); NaN if unknown. */
function idTime(noteId: string): number {
	const m = UUID_V7.exec(noteId);
	return m ? parseInt(m[1] + m[2], 16) : NaN;
}

/**
 * Whether a note belongs among the pages of a list loaded so far. Lists come newest first by
 * noteId (UUID v7: by creation time), so a note older than every one loaded is on a page not
 * loaded yet, and "Load more" brings it.
 */
function withinLoaded(list: NoteList, noteId: string): boolean {
	if (!list.loaded || !list.nextCursor || list.items.length === 0) return true;
	return list.items.some((n) => n.noteId <= noteId);
}

/** The saved view of the note with the newest version, from either list. */
function newestView(model: NotesModel, noteId: string): NoteView | undefined {
	let best: NoteView | undefined;
	for (const list of [model.mine, model.feed]) {
		const view = find(list, noteId);
		if (view && view.status === 'saved' && (!best || view.changedAt > best.changedAt)) best = view;
	}
	return best;
}

/** The newest version the model holds for a note (-Infinity if none). */
function knownVersion(model: NotesModel, noteId: string): number {
	const mark = model.marks.get(noteId);
	const view = newestView(model, noteId);
	return Math.max(mark?.version ?? -Infinity, view?.changedAt ?? -Infinity);
}

/** Whether a version may not bring back a note that left the feed or was deleted. */
function isGone(mark: NoteMark | undefined, version: number): boolean {
	if (!mark || mark.state === 'shown') return false;
	return !(version > mark.version); // NaN (no version) never counts as newer
}

/** Record marks (each moves to the newest end), dropping the least recently seen past MAX_MARKS. */
function remember(
	marks: ReadonlyMap<string, NoteMark>,
	entries: Iterable<readonly [string, NoteMark]>
): ReadonlyMap<string, NoteMark> {
	const next = new Map(marks);
	for (const [noteId, mark] of entries) {
		next.delete(noteId);
		next.set(noteId, mark);
	}
	for (const noteId of next.keys()) {
		if (next.size <= MAX_MARKS) break;
		next.delete(noteId);
	}
	return next;
}

/** The model with these lists and marks, or the same model if nothing changed. */
function withChanges(
	model: NotesModel,
	changes: { mine?: NoteList; feed?: NoteList; marks?: ReadonlyMap<string, NoteMark> }
): NotesModel {
	const mine = changes.mine ?? model.mine;
	const feed = changes.feed ?? model.feed;
	const marks = changes.marks ?? model.marks;
	if (mine === model.mine && feed === model.feed && marks === model.marks) return model;
	return { ...model, mine, feed, marks };
}

/** A mark to record for a version shown, unless the version is unknown. */
function shownMark(version: number): [NoteMark] | [] {
	return Number.isFinite(version) ? [{ version, state: 'shown' }] : [];
}

export interface PostedNote {
	noteId: string;
	content: string;
	isPublic: boolean;
	/** The Idempotency-Key of the POST, kept for "Try again". */
	idempotencyKey?: string;
}

/** A note was just posted (202): show it as pending unless an event got there first. */
export function addPending(model: NotesModel, posted: PostedNote, now = Date.now()): NotesModel {
	const { noteId } = posted;
	// Any mark means the server stored it (its event beat the 202) or it was deleted.
	if (model.marks.has(noteId) || find(model.mine, noteId)) return model;
	const view: NoteView = {
		noteId,
		username: model.me,
		content: posted.content,
		isPublic: posted.isPublic,
		status: 'pending',
		sortAt: now,
		changedAt: 0,
		touchedAt: now,
		idempotencyKey: posted.idempotencyKey
	};
	return { ...model, mine: upsert(model.mine, view) };
}

/**
 * A failed note was sent again under its Idempotency-Key and the server answered 202 for the same
 * noteId: it is pending again, until its note-saved or note-failed. Unless an event for it was
 * applied since the request was sent (`sentAt`, client ms): the note then already shows what
 * became of this attempt (a fast note-failed, or a note-saved), and going back to pending would
 * wait for an event that has already come.
 */
export function resendAccepted(model: NotesModel, noteId: string, sentAt: number, now = Date.now()): NotesModel {
	const note = find(model.mine, noteId);
	if (!note || note.status !== 'failed' || note.touchedAt >= sentAt) return model;
	const view: NoteView = { ...note, status: 'pending', error: undefined, failedEventId: undefined, touchedAt: now };
	return { ...model, mine: upsert(model.mine, view) };
}

/**
 * Apply a server-pushed event. Safe to call twice with the same event (the same model comes
 * back), and with events in any order: an event older than what the model holds for its note is
 * ignored (the model itself comes back).
 */
export function applyEvent(model: NotesModel, event: NoteEvent, now = Date.now()): NotesModel {
	const { noteId } = event;
	const mark = model.marks.get(noteId);
	if (mark?.state === 'deleted') return model;
	const isMine = event.username === model.me;
	const version = eventVersion(event);

	switch (event.eventType) {
		case 'note-deleted':
			return removeNote(model, noteId);

		case 'note-failed': {
			if (!isMine) return withChanges(model, { feed: remove(model.feed, noteId) });
			if (mark) return model; // stored (a version was seen): a stored note cannot fail later
			const existing = find(model.mine, noteId);
			if (existing && existing.status === 'saved') return model;
			const view: NoteView = {
				noteId,
				username: event.username,
				content: existing?.content ?? event.content ?? '',
				isPublic: existing?.isPublic ?? event.isPublic === true,
				status: 'failed',
				error: event.error || 'The note could not be saved.',
				sortAt: existing?.sortAt ?? now,
				changedAt: existing?.changedAt ?? 0,
				touchedAt: now,
				idempotencyKey: existing?.idempotencyKey,
				failedEventId: event.eventId
			};
			return { ...model, mine: upsert(model.mine, view), feed: remove(model.feed, noteId) };
		}

		case 'note-saved':
		case 'note-updated': {
			const known = knownVersion(model, noteId);
			if (version < known) return model; // older than what we hold (NaN: unknown, applied)
			const markVersion = Number.isNaN(version) ? known : version;

			// Someone else's note that is not public (any more): the server sends no content for
			// it, only enough to drop it from the feed. Remember at which version it left, so a
			// late event of an older version cannot bring it back.
			if (!isMine && (event.isPublic !== true || event.content === undefined)) {
				if (mark?.state === 'left' && !(markVersion > mark.version)) return model; // a repeat
				return withChanges(model, {
					feed: remove(model.feed, noteId),
					marks: remember(model.marks, [[noteId, { version: markVersion, state: 'left' }]])
				});
			}
			if (isGone(mark, version)) return model; // left the feed at this version or a newer one

			const current = find(model.mine, noteId) ?? find(model.feed, noteId);
			const marks = () => remember(model.marks, shownMark(markVersion).map((m) => [noteId, m] as const));
			// My list shows my note if it is there already, is new (note-saved), or falls within the
			// pages loaded (an update may come before its note's late note-saved).
			const inMine =
				isMine &&
				(event.eventType === 'note-saved' || find(model.mine, noteId) !== undefined || withinLoaded(model.mine, noteId));
			const content = event.content ?? current?.content ?? '';
			const isPublic = event.isPublic ?? current?.isPublic ?? false;
			if (isMine && !inMine && !isPublic) {
				// An update to one of my notes on a page not loaded: nothing to show, but its
				// version is remembered.
				return withChanges(model, { feed: remove(model.feed, noteId), marks: marks() });
			}
			const repeat =
				current !== undefined &&
				current.status === 'saved' &&
				current.changedAt === version &&
				current.content === content &&
				current.isPublic === isPublic &&
				(!inMine || find(model.mine, noteId) !== undefined) &&
				(find(model.feed, noteId) !== undefined) === isPublic;
			if (repeat) return model; // the version shown, delivered again
			// Newest first by creation: the id's time, else the event's.
			const createdMs = idTime(noteId);
			const sortAt =
				current?.sortAt ??
				(Number.isNaN(createdMs) ? firstTime(event.savedAt, event.updatedAt, event.timestamp) : createdMs);
			const view: NoteView = {
				noteId,
				username: event.username,
				content,
				isPublic,
				status: 'saved',
				createdAt: current?.createdAt,
				savedAt: event.savedAt ?? current?.savedAt,
				updatedAt: event.updatedAt ?? current?.updatedAt,
				sortAt: Number.isNaN(sortAt) ? now : sortAt,
				changedAt: Number.isNaN(version) ? (current?.changedAt ?? 0) : Math.max(version, current?.changedAt ?? 0),
				touchedAt: now
			};
			const mine = inMine ? upsert(model.mine, view) : model.mine;
			return { ...model, mine, feed: syncFeed(model.feed, view), marks: marks() };
		}
	}
	return model;
}

/**
 * A note as REST answered it (PUT answered 200, or GET /notes/{id}): the server's truth, unless
 * the note was deleted here or left the feed at this version or a newer one, or a newer version is
 * already shown.
 */
export function applyNote(model: NotesModel, note: Note, now = Date.now()): NotesModel {
	const view = fromNote(note, now);
	if (isGone(model.marks.get(note.noteId), view.changedAt)) return model;
	if (view.changedAt < knownVersion(model, note.noteId)) return model;
	const mine = note.username === model.me ? upsert(model.mine, view) : model.mine;
	const marks = remember(model.marks, shownMark(view.changedAt).map((m) => [note.noteId, m] as const));
	return { ...model, mine, feed: syncFeed(model.feed, view), marks };
}

/**
 * A note deleted: a note-deleted event, DELETE answered 204 or 404, a failed note dismissed the
 * same way, or a resent note the server answered 410 note_deleted for. Its noteId is remembered
 * as deleted: no late event or refetch brings it back.
 */
export function removeNote(model: NotesModel, noteId: string): NotesModel {
	if (isDeleted(model, noteId)) return model;
	return {
		...model,
		marks: remember(model.marks, [[noteId, { version: Infinity, state: 'deleted' }]]),
		mine: remove(model.mine, noteId),
		feed: remove(model.feed, noteId)
	};
}

/**
 * A note of a REST page as a list should show it, or undefined to leave it out: not what was
 * deleted or left the feed at this version or a newer one; and where an event brought a newer
 * version while the request was out, that version (or nothing, if it does not belong in the list).
 */
function fromPage(model: NotesModel, which: 'mine' | 'feed', note: Note, now: number): NoteView | undefined {
	if (which === 'feed' && note.isPublic !== true) return undefined;
	const view = fromNote(note, now);
	const mark = model.marks.get(note.noteId);
	if (isGone(mark, view.changedAt)) return undefined;
	const local = newestView(model, note.noteId);
	if (local && local.changedAt > view.changedAt) {
		const fits = which === 'feed' ? local.isPublic : local.username === model.me;
		return fits ? local : undefined;
	}
	if (mark && mark.version > view.changedAt) return undefined; // a newer version is known, not held
	return view;
}

/**
 * Replace a list with a freshly fetched first page (initial load, or after a reconnect).
 * Kept from before: notes still pending or failed (the server does not list them yet), and
 * notes changed locally after `requestedAt` (the server's snapshot may predate them).
 * A local copy newer than the server's also wins.
 */
export function replaceFirstPage(
	model: NotesModel,
	which: 'mine' | 'feed',
	page: NotePage,
	requestedAt: number,
	now = Date.now()
): NotesModel {
	const list = model[which];
	const fresh = new Map<string, NoteView>();
	const seen: [string, NoteMark][] = [];
	for (const note of page.notes) {
		const view = fromPage(model, which, note, now);
		if (!view) continue;
		// A pending or failed local copy (changedAt 0) gives way to the stored note.
		fresh.set(note.noteId, view);
		if (Number.isFinite(view.changedAt)) seen.push([note.noteId, { version: view.changedAt, state: 'shown' }]);
	}
	for (const local of list.items) {
		if (fresh.has(local.noteId)) continue;
		if (local.status !== 'saved' || local.touchedAt >= requestedAt) fresh.set(local.noteId, local);
	}
	const next: NoteList = { items: sorted([...fresh.values()]), nextCursor: page.nextCursor, loaded: true };
	return { ...model, [which]: next, marks: remember(model.marks, seen) };
}

/** Append a following page ("Load more"), skipping notes already shown (by the same rules). */
export function appendPage(model: NotesModel, which: 'mine' | 'feed', page: NotePage, now = Date.now()): NotesModel {
	const list = model[which];
	const have = new Set(list.items.map((n) => n.noteId));
	const extra: NoteView[] = [];
	const seen: [string, NoteMark][] = [];
	for (const note of page.notes) {
		if (have.has(note.noteId)) continue;
		const view = fromPage(model, which, note, now);
		if (!view) continue;
		have.add(note.noteId);
		extra.push(view);
		if (Number.isFinite(view.changedAt)) seen.push([note.noteId, { version: view.changedAt, state: 'shown' }]);
	}
	const next: NoteList = { items: sorted([...list.items, ...extra]), nextCursor: page.nextCursor, loaded: true };
	return { ...model, [which]: next, marks: remember(model.marks, seen) };
}

/** Pending notes, to check by GET /notes/{id} after a reconnect (their event may have been missed). */
export function pendingIds(model: NotesModel): string[] {
	return model.mine.items.filter((n) => n.status === 'pending').map((n) => n.noteId);
}
