import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError } from './api';
import { deleteNote, resendNote, UNKNOWN_KEY_MESSAGE, type ModelStore } from './note-actions';
import { addPending, applyEvent, emptyModel, isDeleted, type NotesModel } from './notes-model';
import type { NoteEvent } from './types';

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
	...over
});

/** n1 posted from this page under key k1, then failed. */
function failedModel(): NotesModel {
	const m = addPending(emptyModel('ann'), { noteId: 'n1', content: 'hello', isPublic: true, idempotencyKey: 'k1' }, T0);
	return applyEvent(m, failedEvent(), T0 + 10);
}

const storedNote = {
	noteId: 'n1',
	username: 'ann',
	content: 'hello',
	isPublic: true,
	status: 'saved',
	createdAt: iso(0),
	savedAt: iso(500)
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

	it('keeps the note-failed that beat the 202 answer instead of waiting for it as pending', async () => {
		const { api, store, now } = setup(failedModel(), (_call, s) => {
			s.set(applyEvent(s.get(), failedEvent({ error: 'failed again' }), now()));
			return json(202, { message: 'Note submitted for processing', noteId: 'n1', status: 'pending' });
		});
		await expect(resendNote(api, store, 'n1', { now })).resolves.toBe('unchanged');
		expect(mine(store)[0]).toMatchObject({ status: 'failed', error: 'failed again' });
	});

	it('does not send a failed note whose key this page does not know (posted elsewhere)', async () => {
		const { api, store, calls, now } = setup(applyEvent(emptyModel('ann'), failedEvent(), T0), () => json(500, {}));
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
				savedAt: iso(900)
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
