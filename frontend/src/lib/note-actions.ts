import { ApiError, errorMessage, type ApiClient } from './api';
import {
	addPending,
	applyNote,
	pendingIds,
	removeNote,
	replaceFirstPage,
	resendAccepted,
	type NotesModel
} from './notes-model';

/**
 * Posting a note, "Try again", "Dismiss" and "Delete" on one of my notes, and bringing the lists
 * and pending notes up to date after a load or a reconnect: the REST calls and what each answer
 * does to the model. The model may change while a call is out (events keep arriving), so it is
 * read again after every await through `store`, never kept across one.
 */

export interface ModelStore {
	get(): NotesModel;
	set(model: NotesModel): void;
}

export type NoteApi = Pick<ApiClient, 'createNote' | 'getNote' | 'deleteNote' | 'listNotes' | 'listPublicNotes'>;

/**
 * Posts a new note under `idempotencyKey`. `pending` (202): shown pending (with its key, for
 * "Try again") until its note-saved or note-failed, or until a load or reconnect asks the server
 * (`settlePending`). `saved` (200: a retry of a note already stored): no event follows, so it is
 * read and shown saved. Throws the API's error when the note was not accepted.
 */
export async function postNote(
	api: NoteApi,
	store: ModelStore,
	draft: { content: string; isPublic: boolean; idempotencyKey: string },
	options: { now?: () => number } = {}
): Promise<'pending' | 'saved'> {
	const now = options.now ?? Date.now;
	const { content, isPublic, idempotencyKey } = draft;
	const res = await api.createNote(content, isPublic, idempotencyKey);
	if (res.status === 'saved') {
		store.set(applyNote(store.get(), await api.getNote(res.noteId), now()));
		return 'saved';
	}
	store.set(addPending(store.get(), { noteId: res.noteId, content, isPublic, idempotencyKey }, now()));
	return 'pending';
}

/**
 * Fetches the first page of a list again (on load, after a reconnect, on "Try again" after a list
 * error) and merges it into the model (`replaceFirstPage`): my list may settle pending notes
 * (stored, or failed with the reason). Throws when the request fails; the model is unchanged then.
 */
export async function reloadList(
	api: NoteApi,
	store: ModelStore,
	which: 'mine' | 'feed',
	options: { limit: number; now?: () => number }
): Promise<void> {
	const now = options.now ?? Date.now;
	const requestedAt = now();
	const page =
		which === 'mine' ? await api.listNotes({ limit: options.limit }) : await api.listPublicNotes({ limit: options.limit });
	store.set(replaceFirstPage(store.get(), which, page, requestedAt, now()));
}

/**
 * Asks the server what became of every note still pending here, one `GET /notes/{noteId}` each:
 * on load and after every (re)connect, once the lists are in again. Its note-saved or note-failed
 * may have been pushed while no connection was open (a push is not kept for later). 200: shown as
 * the server has it, saved, or failed with the server's reason (and "Try again" if this page still
 * has its text and key). 404: still on its way (or deleted or dismissed elsewhere, whose
 * note-deleted will remove it), so still pending. Any other error leaves the note pending too: the
 * next reconnect or load asks again. Never throws.
 */
export async function settlePending(api: NoteApi, store: ModelStore, options: { now?: () => number } = {}): Promise<void> {
	const now = options.now ?? Date.now;
	await Promise.all(
		pendingIds(store.get()).map(async (noteId) => {
			const requestedAt = now();
			try {
				const note = await api.getNote(noteId);
				store.set(applyNote(store.get(), note, now(), requestedAt));
			} catch {
				// 404: not stored and not failed (yet); anything else: ask again next time.
			}
		})
	);
}

/**
 * What became of a resent note: `pending` (202, its event will follow), `saved` (200: it had been
 * stored meanwhile, and is shown saved), `deleted` (410 note_deleted: dismissed or deleted
 * meanwhile, taken off the list), `unchanged` (nothing to send, or an event for it came while the
 * request was out and the note already shows it).
 */
