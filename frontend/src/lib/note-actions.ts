import { ApiError, errorMessage, type ApiClient } from './api';
import { addPending, applyNote, removeNote, resendAccepted, type NotesModel } from './notes-model';

/**
 * "Try again", "Dismiss" and "Delete" on one of my notes: the REST calls and what each answer does
 * to the model. The model may change while a call is out (events keep arriving), so it is read
 * again after every await through `store`, never kept across one.
 */

export interface ModelStore {
	get(): NotesModel;
	set(model: NotesModel): void;
}

export type NoteApi = Pick<ApiClient, 'createNote' | 'getNote' | 'deleteNote'>;

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

/** Thrown by `resendNote` for a failed note this page did not post: its key is not known here. */
export const UNKNOWN_KEY_MESSAGE =
	'This note was not posted from this page, so it cannot be sent again from here. Dismiss it and write it again.';

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
	if (!idempotencyKey) throw new Error(UNKNOWN_KEY_MESSAGE);
	// The retry republishes the identical note-created: if it fails again, its note-failed is the
	// identical event too, which the socket has already seen.
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

