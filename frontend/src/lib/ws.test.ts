import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
	backoffDelay,
	NotesSocket,
	socketProtocols,
	type ConnectionInfo,
	type Timers,
	type WebSocketLike
} from './ws';
import type { NoteEvent } from './types';

class FakeWebSocket implements WebSocketLike {
	static instances: FakeWebSocket[] = [];
	readyState = 0;
	sent: string[] = [];
	closedByClient = false;
	onopen: WebSocketLike['onopen'] = null;
	onclose: WebSocketLike['onclose'] = null;
	onerror: WebSocketLike['onerror'] = null;
	onmessage: WebSocketLike['onmessage'] = null;

	constructor(
		public url: string,
		public protocols?: string | string[]
	) {
		FakeWebSocket.instances.push(this);
	}
	send(data: string) {
		this.sent.push(data);
	}
	close() {
		this.closedByClient = true;
		this.readyState = 3;
	}
	// test helpers: what the server/network does
	serverOpen() {
		this.readyState = 1;
		this.onopen?.({});
	}
	serverDrop(code = 1006) {
		this.readyState = 3;
		this.onerror?.({});
		this.onclose?.({ code, reason: '' });
	}
	serverSend(msg: unknown) {
		this.onmessage?.({ data: typeof msg === 'string' ? msg : JSON.stringify(msg) });
	}
}

const latest = () => FakeWebSocket.instances[FakeWebSocket.instances.length - 1];

/** Timers backed by vitest's fake clock, recording each requested delay. */
function recordingTimers() {
	const delays: number[] = [];
	const intervals: number[] = [];
	const timers: Timers = {
		setTimeout: (fn, ms) => {
			delays.push(ms);
			return setTimeout(fn, ms);
		},
		clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
		setInterval: (fn, ms) => {
			intervals.push(ms);
			return setInterval(fn, ms);
		},
		clearInterval: (h) => clearInterval(h as ReturnType<typeof setInterval>)
	};
	return { timers, delays, intervals };
}

function setup(overrides: { random?: () => number; isOnline?: () => boolean } = {}) {
	const rec = recordingTimers();
	const events: NoteEvent[] = [];
	const states: ConnectionInfo[] = [];
	const onReconnect = vi.fn();
	let token = 'jwt-1';
	const socket = new NotesSocket({
		url: 'ws://127.0.0.1:3001',
		token: () => token,
		onEvent: (e) => events.push(e),
		onStateChange: (s) => states.push(s),
		onReconnect,
		WebSocketImpl: FakeWebSocket,
		timers: rec.timers,
		random: overrides.random ?? (() => 1), // upper edge of the jitter: delays are exact
		now: () => Date.now(),
		isOnline: overrides.isOnline ?? (() => true),
		baseDelayMs: 1000,
		maxDelayMs: 30_000,
		pingIntervalMs: 300_000
	});
	return { socket, events, states, onReconnect, ...rec, setToken: (t: string) => (token = t) };
}

const event = (over: Partial<NoteEvent> = {}): NoteEvent => ({
	eventType: 'note-saved',
	eventId: 'e1',
	timestamp: '2026-01-01T00:00:00.000Z',
	noteId: 'n1',
	username: 'ann',
	content: 'hi',
	isPublic: true,
	savedAt: '2026-01-01T00:00:00.000Z',
	version: 1,
	...over
});

beforeEach(() => {
	FakeWebSocket.instances = [];
	vi.useFakeTimers();
});
afterEach(() => {
	vi.useRealTimers();
});

describe('backoffDelay', () => {
	it('grows exponentially, is capped, and jitters within the upper half', () => {
		const top = () => 1;
		expect([0, 1, 2, 3, 4, 5, 6, 10].map((a) => backoffDelay(a, 1000, 30_000, top))).toEqual([
			1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000
		]);
		expect(backoffDelay(3, 1000, 30_000, () => 0)).toBe(4000);
		for (let i = 0; i < 50; i++) {
			const d = backoffDelay(4, 1000, 30_000, Math.random);
			expect(d).toBeGreaterThanOrEqual(8000);
			expect(d).toBeLessThanOrEqual(16000);
		}
	});
});

