import type { NoteEvent, OwnNote, OwnNotePage } from './types';

/**
 * The dashboard's two lists and how events, REST answers and refetches change them.
 * Pure functions over immutable data: every change returns a new model, so the Svelte page
 * keeps it in `$state.raw` and the rules here are unit-tested without a browser.
 *
 * Events come at least once and in no order (EventBridge and the table's stream keep none
 * across notes, and retries repeat), so each one is judged by the `version` of the note it shows:
 * every event (note-saved, note-updated, note-deleted, note-failed) and every note REST answers
 * carries the version of the note's committed state it shows, 1 when stored and one more with each
 * change (0 only on very old notes). Per noteId the model holds the highest version it has seen,
 * in either list or in `marks`, and:
 * - an event or a REST note of a lower version than the one held is dropped: a client never shows
 *   an older state of a note after a newer one (a note-updated v2 after v3, a note-failed v1 after
 *   the note-saved v2 of a redrive);
 * - the same version is the same state: a duplicate, dropped (the same model comes back). Except
 *   for a note waiting as pending here, which shows no state of the server's yet: the server's
 *   answer for it settles it, at any version not lower than the one held;
 * - a deleted noteId (note-deleted, or deleted, dismissed or answered 410 here) never comes back
 *   from any event or REST answer: the server neither edits nor stores a deleted note again;
 * - the public feed only ever holds notes whose isPublic is true and that are stored; someone
 *   else's note that left it (note-updated with isPublic false, or without content) is remembered
 *   at the version it left at, so only a newer public version brings it back;
 * - a failed note of mine shows the server's reason (`error`); its text and visibility are known
 *   only if this page posted it (the server keeps neither for a note it could not store).
 *
 * The memory is bounded: `marks` holds at most `MAX_MARKS` ids, and the one recorded least recently
 * goes first. It lives as long as the page (a reload starts afresh from REST). Forgetting an id
 * only forgets its version: a note in a list still carries its own (`version`).
 */

export type NoteStatus = 'pending' | 'saved' | 'failed';

