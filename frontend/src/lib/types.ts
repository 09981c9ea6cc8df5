/** Shapes of docs/rest-api.md, docs/websocket.md and docs/events.md. */

export interface RuntimeConfig {
	apiUrl: string;
	wsUrl: string;
}

/**
 * A stored note, as REST returns it. `version` says which committed state of the note it is: 1
 * when stored, one more with each change (0 only on notes stored before versions were kept).
 */
export interface Note {
	noteId: string;
	username: string;
	content: string;
	isPublic: boolean;
	status: 'saved';
	createdAt: string;
	savedAt: string;
	updatedAt?: string;
	version: number;
}

/**
 * A note that could not be stored, and why (`error`, words its owner may read). Only its owner
 * sees one, in `GET /notes` and `GET /notes/{noteId}`, until it is dismissed (`DELETE`) or no
 * redrive could store it any more. The server keeps neither its content nor its isPublic.
 */
export interface FailedNote {
	noteId: string;
	username: string;
	status: 'failed';
	error: string;
	createdAt: string;
	failedAt: string;
	version: number;
}

/** One of the caller's own notes: stored, or failed. */
export type OwnNote = Note | FailedNote;

/** A page of the public feed (`GET /notes/public`): stored notes only. */
export interface NotePage {
	notes: Note[];
	nextCursor?: string;
}

/** A page of the caller's own notes (`GET /notes`): stored and failed ones. */
export interface OwnNotePage {
	notes: OwnNote[];
	nextCursor?: string;
}

export interface SignupResponse {
	username: string;
	createdAt: string;
}

export interface LoginResponse {
	token: string;
	tokenType: 'Bearer';
	expiresAt: string;
	username: string;
}

export interface UserResponse {
	username: string;
	createdAt: string;
}

/**
 * `202 pending`: accepted, its note-saved or note-failed event follows. `200 saved`: a retry
 * under an Idempotency-Key of a note already stored; no event follows.
 */
export interface CreateNoteResponse {
	message: string;
	noteId: string;
	status: 'pending' | 'saved';
}

export type NoteEventType = 'note-saved' | 'note-failed' | 'note-updated' | 'note-deleted';

export const NOTE_EVENT_TYPES: readonly NoteEventType[] = [
	'note-saved',
	'note-failed',
	'note-updated',
	'note-deleted'
];

/**
 * The `detail` of a note event, as the WebSocket pushes it. `version` is the version of the
 * note's committed state the event shows (1 when stored, one more with each change): every event
 * the app receives carries one (`note-created`, which has none, is not pushed to browsers).
 */
export interface NoteEvent {
	eventType: NoteEventType;
	eventId: string;
	eventVersion?: number;
	version: number;
	timestamp: string;
	correlationId?: string;
	causationId?: string;
	noteId: string;
	username: string;
	content?: string;
	isPublic?: boolean;
	savedAt?: string;
	updatedAt?: string;
	deletedAt?: string;
	wasPublic?: boolean;
	error?: string;
}
