import { NOTE_EVENT_TYPES, type NoteEvent } from './types';

/** The part of the browser's WebSocket the client uses, so tests can pass a fake. */
export interface WebSocketLike {
	readonly readyState: number;
	onopen: ((ev: unknown) => void) | null;
	onclose: ((ev: { code?: number; reason?: string }) => void) | null;
	onerror: ((ev: unknown) => void) | null;
	onmessage: ((ev: { data: unknown }) => void) | null;
	send(data: string): void;
	close(code?: number, reason?: string): void;
}

export type WebSocketFactory = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** The subprotocol of the notes WebSocket API: offered with the token, selected by `$connect`. */
export const SUBPROTOCOL = 'notes.v1';

/**
 * What the app offers in `Sec-WebSocket-Protocol`: `notes.v1` and its token as `bearer.<JWT>`.
 * The token rides in the handshake's headers, not in the URL, so it is in no console message about
 * a failed connect and in no log that records URLs. (A JWT is base64url and dots, all characters a
 * subprotocol name may hold.) `$connect` selects `notes.v1` and never sends the token back.
 */
export function socketProtocols(token: string): string[] {
	return [SUBPROTOCOL, `bearer.${token}`];
}

export interface Timers {
	setTimeout(fn: () => void, ms: number): unknown;
	clearTimeout(handle: unknown): void;
	setInterval(fn: () => void, ms: number): unknown;
	clearInterval(handle: unknown): void;
}

/**
 * `offline`: the browser reports no network; the connection was dropped at once and the next try
 * waits for the network to come back (`reconnectNow()` on the browser's `online` event).
 */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'offline' | 'closed';

export interface ConnectionInfo {
	state: ConnectionState;
	/** Failed connections in a row since the last successful open. */
	attempt: number;
	/** While reconnecting or offline: when the next try starts (epoch ms, from `now()`). */
	retryAt?: number;
}

export interface NotesSocketOptions {
	/** The WebSocket API (the configuration's `wsUrl`), as it is: the token is not in it. */
	url: string;
	/** The current token, read for each connection, so a reconnect uses a fresh one. */
	token: () => string;
	onEvent: (event: NoteEvent) => void;
	onStateChange?: (info: ConnectionInfo) => void;
	/** Called when a connection opens after an earlier one dropped or failed: refetch what may have been missed. */
	onReconnect?: () => void;
	WebSocketImpl?: WebSocketFactory;
	timers?: Timers;
	random?: () => number;
	now?: () => number;
	/**
	 * Whether the browser reports a network (`navigator.onLine`). While it does not, a dropped
	 * connection waits for `reconnectNow()` instead of retrying on the backoff schedule, except for
	 * one try every `maxDelayMs`, in case the browser's report is wrong.
	 */
	isOnline?: () => boolean;
	/** First retry delay; doubles each failure up to `maxDelayMs`. */
	baseDelayMs?: number;
	maxDelayMs?: number;
	/** Keep-alive ping period; API Gateway drops a connection idle for 10 minutes. */
	pingIntervalMs?: number;
	/** How many recent eventIds to remember for de-duplication. */
	dedupeSize?: number;
}

const OPEN = 1;

function browserOnline(): boolean {
	// Node (the unit tests) has no navigator.onLine: count it as online.
	return typeof navigator === 'undefined' || navigator.onLine !== false;
}

const defaultTimers: Timers = {
	setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
	clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
	setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
	clearInterval: (h) => globalThis.clearInterval(h as ReturnType<typeof setInterval>)
};

/**
 * Exponential backoff with "equal jitter": the capped exponential delay, then a random
 * point in its upper half, so many clients dropped at once do not come back in lockstep
 * while the delay still grows.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
	const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
	return Math.round(exp / 2 + random() * (exp / 2));
}

function isNoteEvent(value: unknown): value is NoteEvent {
	if (typeof value !== 'object' || value === null) return false;
	const v = value as Record<string, unknown>;
	return (
		typeof v.eventType === 'string' &&
		(NOTE_EVENT_TYPES as readonly string[]).includes(v.eventType) &&
		typeof v.noteId === 'string' &&
		typeof v.username === 'string'
	);
}

/**
 * The live-update connection: connects to `wsUrl` offering `socketProtocols(token)`, parses and
 * de-duplicates note events, pings to stay alive, and reconnects with backoff until `close()`.
 */
export class NotesSocket {
	private readonly opts: Required<
		Omit<NotesSocketOptions, 'onStateChange' | 'onReconnect' | 'WebSocketImpl'>
	> &
		Pick<NotesSocketOptions, 'onStateChange' | 'onReconnect'> & { WebSocketImpl: WebSocketFactory | undefined };
	private ws: WebSocketLike | null = null;
	private retryTimer: unknown = null;
	private pingTimer: unknown = null;
	private attempt = 0;
	private sockets = 0;
	private stopped = false;
	private seen = new Set<string>();
	private _info: ConnectionInfo = { state: 'idle', attempt: 0 };

	constructor(options: NotesSocketOptions) {
		this.opts = {
			timers: defaultTimers,
			random: Math.random,
			now: Date.now,
			isOnline: browserOnline,
			baseDelayMs: 1000,
			maxDelayMs: 30_000,
			pingIntervalMs: 5 * 60_000,
			dedupeSize: 1000,
			...options,
			WebSocketImpl:
				options.WebSocketImpl ??
				(typeof WebSocket === 'undefined' ? undefined : (WebSocket as unknown as WebSocketFactory))
		};
	}

	get info(): ConnectionInfo {
		return this._info;
	}