export type ResendOutcome = 'pending' | 'saved' | 'deleted' | 'unchanged';

export interface ResendOptions {
	/** Makes the socket accept an eventId again (see `NoteView.failedEventId`). */
	forgetEvent?: (eventId: string) => void;
	now?: () => number;
}

/**
 * Thrown by `resendNote` for a failed note whose text or key this page does not have (posted from
 * another tab, or failed before this page loaded: the server keeps no text of a failed note).
 */
export const UNKNOWN_KEY_MESSAGE =
	'This page does not have this note\'s text, so it cannot be sent again from here. Dismiss it and write it again.';

/**
 * Sends a failed note again, under the Idempotency-Key it was first posted with, so the server
 * answers for the same noteId (a new key would make a second note, and an operator's redrive of
 * the first one could then store both). Throws (an `ApiError`, or an `Error` for a note without a
 * known key) when the note stays failed; the caller shows why on the note.
 */
export async function resendNote(
	api: NoteApi,
	store: ModelStore,
	noteId: string,
	options: ResendOptions = {}
): Promise<ResendOutcome> {
	const now = options.now ?? Date.now;
	const note = store.get().mine.items.find((n) => n.noteId === noteId);
	if (!note || note.status !== 'failed') return 'unchanged';
	const { content, isPublic, idempotencyKey } = note;
	if (!idempotencyKey || !content) throw new Error(UNKNOWN_KEY_MESSAGE);
	// The retry republishes the identical note-created: if it fails again at the same version, its
	// note-failed is the identical event too, which the socket has already seen.
	if (note.failedEventId) options.forgetEvent?.(note.failedEventId);

	const sentAt = now();
	let res;
	try {
		res = await api.createNote(content, isPublic, idempotencyKey);
	} catch (err) {
		if (err instanceof ApiError && err.status === 410) {
			// note_deleted: dismissed or deleted meanwhile (another tab); the server will never store it.
			store.set(removeNote(store.get(), noteId));
			return 'deleted';
		}
		throw err;
	}

	let outcome: ResendOutcome;
	if (res.status === 'saved') {
		// Stored meanwhile (a redrive): no event follows, so read it.
		try {
			store.set(applyNote(store.get(), await api.getNote(res.noteId), now()));
			outcome = 'saved';
		} catch (err) {
			if (!(err instanceof ApiError && err.status === 404)) throw err;
			// Deleted between the two calls.
			store.set(removeNote(store.get(), res.noteId));
			outcome = 'deleted';
		}
	} else if (res.noteId === noteId) {
		const before = store.get();
		store.set(resendAccepted(before, noteId, sentAt, now()));
		outcome = store.get() === before ? 'unchanged' : 'pending';
	} else {
		// Another noteId: the server no longer knew the key (it keeps one 24 hours; a dead-lettered
		// note waits 14 days for a redrive) and took this as a new note.
		store.set(addPending(store.get(), { noteId: res.noteId, content, isPublic, idempotencyKey }, now()));
		outcome = 'pending';
	}

	if (res.noteId !== noteId) {
		// Withdraw the first one, so a later redrive cannot store it as a second copy.
		try {
			await deleteNote(api, store, noteId);
		} catch (err) {
			throw new Error(
				`It was sent again as a new note, but this copy could not be withdrawn. ${errorMessage(err)} Dismiss it to try once more.`
			);
		}
	}
	return outcome;
}

/**
 * `DELETE /notes/{noteId}` and take the note off the list: "Delete" on a saved note, "Dismiss" on a
 * failed one. The server answers 204 even for a note it never stored, and then refuses to store it
 * later (a redrive, a retry), so a dismissed note stays gone. 404 (already deleted, say in another
 * tab) is what was wanted too. Any other error throws and the note stays.
 */
export async function deleteNote(api: NoteApi, store: ModelStore, noteId: string): Promise<void> {
	try {
		await api.deleteNote(noteId);
	} catch (err) {
		if (!(err instanceof ApiError && err.status === 404)) throw err;
	}
	store.set(removeNote(store.get(), noteId));
}