describe('socketProtocols', () => {
	// RFC 6455 subprotocol names are HTTP tokens (RFC 9110 tchar); the browser throws a SyntaxError otherwise.
	const tchar = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

	it('offers notes.v1 and the token as bearer.<JWT>, each a valid HTTP token', () => {
		const jwt =
			'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlhdCI6MTc5NTAwMDAwMCwiZXhwIjo0MTAyNDQ0ODAwfQ.EkZJ4qVGqKR3g_K3hX3vHmNCr9VfS2sYgQjXPfD624M';
		const protocols = socketProtocols(jwt);
		expect(protocols).toEqual(['notes.v1', `bearer.${jwt}`]);
		for (const p of protocols) expect(p).toMatch(tchar);
	});

	it('a base64url alphabet and dots are all token characters', () => {
		const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
		expect(`bearer.${alphabet}`).toMatch(tchar);
	});
});

describe('NotesSocket', () => {
	it('connects to wsUrl offering notes.v1 and bearer.JWT, with no token in the URL, and reports open', () => {
		const { socket, states } = setup();
		socket.connect();
		expect(FakeWebSocket.instances).toHaveLength(1);
		expect(latest().url).toBe('ws://127.0.0.1:3001');
		expect(latest().protocols).toEqual(['notes.v1', 'bearer.jwt-1']);
		expect(socket.info.state).toBe('connecting');
		latest().serverOpen();
		expect(socket.info.state).toBe('open');
		expect(states.map((s) => s.state)).toEqual(['connecting', 'open']);
	});

	it('backs off exponentially with a cap while the server stays down', () => {
		const { socket, delays } = setup();
		socket.connect();
		for (let i = 0; i < 8; i++) {
			latest().serverDrop();
			vi.advanceTimersByTime(delays[delays.length - 1]);
		}
		expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
		expect(FakeWebSocket.instances).toHaveLength(9);
	});

	it('does not reconnect before the delay has passed', () => {
		const { socket } = setup();
		socket.connect();
		latest().serverDrop();
		expect(socket.info.state).toBe('reconnecting');
		expect(socket.info.retryAt).toBe(Date.now() + 1000);
		vi.advanceTimersByTime(999);
		expect(FakeWebSocket.instances).toHaveLength(1);
		vi.advanceTimersByTime(1);
		expect(FakeWebSocket.instances).toHaveLength(2);
	});

	it('resets the backoff after a successful open', () => {
		const { socket, delays } = setup();
		socket.connect();
		latest().serverDrop();
		vi.advanceTimersByTime(1000);
		latest().serverDrop();
		vi.advanceTimersByTime(2000);
		latest().serverDrop();
		vi.advanceTimersByTime(4000);
		latest().serverOpen();
		latest().serverDrop();
		expect(delays).toEqual([1000, 2000, 4000, 1000]);
	});

	it('calls the refetch callback after a reconnect, not on the first open', () => {
		const { socket, onReconnect } = setup();
		socket.connect();
		latest().serverOpen();
		expect(onReconnect).not.toHaveBeenCalled();
		latest().serverDrop();
		vi.advanceTimersByTime(1000);
		expect(onReconnect).not.toHaveBeenCalled(); // not until the new socket is actually open
		latest().serverOpen();
		expect(onReconnect).toHaveBeenCalledOnce();
	});

	it('also refetches when the very first connection failed and a later one opens', () => {
		const { socket, onReconnect } = setup();
		socket.connect();
		latest().serverDrop();
		vi.advanceTimersByTime(1000);
		latest().serverOpen();
		expect(onReconnect).toHaveBeenCalledOnce();
	});

	it('offers the fresh token on each reconnect', () => {
		const { socket, setToken } = setup();
		socket.connect();
		setToken('jwt-2');
		latest().serverDrop();
		vi.advanceTimersByTime(1000);
		expect(latest().protocols).toEqual(['notes.v1', 'bearer.jwt-2']);
		expect(latest().url).not.toContain('jwt');
	});

	it('pings every interval while open, and stops when the connection drops', () => {
		const { socket, intervals } = setup();
		socket.connect();
		const ws = latest();
		ws.serverOpen();
		expect(intervals).toEqual([300_000]);
		vi.advanceTimersByTime(300_000);
		expect(ws.sent).toEqual(['{"action":"ping"}']);
		vi.advanceTimersByTime(300_000);
		expect(ws.sent).toHaveLength(2);
		ws.serverDrop();
		vi.advanceTimersByTime(900_000);
		expect(ws.sent).toHaveLength(2);
	});

	it('does not ping before the socket is open', () => {
		const { socket } = setup();
		socket.connect();
		vi.advanceTimersByTime(600_000);
		expect(latest().sent).toEqual([]);
	});

	it('never reconnects after close() (logout)', () => {
		const { socket, states } = setup();
		socket.connect();
		const ws = latest();
		ws.serverOpen();
		socket.close();
		expect(ws.closedByClient).toBe(true);
		expect(socket.info.state).toBe('closed');
		// A late close event from the old socket must not bring it back.
		ws.onclose?.({ code: 1000 });
		vi.advanceTimersByTime(10 * 60_000);
		expect(FakeWebSocket.instances).toHaveLength(1);
		expect(states[states.length - 1].state).toBe('closed');
		expect(vi.getTimerCount()).toBe(0);
	});

	it('cancels a scheduled reconnect on close()', () => {
		const { socket } = setup();
		socket.connect();
		latest().serverDrop();
		expect(vi.getTimerCount()).toBe(1);
		socket.close();
		expect(vi.getTimerCount()).toBe(0);
		vi.advanceTimersByTime(60_000);
		expect(FakeWebSocket.instances).toHaveLength(1);
	});

	it('goOffline drops an open connection at once and shows offline, without waiting for a close', () => {
		const { socket, states, intervals, onReconnect } = setup();
		socket.connect();
		const ws = latest();
		ws.serverOpen();
		expect(intervals).toEqual([300_000]);
		socket.goOffline();
		expect(ws.closedByClient).toBe(true);
		expect(socket.info.state).toBe('offline');
		expect(states.map((s) => s.state)).toEqual(['connecting', 'open', 'offline']);
		// A late close from the dropped socket changes nothing, and nothing is pinged or retried soon.
		ws.onclose?.({ code: 1006 });
		vi.advanceTimersByTime(29_000);
		expect(FakeWebSocket.instances).toHaveLength(1);
		expect(ws.sent).toEqual([]);
		expect(socket.info.state).toBe('offline');
		// The browser is back online: reconnect now, and refetch once open.
		socket.reconnectNow();
		expect(FakeWebSocket.instances).toHaveLength(2);
		latest().serverOpen();
		expect(socket.info.state).toBe('open');
		expect(onReconnect).toHaveBeenCalledOnce();
	});

	it('goOffline while connecting or reconnecting cancels the try and waits for the network', () => {
		const { socket, delays } = setup();
		socket.connect();
		const connecting = latest();
		socket.goOffline();
		expect(connecting.closedByClient).toBe(true);
		expect(socket.info.state).toBe('offline');
		socket.reconnectNow();
		latest().serverDrop();
		expect(socket.info.state).toBe('reconnecting');
		socket.goOffline();
		expect(socket.info.state).toBe('offline');
		expect(vi.getTimerCount()).toBe(1); // the backoff timer was replaced by the slow offline one
		expect(delays).toEqual([30_000, 1000, 30_000]);
	});

	it('while the browser reports no network, a drop waits instead of backing off, trying once per maxDelay', () => {
		let online = true;
		const { socket, delays, states } = setup({ isOnline: () => online });
		socket.connect();
		latest().serverOpen();
		online = false;
		latest().serverDrop();
		expect(socket.info.state).toBe('offline');
		expect(delays).toEqual([30_000]);
		vi.advanceTimersByTime(30_000);
		expect(FakeWebSocket.instances).toHaveLength(2);
		latest().serverDrop();
		expect(socket.info.state).toBe('offline');
		expect(states.map((s) => s.state)).toEqual(['connecting', 'open', 'offline', 'connecting', 'offline']);
		// If the browser was wrong and the try works, the connection is simply open.
		vi.advanceTimersByTime(30_000);
		latest().serverOpen();
		expect(socket.info.state).toBe('open');
	});

	it('goOffline does nothing before connect() or after close()', () => {
		const { socket, states } = setup();
		socket.goOffline();
		expect(states).toEqual([]);
		socket.connect();
		socket.close();
		socket.goOffline();
		expect(socket.info.state).toBe('closed');
		expect(vi.getTimerCount()).toBe(0);
	});

	it('reconnectNow skips the wait and resets the backoff', () => {
		const { socket, delays } = setup();
		socket.connect();
		latest().serverDrop();
		vi.advanceTimersByTime(1000);
		latest().serverDrop(); // next wait would be 2000
		socket.reconnectNow();
		expect(FakeWebSocket.instances).toHaveLength(3);
		latest().serverDrop();
		expect(delays).toEqual([1000, 2000, 1000]);
		expect(vi.getTimerCount()).toBe(1);
	});

	it('delivers note events, drops duplicates by eventId, ignores pong and junk', () => {
		const { socket, events } = setup();
		socket.connect();
		const ws = latest();
		ws.serverOpen();
		ws.serverSend(event());
		ws.serverSend(event()); // at-least-once: same eventId again
		ws.serverSend({ type: 'pong' });
		ws.serverSend('not json');
		ws.serverSend({ eventType: 'note-created', eventId: 'x', noteId: 'n', username: 'u' });
		ws.serverSend(event({ eventId: 'e2', eventType: 'note-deleted' }));
		expect(events.map((e) => e.eventId)).toEqual(['e1', 'e2']);
	});

	it('passes each event on with its numeric version, and drops a repeated eventId whatever its version', () => {
		const { socket, events } = setup();
		socket.connect();
		latest().serverOpen();
		latest().serverSend(event({ eventId: 'e1', version: 1 }));
		latest().serverSend(event({ eventId: 'e2', eventType: 'note-updated', version: 2, wasPublic: true }));
		latest().serverSend(event({ eventId: 'e2', eventType: 'note-updated', version: 3, wasPublic: true }));
		latest().serverSend(event({ eventId: 'e3', eventType: 'note-deleted', version: 4, wasPublic: true }));
		latest().serverSend(event({ eventId: 'e4', eventType: 'note-failed', version: 1, error: 'the service kept failing' }));
		expect(events.map((e) => [e.eventType, e.version])).toEqual([
			['note-saved', 1],
			['note-updated', 2],
			['note-deleted', 4],
			['note-failed', 1]
		]);
	});

	it('remembers eventIds across reconnects', () => {
		const { socket, events } = setup();
		socket.connect();
		latest().serverOpen();
		latest().serverSend(event());
		latest().serverDrop();
		vi.advanceTimersByTime(1000);
		latest().serverOpen();
		latest().serverSend(event());
		expect(events).toHaveLength(1);
	});

	it('accepts a forgotten eventId once more (a failed note sent again fails with the identical event)', () => {
		const { socket, events } = setup();
		socket.connect();
		latest().serverOpen();
		const failed = event({ eventType: 'note-failed', eventId: 'f1', error: 'the service kept failing' });
		latest().serverSend(failed);
		latest().serverSend(failed);
		expect(events).toHaveLength(1);
		socket.forget('f1');
		latest().serverSend(failed);
		latest().serverSend(failed); // and remembered again after that
		expect(events.map((e) => e.eventId)).toEqual(['f1', 'f1']);
	});

	it('ignores messages and closes from a socket it has replaced', () => {
		const { socket, events } = setup();
		socket.connect();
		const old = latest();
		old.serverDrop();
		vi.advanceTimersByTime(1000);
		latest().serverOpen();
		old.serverSend(event());
		old.onclose?.({ code: 1006 });
		expect(events).toHaveLength(0);
		expect(socket.info.state).toBe('open');
	});
});
