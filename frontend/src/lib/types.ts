/** Shapes of docs/rest-api.md, docs/websocket.md and docs/events.md. */

export interface RuntimeConfig {
	apiUrl: string;
	wsUrl: string;
}

/** A stored note, as REST returns it (`status` is always "saved" there). */
export interface Note {
	noteId: string;
	username: string;
	content: string;
	isPublic: boolean;
	status: 'saved';
	createdAt: string;
	savedAt: string;
	updatedAt?: string;
}

export interface NotePage {
	notes: Note[];
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

/** The `detail` of a note event, as the WebSocket pushes it. */
export interface NoteEvent {
	eventType: NoteEventType;
	eventId: string;
	eventVersion?: number;
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
