import type { Note, NoteEvent, NotePage } from './types';

/**
 * The dashboard's two lists and how events, REST answers and refetches change them.
 * Pure functions over immutable data: every change returns a new model, so the Svelte page
 * keeps it in `$state.raw` and the rules here are unit-tested without a browser.
 *
 * Rules:
 * - everything is keyed by noteId, so an event applied twice changes nothing the second time;
 * - a deleted noteId is remembered and never comes back (late duplicates, slow refetches);
 * - an event older than what a note already shows is ignored (out-of-order delivery);
 * - the public feed only ever holds notes whose isPublic is true.
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

export interface NotesModel {
	me: string;
	mine: NoteList;
	feed: NoteList;
	deleted: ReadonlySet<string>;
}

export function emptyModel(me: string): NotesModel {
	return {
		me,
		mine: { items: [], loaded: false },
		feed: { items: [], loaded: false },
		deleted: new Set()
	};
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
	if (model.deleted.has(noteId) || find(model.mine, noteId)) return model;
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

/** Apply a server-pushed event. Safe to call twice with the same event. */
export function applyEvent(model: NotesModel, event: NoteEvent, now = Date.now()): NotesModel {
	const { noteId } = event;
	if (model.deleted.has(noteId)) return model;
	const isMine = event.username === model.me;
	const eventTime = firstTime(event.updatedAt, event.savedAt, event.deletedAt, event.timestamp);

	switch (event.eventType) {
		case 'note-deleted': {
			const deleted = new Set(model.deleted);
			deleted.add(noteId);
			return { ...model, deleted, mine: remove(model.mine, noteId), feed: remove(model.feed, noteId) };
		}

		case 'note-failed': {
			if (!isMine) return { ...model, feed: remove(model.feed, noteId) };
			const existing = find(model.mine, noteId);
			if (existing && existing.status === 'saved') return model; // a stored note cannot fail later
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
			// Someone else's note that is not public (any more): the server sends no content for
			// it, only enough to drop it from the feed.
			if (!isMine && event.isPublic !== true) return { ...model, feed: remove(model.feed, noteId) };
			const current = find(model.mine, noteId) ?? find(model.feed, noteId);
			if (
				current &&
				current.status === 'saved' &&
				!Number.isNaN(eventTime) &&
				eventTime < current.changedAt
			) {
				return model; // older than what we show
			}
			if (event.eventType === 'note-updated' && !current && isMine) {
				// An update to one of my notes that is not loaded (an older page): nothing to show.
				if (event.isPublic !== true) return { ...model, feed: remove(model.feed, noteId) };
			}
			const base = current;
			const sortAt = base?.sortAt ?? firstTime(event.savedAt, event.updatedAt, event.timestamp);
			const view: NoteView = {
				noteId,
				username: event.username,
				content: event.content ?? base?.content ?? '',
				isPublic: event.isPublic ?? base?.isPublic ?? false,
				status: 'saved',
				createdAt: base?.createdAt,
				savedAt: event.savedAt ?? base?.savedAt,
				updatedAt: event.updatedAt ?? base?.updatedAt,
				sortAt: Number.isNaN(sortAt) ? now : sortAt,
				changedAt: Number.isNaN(eventTime) ? (base?.changedAt ?? 0) : Math.max(eventTime, base?.changedAt ?? 0),
				touchedAt: now
			};
			let mine = model.mine;
			if (isMine && (event.eventType === 'note-saved' || find(mine, noteId))) {
				mine = upsert(mine, view);
			}
			return { ...model, mine, feed: syncFeed(model.feed, view) };
		}
	}
	return model;
}

/** A note changed through REST (PUT answered 200). */
export function applyNote(model: NotesModel, note: Note, now = Date.now()): NotesModel {
	if (model.deleted.has(note.noteId)) return model;
	const existing = find(model.mine, note.noteId) ?? find(model.feed, note.noteId);
	const view = fromNote(note, now);
	if (existing && existing.changedAt > view.changedAt) return model;
	const mine = note.username === model.me ? upsert(model.mine, view) : model.mine;
	return { ...model, mine, feed: syncFeed(model.feed, view) };
}

/**
 * A note deleted through REST (DELETE answered 204 or 404), a failed note dismissed the same way,
 * or a resent note the server answered 410 note_deleted for. Its noteId is remembered: no late
 * event or refetch brings it back.
 */
export function removeNote(model: NotesModel, noteId: string): NotesModel {
	const deleted = new Set(model.deleted);
	deleted.add(noteId);
	return { ...model, deleted, mine: remove(model.mine, noteId), feed: remove(model.feed, noteId) };
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
	for (const note of page.notes) {
		if (model.deleted.has(note.noteId)) continue;
		if (which === 'feed' && note.isPublic !== true) continue;
		const view = fromNote(note, now);
		const local = find(list, note.noteId);
		fresh.set(note.noteId, local && local.changedAt > view.changedAt ? local : view);
	}
	for (const local of list.items) {
		if (fresh.has(local.noteId)) continue;
		if (local.status !== 'saved' || local.touchedAt >= requestedAt) fresh.set(local.noteId, local);
	}
	const next: NoteList = { items: sorted([...fresh.values()]), nextCursor: page.nextCursor, loaded: true };
	return { ...model, [which]: next };
}

/** Append a following page ("Load more"), skipping notes already shown. */
export function appendPage(model: NotesModel, which: 'mine' | 'feed', page: NotePage, now = Date.now()): NotesModel {
	const list = model[which];
	const have = new Set(list.items.map((n) => n.noteId));
	const extra = page.notes
		.filter((n) => !have.has(n.noteId) && !model.deleted.has(n.noteId))
		.filter((n) => which === 'mine' || n.isPublic === true)
		.map((n) => fromNote(n, now));
	const next: NoteList = { items: sorted([...list.items, ...extra]), nextCursor: page.nextCursor, loaded: true };
	return { ...model, [which]: next };
}

/** Pending notes, to check by GET /notes/{id} after a reconnect (their event may have been missed). */
export function pendingIds(model: NotesModel): string[] {
	return model.mine.items.filter((n) => n.status === 'pending').map((n) => n.noteId);
}