export interface NoteView {
	noteId: string;
	username: string;
	/** The note's text; empty for a failed note this page did not post (the server keeps none). */
	content: string;
	isPublic: boolean;
	status: NoteStatus;
	error?: string;
	createdAt?: string;
	savedAt?: string;
	updatedAt?: string;
	failedAt?: string;
	/** Newest first by this (createdAt, else when it was posted or first seen). */
	sortAt: number;
	/**
	 * The version of the note's state on the server that this shows. A pending note shows none of
	 * the server's: 0, or the version of the failure it was sent again from.
	 */
	version: number;
	/** Client time of the last local change (ms), for merging refetches safely. */
	touchedAt: number;
	/**
	 * Pending and failed notes posted from this page (or restored after a reload, see
	 * `restorePending`): the Idempotency-Key they were posted with. "Try again" sends the same note
	 * again under it, so the server answers for the same noteId instead of making a second note.
	 * Absent on a note this page did not post (another tab): such a note cannot be sent again,
	 * only dismissed.
	 */
	idempotencyKey?: string;
	/**
	 * The eventId of the note-failed that failed it. Sending the note again under its key may fail
	 * it at the same version again, which the server would announce with the identical note-failed
	 * (same eventId): the socket must forget this id first or it drops that event.
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
 * - `seen`: the highest version seen of the note (shown, or not readable here: someone else's note
 *   that left the feed, one of my notes on a page not loaded); nothing of that version or a lower
 *   one changes anything.
 * - `deleted`: gone for good; nothing brings it back.
 */
export interface NoteMark {
	/** The highest version seen (for a deletion: the note-deleted's, `Infinity` when deleted here). */
	version: number;
	state: 'seen' | 'deleted';
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
	/** Per noteId, the highest version seen, or that it was deleted (bounded, see `MAX_MARKS`). */
	marks: ReadonlyMap<string, NoteMark>;
}

/** Shown for a failure that came without a reason. */
const NO_REASON = 'The note could not be saved.';

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

/** The version a note or event shows; one without a valid version counts as 0 (a very old note). */
function versionOf(value: { version?: unknown }): number {
	const v = value.version;
	return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0;
}

/**
 * A note as REST answered it, as a list shows it. A failed note keeps what `local` (the copy
 * this page holds, if any) knows and the server does not: its text, visibility and key.
 */
export function fromNote(note: OwnNote, now = Date.now(), local?: NoteView): NoteView {
	const sortAt = firstTime(note.createdAt);
	const base = {
		noteId: note.noteId,
		username: note.username,
		createdAt: note.createdAt,
		sortAt: Number.isNaN(sortAt) ? (local?.sortAt ?? now) : sortAt,
		version: versionOf(note),
		touchedAt: now
	};
	if (note.status === 'failed') {
		return {
			...base,
			content: local?.content ?? '',
			isPublic: local?.isPublic ?? false,
			status: 'failed',
			error: note.error || NO_REASON,
			failedAt: note.failedAt,
			idempotencyKey: local?.idempotencyKey,
			failedEventId: local?.failedEventId
		};
	}
	return {
		...base,
		content: note.content,
		isPublic: note.isPublic === true,
		status: 'saved',
		savedAt: note.savedAt,
		updatedAt: note.updatedAt
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

/** The note as this page holds it, from either list (my list first: it knows more). */
function held(model: NotesModel, noteId: string): NoteView | undefined {
	return find(model.mine, noteId) ?? find(model.feed, noteId);
}

/** Put a note into (or out of) the public feed according to its isPublic flag and status. */
function syncFeed(feed: NoteList, view: NoteView): NoteList {
	if (view.isPublic && view.status === 'saved') return upsert(feed, view);
	return remove(feed, view.noteId);
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

/** The highest version the model holds for a note, in either list or in `marks` (-1 if none). */
function heldVersion(model: NotesModel, noteId: string): number {
	let version = model.marks.get(noteId)?.version ?? -1;
	for (const list of [model.mine, model.feed]) {
		const view = find(list, noteId);
		if (view) version = Math.max(version, view.version);
	}
	return version;
}

/**
 * Whether a state of the note at `version` is news: not deleted, and newer than what the model
 * holds; or the same version while the note waits as pending here (it shows no state of the
 * server's yet), unless it went pending since `requestedAt` (client ms; a REST answer whose request
 * was sent before the note was sent again may not settle it).
 */
function isNews(model: NotesModel, noteId: string, version: number, requestedAt = Infinity): boolean {
	if (isDeleted(model, noteId)) return false;
	const known = heldVersion(model, noteId);
	if (version !== known) return version > known;
	const view = find(model.mine, noteId);
	return view?.status === 'pending' && view.touchedAt < requestedAt;
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

function seen(marks: ReadonlyMap<string, NoteMark>, noteId: string, version: number): ReadonlyMap<string, NoteMark> {
	return remember(marks, [[noteId, { version, state: 'seen' }]]);
}

export interface PostedNote {
	noteId: string;
	content: string;
	isPublic: boolean;
	/** The Idempotency-Key of the POST, kept for "Try again". */
	idempotencyKey?: string;
}

/** A note this page posted and has not seen settled, as kept across a reload (`session.ts`). */
export interface PendingNote extends PostedNote {
	/** When it was posted (client clock, ISO 8601). */
	createdAt: string;
}

/**
 * A note was just posted (202): show it as pending unless an event got there first. `postedAt`
 * (client ms) places it in the list; a note restored after a reload keeps its first one.
 */
export function addPending(model: NotesModel, posted: PostedNote, now = Date.now(), postedAt = now): NotesModel {
	const { noteId } = posted;
	// Any mark means the server stored or failed it (its event beat the 202), or it was deleted.
	if (model.marks.has(noteId) || find(model.mine, noteId)) return model;
	const view: NoteView = {
		noteId,
		username: model.me,
		content: posted.content,
		isPublic: posted.isPublic,
		status: 'pending',
		sortAt: postedAt,
		version: 0,
		touchedAt: now,
		idempotencyKey: posted.idempotencyKey
	};
	return { ...model, mine: upsert(model.mine, view) };
}

/**
 * The notes a reload found still pending (`loadPendingNotes`): shown pending again, with their
 * text and key, until the server's lists, a `GET /notes/{noteId}` or an event settles them.
 */
export function restorePending(model: NotesModel, notes: readonly PendingNote[], now = Date.now()): NotesModel {
	return notes.reduce((m, n) => {
		const postedAt = ms(n.createdAt);
		return addPending(m, n, now, Number.isNaN(postedAt) ? now : postedAt);
	}, model);
}

/** The notes waiting as pending, as a reload needs them to settle them. */
export function pendingNotes(model: NotesModel): PendingNote[] {
	return model.mine.items
		.filter((n) => n.status === 'pending')
		.map((n) => ({
			noteId: n.noteId,
			content: n.content,
			isPublic: n.isPublic,
			idempotencyKey: n.idempotencyKey,
			createdAt: new Date(n.sortAt).toISOString()
		}));
}

/**
 * What to write down after the model changed from `before` to `after`: the notes that went
 * pending (posted, restored, sent again), and the ids of those no longer pending (saved, failed,
 * dismissed or deleted). Each tab writes only its own changes, so two tabs of one user do not
 * undo each other's.
 */
export function pendingChanges(before: NotesModel, after: NotesModel): { add: PendingNote[]; remove: string[] } {
	if (before.mine === after.mine) return { add: [], remove: [] };
	const was = new Set(pendingIds(before));
	const now = pendingNotes(after);
	const still = new Set(now.map((n) => n.noteId));
	return {
		add: now.filter((n) => !was.has(n.noteId)),
		remove: [...was].filter((id) => !still.has(id))
	};
}

/** My notes that were pending in `before` and are saved or failed in `after`. */
export function settledSince(before: NotesModel, after: NotesModel): NoteView[] {
	const was = new Set(pendingIds(before));
	return after.mine.items.filter((n) => was.has(n.noteId) && n.status !== 'pending');
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
 * back), and with events in any order: an event of a version lower than the one the model holds
 * for its note, or of the same one, is dropped (the model itself comes back).
 */
export function applyEvent(model: NotesModel, event: NoteEvent, now = Date.now()): NotesModel {
	const { noteId } = event;
	const version = versionOf(event);
	if (!isNews(model, noteId, version)) return model;
	const isMine = event.username === model.me;

	switch (event.eventType) {
		case 'note-deleted':
			return removeNote(model, noteId, version);

		case 'note-failed': {
			// Only its owner hears of a failure; anyone else just never shows the note.
			if (!isMine) return { ...model, feed: remove(model.feed, noteId), marks: seen(model.marks, noteId, version) };
			const existing = find(model.mine, noteId);
			const createdMs = idTime(noteId);
			const view: NoteView = {
				noteId,
				username: event.username,
				content: existing?.content ?? '',
				isPublic: existing?.isPublic ?? false,
				status: 'failed',
				error: event.error || NO_REASON,
				createdAt: existing?.createdAt,
				failedAt: event.timestamp,
				sortAt: existing?.sortAt ?? (Number.isNaN(createdMs) ? now : createdMs),
				version,
				touchedAt: now,
				idempotencyKey: existing?.idempotencyKey,
				failedEventId: event.eventId
			};
			return {
				...model,
				mine: upsert(model.mine, view),
				feed: remove(model.feed, noteId),
				marks: seen(model.marks, noteId, version)
			};
		}

		case 'note-saved':
		case 'note-updated': {
			const marks = seen(model.marks, noteId, version);
			// Someone else's note that is not public (any more): the server sends no content for
			// it, only enough to drop it from the feed. Its version is remembered, so a late event
			// of an older, public version cannot bring it back.
			if (!isMine && (event.isPublic !== true || event.content === undefined)) {
				return { ...model, feed: remove(model.feed, noteId), marks };
			}

			const current = held(model, noteId);
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
				return { ...model, feed: remove(model.feed, noteId), marks };
			}
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
				version,
				touchedAt: now
			};
			const mine = inMine ? upsert(model.mine, view) : model.mine;
			return { ...model, mine, feed: syncFeed(model.feed, view), marks };
		}
	}
	return model;
}

/**
 * One of my notes as REST answered it (PUT answered 200, or `GET /notes/{noteId}`: stored or
 * failed): the server's truth, unless the note was deleted here or a state of the same or a newer
 * version is already shown. A pending note takes it at the version held too (it settles), unless
 * it went pending after `requestedAt` (client ms), when the request was sent.
 */
export function applyNote(model: NotesModel, note: OwnNote, now = Date.now(), requestedAt?: number): NotesModel {
	const version = versionOf(note);
	if (!isNews(model, note.noteId, version, requestedAt)) return model;
	const view = fromNote(note, now, held(model, note.noteId));
	const mine = note.username === model.me ? upsert(model.mine, view) : model.mine;
	return { ...model, mine, feed: syncFeed(model.feed, view), marks: seen(model.marks, note.noteId, version) };
}

/**
 * A note deleted: a note-deleted event (at `version`), DELETE answered 204 or 404, a failed note
 * dismissed the same way, or a resent note the server answered 410 note_deleted for. Its noteId
 * is remembered as deleted: no late event or refetch brings it back.
 */
export function removeNote(model: NotesModel, noteId: string, version = Infinity): NotesModel {
	if (isDeleted(model, noteId)) return model;
	return {
		...model,
		marks: remember(model.marks, [[noteId, { version, state: 'deleted' }]]),
		mine: remove(model.mine, noteId),
		feed: remove(model.feed, noteId)
	};
}

/** Whether a note belongs in a list: the feed shows stored public notes, my list my own notes. */
function fits(model: NotesModel, which: 'mine' | 'feed', view: NoteView): boolean {
	return which === 'feed' ? view.isPublic && view.status === 'saved' : view.username === model.me;
}

/**
 * A note of a REST page as a list should show it, or undefined to leave it out: not what was
 * deleted; where a newer version is held (an event brought it while the request was out), that
 * version, or nothing if it does not belong in the list or is not held here; where the same
 * version is held, the copy held (it knows a failed note's text and key); a pending note is
 * settled by it, unless it went pending after `requestedAt`.
 */
function fromPage(
	model: NotesModel,
	which: 'mine' | 'feed',
	note: OwnNote,
	requestedAt: number,
	now: number
): NoteView | undefined {
	if (isDeleted(model, note.noteId)) return undefined;
	const local = held(model, note.noteId);
	if (isNews(model, note.noteId, versionOf(note), requestedAt)) {
		const view = fromNote(note, now, local);
		return fits(model, which, view) ? view : undefined;
	}
	if (local && local.version >= versionOf(note)) return fits(model, which, local) ? local : undefined;
	// A newer version is known but not held (left the feed, on a page not loaded), or the same one
	// is only remembered: the page's copy is that same state.
	if (versionOf(note) < heldVersion(model, note.noteId)) return undefined;
	const view = fromNote(note, now);
	return fits(model, which, view) ? view : undefined;
}

/**
 * Replace a list with a freshly fetched first page (initial load, or after a reconnect).
 * Kept from before: notes still pending (the server does not list them) or failed here, and
 * notes changed locally after `requestedAt` (the server's snapshot may predate them). A local
 * copy of a newer version than the server's also wins.
 */
export function replaceFirstPage(
	model: NotesModel,
	which: 'mine' | 'feed',
	page: OwnNotePage,
	requestedAt: number,
	now = Date.now()
): NotesModel {
	const list = model[which];
	const fresh = new Map<string, NoteView>();
	const versions: [string, NoteMark][] = [];
	for (const note of page.notes) {
		const view = fromPage(model, which, note, requestedAt, now);
		if (!view) continue;
		fresh.set(note.noteId, view);
		versions.push([note.noteId, { version: Math.max(view.version, heldVersion(model, note.noteId)), state: 'seen' }]);
	}
	for (const local of list.items) {
		if (fresh.has(local.noteId)) continue;
		if (local.status !== 'saved' || local.touchedAt >= requestedAt) fresh.set(local.noteId, local);
	}
	const next: NoteList = { items: sorted([...fresh.values()]), nextCursor: page.nextCursor, loaded: true };
	return { ...model, [which]: next, marks: remember(model.marks, versions) };
}

/** Append a following page ("Load more"), skipping notes already shown (by the same rules). */
export function appendPage(
	model: NotesModel,
	which: 'mine' | 'feed',
	page: OwnNotePage,
	now = Date.now(),
	requestedAt = now
): NotesModel {
	const list = model[which];
	const have = new Set(list.items.map((n) => n.noteId));
	const extra: NoteView[] = [];
	const versions: [string, NoteMark][] = [];
	for (const note of page.notes) {
		if (have.has(note.noteId)) continue;
		const view = fromPage(model, which, note, requestedAt, now);
		if (!view) continue;
		have.add(note.noteId);
		extra.push(view);
		versions.push([note.noteId, { version: Math.max(view.version, heldVersion(model, note.noteId)), state: 'seen' }]);
	}
	const next: NoteList = { items: sorted([...list.items, ...extra]), nextCursor: page.nextCursor, loaded: true };
	return { ...model, [which]: next, marks: remember(model.marks, versions) };
}

/**
 * Pending notes, to ask about with `GET /notes/{noteId}` on load and after every (re)connect:
 * their note-saved or note-failed may have been pushed while no connection was open.
 */
export function pendingIds(model: NotesModel): string[] {
	return model.mine.items.filter((n) => n.status === 'pending').map((n) => n.noteId);
}