	/** Start connecting (no-op if already connected or connecting). */
	connect(): void {
		this.stopped = false;
		if (this.ws || this.retryTimer !== null) return;
		this.open();
	}

	/** Skip the wait and try now (e.g. the browser says it is back online). */
	reconnectNow(): void {
		if (this.stopped || this.ws) return;
		this.clearRetry();
		this.attempt = 0;
		this.open();
	}

	/**
	 * The browser says the network is gone (its `offline` event): drop the connection now, rather than
	 * show "Live" until a dead socket times out, which can take minutes, and wait for the network.
	 */
	goOffline(): void {
		if (this.stopped || this._info.state === 'idle' || this._info.state === 'offline') return;
		this.drop('offline');
		this.waitForNetwork();
	}

	/**
	 * Accept `eventId` once more. A note sent again under its Idempotency-Key republishes the
	 * identical note-created, so a second failure arrives as the identical note-failed (its id is
	 * derived from the cause's, docs/events.md): without this the copy check would drop it and the
	 * note would wait as pending for an event that already came.
	 */
	forget(eventId: string): void {
		this.seen.delete(eventId);
	}

	/** Stops retrying and pinging, and closes the socket, if any, with `reason`. */
	private drop(reason: string): void {
		this.clearRetry();
		this.stopPing();
		const ws = this.ws;
		this.ws = null;
		if (ws) {
			this.detach(ws);
			try {
				ws.close(1000, reason);
			} catch {
				/* already closing */
			}
		}
	}

	/** Close for good (logout, leaving the page): no reconnect after this. */
	close(): void {
		this.stopped = true;
		this.drop('client closed');
		this.setState({ state: 'closed', attempt: this.attempt });
	}

	private setState(info: ConnectionInfo): void {
		this._info = info;
		this.opts.onStateChange?.(info);
	}

	private detach(ws: WebSocketLike): void {
		ws.onopen = ws.onclose = ws.onerror = ws.onmessage = null;
	}

	private open(): void {
		const Impl = this.opts.WebSocketImpl;
		if (!Impl) throw new Error('No WebSocket implementation available');
		const isReconnect = this.sockets > 0;
		this.sockets += 1;
		this.setState({ state: 'connecting', attempt: this.attempt });

		let ws: WebSocketLike;
		try {
			ws = new Impl(this.opts.url, socketProtocols(this.opts.token()));
		} catch {
			this.scheduleReconnect();
			return;
		}
		this.ws = ws;

		ws.onopen = () => {
			if (this.ws !== ws) return;
			this.attempt = 0;
			this.setState({ state: 'open', attempt: 0 });
			this.startPing();
			if (isReconnect) this.opts.onReconnect?.();
		};
		ws.onmessage = (ev) => {
			if (this.ws !== ws) return;
			this.handleMessage(ev.data);
		};
		ws.onerror = () => {
			// A close event always follows an error; reconnecting is handled there.
		};
		ws.onclose = () => {
			if (this.ws !== ws) return;
			this.detach(ws);
			this.ws = null;
			this.stopPing();
			if (!this.stopped) this.scheduleReconnect();
		};
	}

	private scheduleReconnect(): void {
		if (!this.opts.isOnline()) {
			this.attempt += 1;
			this.waitForNetwork();
			return;
		}
		const delay = backoffDelay(this.attempt, this.opts.baseDelayMs, this.opts.maxDelayMs, this.opts.random);
		this.attempt += 1;
		this.setState({ state: 'reconnecting', attempt: this.attempt, retryAt: this.opts.now() + delay });
		this.retryTimer = this.opts.timers.setTimeout(() => {
			this.retryTimer = null;
			if (!this.stopped) this.open();
		}, delay);
	}

	/** Offline: no backoff schedule; `reconnectNow()` when the network is back, one try per `maxDelayMs` till then. */
	private waitForNetwork(): void {
		const delay = this.opts.maxDelayMs;
		this.setState({ state: 'offline', attempt: this.attempt, retryAt: this.opts.now() + delay });
		this.retryTimer = this.opts.timers.setTimeout(() => {
			this.retryTimer = null;
			if (!this.stopped) this.open();
		}, delay);
	}

	private clearRetry(): void {
		if (this.retryTimer !== null) {
			this.opts.timers.clearTimeout(this.retryTimer);
			this.retryTimer = null;
		}
	}

	private startPing(): void {
		this.stopPing();
		this.pingTimer = this.opts.timers.setInterval(() => {
			const ws = this.ws;
			if (ws && ws.readyState === OPEN) {
				try {
					ws.send(JSON.stringify({ action: 'ping' }));
				} catch {
					/* the close handler will reconnect */
				}
			}
		}, this.opts.pingIntervalMs);
	}

	private stopPing(): void {
		if (this.pingTimer !== null) {
			this.opts.timers.clearInterval(this.pingTimer);
			this.pingTimer = null;
		}
	}

	private handleMessage(data: unknown): void {
		if (typeof data !== 'string') return;
		let msg: unknown;
		try {
			msg = JSON.parse(data);
		} catch {
			return;
		}
		if (!isNoteEvent(msg)) return; // {"type":"pong"} and anything unknown
		if (typeof msg.eventId === 'string' && msg.eventId) {
			if (this.seen.has(msg.eventId)) return;
			this.seen.add(msg.eventId);
			if (this.seen.size > this.opts.dedupeSize) {
				// Sets iterate in insertion order: drop the oldest.
				const oldest = this.seen.values().next().value;
				if (oldest !== undefined) this.seen.delete(oldest);
			}
		}
		this.opts.onEvent(msg);
	}
}
