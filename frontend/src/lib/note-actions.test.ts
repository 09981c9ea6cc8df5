import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError } from './api';
import {
	deleteNote,
	postNote,
	reloadList,
	resendNote,
	settlePending,
	UNKNOWN_KEY_MESSAGE,
	type ModelStore
} from './note-actions';
import {
	addPending,
	applyEvent,
	emptyModel,
	isDeleted,
	pendingChanges,
	replaceFirstPage,
	restorePending,
	type NotesModel
} from './notes-model';
import { loadPendingNotes, storePendingNotes } from './session';
import type { FailedNote, NoteEvent } from './types';
import { NotesSocket, type WebSocketLike } from './ws';

const T0 = Date.parse('2026-01-01T10:00:00.000Z');
const iso = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

type Call = { method: string; path: string; key: string | null; body: unknown };

function json(status: number, body: unknown): Response {
	return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** An ApiClient over a scripted fetch, and the model in a store as the dashboard holds it. */
function setup(model: NotesModel, answer: (call: Call, store: ModelStore) => Response | Promise<Response>) {
	let current = model;
	const store: ModelStore = { get: () => current, set: (m) => (current = m) };
	const calls: Call[] = [];
	const fetch = vi.fn(async (url: string, init?: RequestInit) => {
		const call: Call = {
			method: init?.method ?? 'GET',
			path: new URL(url).pathname,
			key: new Headers(init?.headers).get('idempotency-key'),
			body: init?.body ? JSON.parse(String(init.body)) : undefined
		};
		calls.push(call);
		return answer(call, store);
	});
	const api = new ApiClient({ baseUrl: 'http://api.test', getToken: () => 'tok', fetch });
	let clock = T0 + 1000;
	const now = () => clock++;
	return { api, store, calls, now };
}

const failedEvent = (over: Partial<NoteEvent> = {}): NoteEvent => ({
	eventType: 'note-failed',
	eventId: 'f1',
	timestamp: iso(10),
	noteId: 'n1',
	username: 'ann',
	error: 'the service kept failing',
	version: 1,
	...over
});

/** n1 posted from this page under key k1, then failed. */
function failedModel(): NotesModel {
	const m = addPending(emptyModel('ann'), { noteId: 'n1', content: 'hello', isPublic: true, idempotencyKey: 'k1' }, T0);
	return applyEvent(m, failedEvent(), T0 + 10);
}

/** n1 as a redrive stored it: one version past its failure. */
const storedNote = {
	noteId: 'n1',
	username: 'ann',
	content: 'hello',
	isPublic: true,
	status: 'saved',
	createdAt: iso(0),
	savedAt: iso(500),
	version: 2
};

const mine = (store: ModelStore) => store.get().mine.items;

describe('resendNote ("Try again")', () => {
	it('posts the same note under its original key; 202 with the same noteId makes it pending again', async () => {
		const { api, store, calls, now } = setup(failedModel(), () =>
			json(202, { message: 'Note submitted for processing', noteId: 'n1', status: 'pending' })
		);
		const forgetEvent = vi.fn();
		await expect(resendNote(api, store, 'n1', { forgetEvent, now })).resolves.toBe('pending');
		expect(calls).toEqual([{ method: 'POST', path: '/notes', key: 'k1', body: { content: 'hello', isPublic: true } }]);
		// Its next note-failed would be the identical event: the socket must let it through.
		expect(forgetEvent).toHaveBeenCalledWith('f1');
		expect(mine(store)).toHaveLength(1);
		expect(mine(store)[0]).toMatchObject({ noteId: 'n1', status: 'pending', idempotencyKey: 'k1' });
		// ...and it waits for its event as usual.
		store.set(applyEvent(store.get(), failedEvent(), now()));
		expect(mine(store)[0]).toMatchObject({ status: 'failed', idempotencyKey: 'k1' });
	});

	it('200 saved: the note was stored meanwhile; reads it with GET /notes/{noteId} and shows it saved', async () => {
		const { api, store, calls, now } = setup(failedModel(), (call) =>
			call.method === 'POST'
				? json(200, { message: 'Note already saved', noteId: 'n1', status: 'saved' })
				: json(200, storedNote)
		);
		await expect(resendNote(api, store, 'n1', { now })).resolves.toBe('saved');
		expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /notes', 'GET /notes/n1']);
		expect(mine(store)).toHaveLength(1);
		expect(mine(store)[0]).toMatchObject({ noteId: 'n1', status: 'saved' });
		expect(store.get().feed.items.map((n) => n.noteId)).toEqual(['n1']);
	});

	it('410 note_deleted: dismissed or deleted meanwhile; drops it for good', async () => {
		const { api, store, now } = setup(failedModel(), () =>
			json(410, { error: 'note_deleted', message: 'the note was deleted' })
		);
		await expect(resendNote(api, store, 'n1', { now })).resolves.toBe('deleted');
		expect(mine(store)).toEqual([]);
		expect(isDeleted(store.get(), 'n1')).toBe(true);
	});

	it('another error: the note stays failed, and the error is thrown for the note to show', async () => {
		const { api, store, now } = setup(failedModel(), () =>
			json(503, { error: 'service_unavailable', message: 'try again later' })
		);
		const before = store.get();
		await expect(resendNote(api, store, 'n1', { now })).rejects.toMatchObject({ status: 503 });
		expect(store.get()).toBe(before);
		expect(mine(store)[0]).toMatchObject({ status: 'failed', idempotencyKey: 'k1' });
	});

	it('keeps the note-saved that beat the 202 answer instead of waiting for it as pending', async () => {
		const { api, store, now } = setup(failedModel(), (_call, s) => {
			s.set(
				applyEvent(
					s.get(),
					{ ...failedEvent(), eventType: 'note-saved', eventId: 's2', content: 'hello', isPublic: true, savedAt: iso(900), version: 2 },
					now()
				)
			);
			return json(202, { message: 'Note submitted for processing', noteId: 'n1', status: 'pending' });
		});
		await expect(resendNote(api, store, 'n1', { now })).resolves.toBe('unchanged');
		expect(mine(store)[0]).toMatchObject({ status: 'saved', version: 2 });
	});

	it('does not send a failed note whose key this page does not know (posted elsewhere)', async () => {
		const { api, store, calls, now } = setup(applyEvent(emptyModel('ann'), failedEvent(), T0), () => json(500, {}));
		await expect(resendNote(api, store, 'n1', { now })).rejects.toThrow(UNKNOWN_KEY_MESSAGE);
		expect(calls).toEqual([]);
	});

	it('sends nothing for a failed note the server listed that this page did not post (no text: Dismiss only)', async () => {
		const listed: FailedNote = {
			noteId: 'n1',
			username: 'ann',
			status: 'failed',
			error: 'the service kept failing',
			createdAt: iso(0),
			failedAt: iso(10),
			version: 1
		};
		const { api, store, calls, now } = setup(replaceFirstPage(emptyModel('ann'), 'mine', { notes: [listed] }, T0, T0), () =>
			json(500, {})
		);
		await expect(resendNote(api, store, 'n1', { now })).rejects.toThrow(UNKNOWN_KEY_MESSAGE);
		expect(calls).toEqual([]);
	});

	it('does nothing for a note that is not failed (any more)', async () => {
		const pending = addPending(emptyModel('ann'), { noteId: 'n1', content: 'x', isPublic: false, idempotencyKey: 'k' }, T0);
		const { api, store, calls, now } = setup(pending, () => json(500, {}));
		await expect(resendNote(api, store, 'n1', { now })).resolves.toBe('unchanged');
		await expect(resendNote(api, store, 'nope', { now })).resolves.toBe('unchanged');
		expect(calls).toEqual([]);
	});

	it('a new noteId (the server forgot the key): shows the new note and withdraws the first with DELETE', async () => {
		const { api, store, calls, now } = setup(failedModel(), (call) =>
			call.method === 'POST'
				? json(202, { message: 'Note submitted for processing', noteId: 'n2', status: 'pending' })
				: new Response(null, { status: 204 })
		);
		await expect(resendNote(api, store, 'n1', { now })).resolves.toBe('pending');
		expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /notes', 'DELETE /notes/n1']);
		expect(mine(store).map((n) => [n.noteId, n.status])).toEqual([['n2', 'pending']]);
		expect(isDeleted(store.get(), 'n1')).toBe(true);
	});

	it('a new noteId whose first copy cannot be withdrawn: both shown, the first still failed, and why', async () => {
		const { api, store, now } = setup(failedModel(), (call) =>
			call.method === 'POST'
				? json(202, { message: 'Note submitted for processing', noteId: 'n2', status: 'pending' })
				: json(500, { error: 'internal_error', message: 'the server had a problem' })
		);
		await expect(resendNote(api, store, 'n1', { now })).rejects.toThrow(/could not be withdrawn\. The server had a problem\./);
		expect(Object.fromEntries(mine(store).map((n) => [n.noteId, n.status]))).toEqual({ n1: 'failed', n2: 'pending' });
	});
});

describe('deleteNote ("Dismiss" and "Delete")', () => {
	it('a never-stored failed note: DELETE answers 204 and it leaves the list for good', async () => {
		const { api, store, calls } = setup(failedModel(), () => new Response(null, { status: 204 }));
		await deleteNote(api, store, 'n1');
		expect(calls).toEqual([{ method: 'DELETE', path: '/notes/n1', key: null, body: undefined }]);
		expect(mine(store)).toEqual([]);
		// A redrive that stored it before the DELETE landed does not bring it back.
		store.set(
			applyEvent(store.get(), {
				eventType: 'note-saved',
				eventId: 's1',
				timestamp: iso(900),
				noteId: 'n1',
				username: 'ann',
				content: 'hello',
				isPublic: true,
				savedAt: iso(900),
				version: 2
			})
		);
		expect(mine(store)).toEqual([]);
		expect(store.get().feed.items).toEqual([]);
	});

	it('404 (already gone): removed too', async () => {
		const { api, store } = setup(failedModel(), () => json(404, { error: 'not_found', message: 'note not found' }));
		await deleteNote(api, store, 'n1');
		expect(mine(store)).toEqual([]);
	});

	it('another error: the note stays, and the error is thrown for the note to show', async () => {
		const { api, store } = setup(failedModel(), () => json(500, { error: 'internal_error', message: 'oops' }));
		const err = await deleteNote(api, store, 'n1').catch((e) => e);
		expect(err).toBeInstanceOf(ApiError);
		expect(err).toMatchObject({ status: 500 });
		expect(mine(store)[0]).toMatchObject({ noteId: 'n1', status: 'failed' });
	});
});

/** A fake browser WebSocket: the test plays the server and the network. */
class FakeWebSocket implements WebSocketLike {
	static instances: FakeWebSocket[] = [];
	readyState = 0;
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
	send() {}
	close() {
		this.readyState = 3;
	}
	serverOpen() {
		this.readyState = 1;
		this.onopen?.({});
	}
	serverDrop() {
		this.readyState = 3;
		this.onclose?.({ code: 1006, reason: '' });
	}
	serverSend(event: NoteEvent) {
		this.onmessage?.({ data: JSON.stringify(event) });
	}
}

const noTimers = { setTimeout: () => 0, clearTimeout: () => {}, setInterval: () => 0, clearInterval: () => {} };

/** The server's answer for n1 once it could not be stored. */
const serverFailure: FailedNote = {
	noteId: 'n1',
	username: 'ann',
	status: 'failed',
	error: 'The note could not be stored: the notes table refused it.',
	createdAt: iso(0),
	failedAt: iso(20),
	version: 1
};

/** A REST server for ann's n1 in a given state: still on its way, stored, or failed. */
function server(state: () => 'on its way' | 'stored' | 'failed') {
	return (call: Call) => {
		if (call.method === 'POST') return json(202, { message: 'Note submitted for processing', noteId: 'n1', status: 'pending' });
		const n1 = state() === 'failed' ? serverFailure : state() === 'stored' ? { ...storedNote, version: 1 } : undefined;
		if (call.path === '/notes') return json(200, { notes: n1 ? [n1] : [] });
		if (call.path === '/notes/public') return json(200, { notes: n1 && state() === 'stored' ? [n1] : [] });
		if (call.path === '/notes/n1') return n1 ? json(200, n1) : json(404, { error: 'not_found', message: 'note not found' });
		return json(500, {});
	};
}

describe('settling pending notes on (re)connect and on load', () => {
	it('a note whose note-failed was pushed while its owner had no open connection is shown as failed, with its reason, after the owner reconnects', async () => {
		FakeWebSocket.instances = [];
		let state: 'on its way' | 'failed' = 'on its way';
		const { api, store, now } = setup(emptyModel('ann'), server(() => state));
		const reconnected: Promise<void>[] = [];
		// As the dashboard does it: on a reconnect, both lists again, then the notes still pending.
		const resync = async () => {
			await Promise.all([reloadList(api, store, 'mine', { limit: 20, now }), reloadList(api, store, 'feed', { limit: 20, now })]);
			await settlePending(api, store, { now });
		};
		const socket = new NotesSocket({
			url: 'ws://ws.test',
			token: () => 'tok',
			onEvent: (event) => store.set(applyEvent(store.get(), event, now())),
			onReconnect: () => void reconnected.push(resync()),
			WebSocketImpl: FakeWebSocket,
			timers: noTimers,
			isOnline: () => true
		});
		socket.connect();
		FakeWebSocket.instances.at(-1)!.serverOpen();

		await expect(postNote(api, store, { content: 'hello', isPublic: true, idempotencyKey: 'k1' }, { now })).resolves.toBe('pending');
		expect(mine(store)[0]).toMatchObject({ noteId: 'n1', status: 'pending' });

		// The connection drops; meanwhile the note fails, and its note-failed is pushed to no one.
		FakeWebSocket.instances.at(-1)!.serverDrop();
		state = 'failed';
		expect(mine(store)[0].status).toBe('pending');

		socket.reconnectNow();
		FakeWebSocket.instances.at(-1)!.serverOpen();
		expect(reconnected).toHaveLength(1);
		await reconnected[0];

		expect(mine(store)).toHaveLength(1);
		expect(mine(store)[0]).toMatchObject({
			noteId: 'n1',
			status: 'failed',
			error: 'The note could not be stored: the notes table refused it.',
			// Posted from this page: its text and key are still here, so "Try again" is offered.
			content: 'hello',
			idempotencyKey: 'k1'
		});
		expect(store.get().feed.items).toEqual([]);
		socket.close();
	});

	it('settlePending: GET /notes/{noteId} answers failed, the note shows failed with exactly the server\'s error', async () => {
		const { api, store, calls, now } = setup(emptyModel('ann'), server(() => 'failed'));
		store.set(addPending(store.get(), { noteId: 'n1', content: 'hello', isPublic: false, idempotencyKey: 'k1' }, T0));
		await settlePending(api, store, { now });
		expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /notes/n1']);
		expect(mine(store)[0]).toMatchObject({ status: 'failed', error: serverFailure.error, content: 'hello', idempotencyKey: 'k1' });
	});

	it('settlePending: GET /notes/{noteId} answers saved, the note shows saved', async () => {
		const { api, store, now } = setup(emptyModel('ann'), server(() => 'stored'));
		store.set(addPending(store.get(), { noteId: 'n1', content: 'hello', isPublic: true, idempotencyKey: 'k1' }, T0));
		await settlePending(api, store, { now });
		expect(mine(store)[0]).toMatchObject({ status: 'saved', content: 'hello', version: 1 });
		expect(store.get().feed.items.map((n) => n.noteId)).toEqual(['n1']);
	});

	it('settlePending: 404 (still on its way) or an error leaves the note pending', async () => {
		let answer = json(404, { error: 'not_found', message: 'note not found' });
		const { api, store, calls, now } = setup(emptyModel('ann'), () => answer);
		store.set(addPending(store.get(), { noteId: 'n1', content: 'hello', isPublic: false, idempotencyKey: 'k1' }, T0));
		const before = store.get();
		await settlePending(api, store, { now });
		answer = json(503, { error: 'service_unavailable', message: 'try again later' });
		await expect(settlePending(api, store, { now })).resolves.toBeUndefined();
		expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /notes/n1', 'GET /notes/n1']);
		expect(store.get()).toBe(before);
		expect(mine(store)[0].status).toBe('pending');
	});

	it('settlePending asks nothing when no note is pending', async () => {
		const { api, store, calls, now } = setup(failedModel(), () => json(500, {}));
		await settlePending(api, store, { now });
		expect(calls).toEqual([]);
	});

	it('reloadList of my notes settles a pending note the list shows failed, keeping its text and key', async () => {
		const { api, store, calls, now } = setup(emptyModel('ann'), server(() => 'failed'));
		store.set(addPending(store.get(), { noteId: 'n1', content: 'hello', isPublic: false, idempotencyKey: 'k1' }, T0));
		await reloadList(api, store, 'mine', { limit: 20, now });
		expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /notes']);
		expect(mine(store)[0]).toMatchObject({ status: 'failed', error: serverFailure.error, content: 'hello', idempotencyKey: 'k1' });
	});

	it('a note posted before a reload is still pending after it, and settled on load as the server has it', async () => {
		const storage = memoryStorage();
		let state: 'on its way' | 'failed' = 'on its way';
		const { api, store, now } = setup(emptyModel('ann'), server(() => state));
		// Before the reload: posted, written down as pending.
		const before = store.get();
		await postNote(api, store, { content: 'hello', isPublic: true, idempotencyKey: 'k1' }, { now });
		storePendingNotes('ann', pendingChanges(before, store.get()), storage);
		expect(loadPendingNotes('ann', storage, now())).toHaveLength(1);

		// The reload: a fresh page restores it, pending, then loads and settles.
		state = 'failed';
		store.set(restorePending(emptyModel('ann'), loadPendingNotes('ann', storage, now()), now()));
		expect(mine(store)[0]).toMatchObject({ noteId: 'n1', status: 'pending', content: 'hello', idempotencyKey: 'k1' });
		const restored = store.get();
		await reloadList(api, store, 'mine', { limit: 20, now });
		await settlePending(api, store, { now });
		expect(mine(store)[0]).toMatchObject({ status: 'failed', error: serverFailure.error, content: 'hello', idempotencyKey: 'k1' });

		// Settled: no longer written down.
		storePendingNotes('ann', pendingChanges(restored, store.get()), storage);
		expect(loadPendingNotes('ann', storage, now())).toEqual([]);
	});
});

describe('postNote', () => {
	it('202: shows the note pending, with the key it was posted under', async () => {
		const { api, store, calls, now } = setup(emptyModel('ann'), server(() => 'on its way'));
		await expect(postNote(api, store, { content: 'hello', isPublic: false, idempotencyKey: 'k1' }, { now })).resolves.toBe(
			'pending'
		);
		expect(calls).toEqual([{ method: 'POST', path: '/notes', key: 'k1', body: { content: 'hello', isPublic: false } }]);
		expect(mine(store)[0]).toMatchObject({ noteId: 'n1', status: 'pending', idempotencyKey: 'k1', version: 0 });
	});

	it('200 saved (a retry of a stored note): reads it and shows it saved', async () => {
		const { api, store, calls, now } = setup(emptyModel('ann'), (call) =>
			call.method === 'POST'
				? json(200, { message: 'Note already saved', noteId: 'n1', status: 'saved' })
				: json(200, { ...storedNote, version: 1 })
		);
		await expect(postNote(api, store, { content: 'hello', isPublic: true, idempotencyKey: 'k1' }, { now })).resolves.toBe('saved');
		expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /notes', 'GET /notes/n1']);
		expect(mine(store)[0]).toMatchObject({ noteId: 'n1', status: 'saved', version: 1 });
	});
});

function memoryStorage() {
	const m = new Map<string, string>();
	return {
		getItem: (k: string) => m.get(k) ?? null,
		setItem: (k: string, v: string) => void m.set(k, v),
		removeItem: (k: string) => void m.delete(k)
	};
}
