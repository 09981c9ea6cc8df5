import { sentence } from './text';
import type {
	CreateNoteResponse,
	LoginResponse,
	Note,
	NotePage,
	OwnNote,
	OwnNotePage,
	SignupResponse,
	UserResponse
} from './types';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** Every failure the client reports: an HTTP error from the API, or no answer at all (status 0). */
export class ApiError extends Error {
	readonly status: number;
	readonly code: string;

	constructor(status: number, code: string, message: string) {
		super(message);
		this.name = 'ApiError';
		this.status = status;
		this.code = code;
	}
}

/** Messages for the rare error that arrives without the contract's JSON body (a proxy, a gateway). */
const FALLBACK: Record<number, [string, string]> = {
	400: ['invalid_request', 'The request was not valid.'],
	401: ['unauthorized', 'Please log in again.'],
	403: ['forbidden', 'You are not allowed to do that.'],
	404: ['not_found', 'That was not found.'],
	409: ['conflict', 'That conflicts with something that already exists.'],
	413: ['payload_too_large', 'That is too large to send.'],
	429: ['too_many_requests', 'Too many requests: wait a moment and try again.']
};

function fallbackError(status: number): ApiError {
	const known = FALLBACK[status];
	if (known) return new ApiError(status, known[0], known[1]);
	if (status >= 500) {
		return new ApiError(status, 'server_error', 'The server had a problem. Please try again in a moment.');
	}
	return new ApiError(status, 'http_error', `The request failed (HTTP ${status}).`);
}

export interface ListOptions {
	limit?: number;
	cursor?: string;
}

export interface ApiClientOptions {
	baseUrl: string;
	/** The current JWT, or null when logged out. */
	getToken: () => string | null;
	fetch?: FetchLike;
	/** Called when an authenticated request is answered 401 (expired or revoked token). */
	onUnauthorized?: () => void;
}

interface RequestOptions {
	method?: string;
	body?: unknown;
	auth?: boolean;
	query?: Record<string, string | number | undefined>;
	headers?: Record<string, string>;
}

export class ApiClient {
	readonly baseUrl: string;
	private readonly getToken: () => string | null;
	private readonly fetchImpl: FetchLike;
	private readonly onUnauthorized?: () => void;

	constructor(options: ApiClientOptions) {
		this.baseUrl = options.baseUrl.replace(/\/+$/, '');
		this.getToken = options.getToken;
		// Bind so a window.fetch taken out of its object does not throw "Illegal invocation".
		this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
		this.onUnauthorized = options.onUnauthorized;
	}

	private url(path: string, query?: RequestOptions['query']): string {
		const params = new URLSearchParams();
		for (const [k, v] of Object.entries(query ?? {})) {
			if (v !== undefined && v !== '') params.set(k, String(v));
		}
		const qs = params.toString();
		return `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
	}

	private async request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
		const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
		if (opts.body !== undefined) headers['content-type'] = 'application/json';
		if (opts.auth) {
			const token = this.getToken();
			if (!token) {
				this.onUnauthorized?.();
				throw new ApiError(401, 'unauthorized', 'Please log in first.');
			}
			headers.authorization = `Bearer ${token}`;
		}

		let res: Response;
		try {
			res = await this.fetchImpl(this.url(path, opts.query), {
				method: opts.method ?? 'GET',
				headers,
				body: opts.body === undefined ? undefined : JSON.stringify(opts.body)
			});
		} catch {
			throw new ApiError(0, 'network_error', 'Could not reach the server. Check your connection and try again.');
		}

		if (res.status === 204) return undefined as T;

		let data: unknown = undefined;
		const text = await res.text().catch(() => '');
		if (text) {
			try {
				data = JSON.parse(text);
			} catch {
				data = undefined;
			}
		}

		if (!res.ok) {
			if (res.status === 401 && opts.auth) this.onUnauthorized?.();
			const body = data as { error?: unknown; message?: unknown } | undefined;
			if (body && typeof body.error === 'string' && typeof body.message === 'string') {
				throw new ApiError(res.status, body.error, body.message);
			}
			throw fallbackError(res.status);
		}
		if (data === undefined) {
			throw new ApiError(res.status, 'bad_response', 'The server sent an answer the app could not read.');
		}
		return data as T;
	}

	signup(username: string, password: string): Promise<SignupResponse> {
		return this.request('/auth/signup', { method: 'POST', body: { username, password } });
	}

	login(username: string, password: string): Promise<LoginResponse> {
		return this.request('/auth/login', { method: 'POST', body: { username, password } });
	}

	me(): Promise<UserResponse> {
		return this.request('/auth/user', { auth: true });
	}

	createNote(content: string, isPublic: boolean, idempotencyKey?: string): Promise<CreateNoteResponse> {
		return this.request('/notes', {
			method: 'POST',
			auth: true,
			body: { content, isPublic },
			headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : undefined
		});
	}

	/**
	 * The caller's notes, newest first: stored ones, and ones that could not be stored
	 * (`status: failed`, with the reason). A note still on its way is not listed. Pass the previous
	 * page's `nextCursor` to get the next one.
	 */
	listNotes(opts: ListOptions = {}): Promise<OwnNotePage> {
		return this.request('/notes', { auth: true, query: { limit: opts.limit, cursor: opts.cursor } });
	}

	/** Everyone's public notes, newest first. No login needed. */
	listPublicNotes(opts: ListOptions = {}): Promise<NotePage> {
		return this.request('/notes/public', { query: { limit: opts.limit, cursor: opts.cursor } });
	}

	/**
	 * One of the caller's notes, stored or failed (`status: failed`, with the reason). 404 while it
	 * is on its way, and once it is deleted or dismissed.
	 */
	getNote(noteId: string): Promise<OwnNote> {
		return this.request(`/notes/${encodeURIComponent(noteId)}`, { auth: true });
	}

	updateNote(noteId: string, changes: { content?: string; isPublic?: boolean }): Promise<Note> {
		return this.request(`/notes/${encodeURIComponent(noteId)}`, { method: 'PUT', auth: true, body: changes });
	}

	deleteNote(noteId: string): Promise<void> {
		return this.request(`/notes/${encodeURIComponent(noteId)}`, { method: 'DELETE', auth: true });
	}
}

/**
 * A message to show a person for any error thrown by the client (or anything else), always as a
 * sentence: the API's messages are lower-case fragments ("the username or password is wrong"),
 * the app's own are sentences, and a person should read one voice.
 */
export function errorMessage(err: unknown): string {
	if (err instanceof Error && err.message.trim()) return sentence(err.message);
	return 'Something went wrong. Please try again.';
}
