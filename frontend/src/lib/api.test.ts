import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError, errorMessage } from './api';

type Call = { url: string; init: RequestInit };

function jsonResponse(status: number, body: unknown): Response {
	return new Response(body === undefined ? null : JSON.stringify(body), {
		status,
		headers: { 'content-type': 'application/json' }
	});
}

function client(responses: Response[] | ((call: Call) => Response | Promise<Response>), token: string | null = 'tok123') {
	const calls: Call[] = [];
	const queue = Array.isArray(responses) ? [...responses] : null;
	const fetch = vi.fn(async (url: string, init?: RequestInit) => {
		const call = { url, init: init ?? {} };
		calls.push(call);
		if (queue) {
			const next = queue.shift();
			if (!next) throw new Error('no more responses');
			return next;
		}
		return (responses as (c: Call) => Response)(call);
	});
	const onUnauthorized = vi.fn();
	const api = new ApiClient({ baseUrl: 'http://api.test/', getToken: () => token, fetch, onUnauthorized });
	return { api, calls, fetch, onUnauthorized };
}

const header = (c: Call, name: string) => new Headers(c.init.headers).get(name);

describe('ApiClient', () => {
	it('signs up with a JSON body and no auth header', async () => {
		const { api, calls } = client([jsonResponse(201, { username: 'ann', createdAt: '2026-01-01T00:00:00.000Z' })]);
		const res = await api.signup('ann', 'secret-pass');
		expect(res.username).toBe('ann');
		expect(calls[0].url).toBe('http://api.test/auth/signup');
		expect(calls[0].init.method).toBe('POST');
		expect(JSON.parse(String(calls[0].init.body))).toEqual({ username: 'ann', password: 'secret-pass' });
		expect(header(calls[0], 'content-type')).toBe('application/json');
		expect(header(calls[0], 'authorization')).toBeNull();
	});

	it('logs in and returns the token', async () => {
		const { api } = client([
			jsonResponse(200, { token: 'jwt', tokenType: 'Bearer', expiresAt: '2026-01-02T00:00:00.000Z', username: 'ann' })
		]);
		await expect(api.login('ann', 'secret-pass')).resolves.toMatchObject({ token: 'jwt', username: 'ann' });
	});

	it('sends Authorization: Bearer on authenticated routes', async () => {
		const { api, calls } = client([jsonResponse(200, { username: 'ann', createdAt: 'x' })]);
		await api.me();
		expect(calls[0].url).toBe('http://api.test/auth/user');
		expect(header(calls[0], 'authorization')).toBe('Bearer tok123');
	});

	it('posts a note with isPublic and an Idempotency-Key', async () => {
		const { api, calls } = client([
			jsonResponse(202, { message: 'Note submitted for processing', noteId: 'n1', status: 'pending' })
		]);
		const res = await api.createNote('hello', true, 'key-1');
		expect(res).toEqual({ message: 'Note submitted for processing', noteId: 'n1', status: 'pending' });
		expect(JSON.parse(String(calls[0].init.body))).toEqual({ content: 'hello', isPublic: true });
		expect(header(calls[0], 'idempotency-key')).toBe('key-1');
		expect(header(calls[0], 'authorization')).toBe('Bearer tok123');
	});

	it('sends a retry under the same Idempotency-Key and reads each answer: 202 same noteId, 200 saved, 410 note_deleted', async () => {
		const { api, calls } = client([
			jsonResponse(202, { message: 'Note submitted for processing', noteId: 'n1', status: 'pending' }),
			jsonResponse(200, { message: 'Note already saved', noteId: 'n1', status: 'saved' }),
			jsonResponse(410, { error: 'note_deleted', message: 'the note was deleted' })
		]);
		await expect(api.createNote('hello', false, 'key-1')).resolves.toMatchObject({ noteId: 'n1', status: 'pending' });
		await expect(api.createNote('hello', false, 'key-1')).resolves.toMatchObject({ noteId: 'n1', status: 'saved' });
		const gone = await api.createNote('hello', false, 'key-1').catch((e) => e);
		expect(gone).toBeInstanceOf(ApiError);
		expect(gone).toMatchObject({ status: 410, code: 'note_deleted' });
		expect(calls.map((c) => header(c, 'idempotency-key'))).toEqual(['key-1', 'key-1', 'key-1']);
		expect(calls.map((c) => JSON.parse(String(c.init.body)))).toEqual(
			Array(3).fill({ content: 'hello', isPublic: false })
		);
	});

	it('sends no Idempotency-Key header when given none', async () => {
		const { api, calls } = client([jsonResponse(202, { message: 'ok', noteId: 'n2', status: 'pending' })]);
		await api.createNote('hello', false);
		expect(header(calls[0], 'idempotency-key')).toBeNull();
	});

	it('maps the contract error body to ApiError with its message', async () => {
		const { api } = client([jsonResponse(409, { error: 'username_taken', message: 'That username is taken.' })]);
		const err = await api.signup('ann', 'secret-pass').catch((e) => e);
		expect(err).toBeInstanceOf(ApiError);
		expect(err).toMatchObject({ status: 409, code: 'username_taken', message: 'That username is taken.' });
		expect(errorMessage(err)).toBe('That username is taken.');
	});

	it('shows the API\'s lower-case fragments as sentences', async () => {
		const { api } = client([
			jsonResponse(401, { error: 'invalid_credentials', message: 'the username or password is wrong' }),
			jsonResponse(400, { error: 'invalid_request', message: 'content must be at most 10000 characters long' })
		]);
		const login = await api.login('ann', 'nope-nope').catch((e) => e);
		expect(login.message).toBe('the username or password is wrong');
		expect(errorMessage(login)).toBe('The username or password is wrong.');
		const post = await api.createNote('x', false).catch((e) => e);
		expect(errorMessage(post)).toBe('Content must be at most 10000 characters long.');
		expect(errorMessage(new ApiError(0, 'network_error', 'Could not reach the server. Check your connection and try again.'))).toBe(
			'Could not reach the server. Check your connection and try again.'
		);
		expect(errorMessage(new Error('  '))).toBe('Something went wrong. Please try again.');
		expect(errorMessage('nope')).toBe('Something went wrong. Please try again.');
	});

	it('does not treat a failed login (401 without token) as an expired session', async () => {
		const { api, onUnauthorized } = client([
			jsonResponse(401, { error: 'invalid_credentials', message: 'Wrong username or password.' })
		]);
		await expect(api.login('ann', 'nope-nope')).rejects.toMatchObject({ code: 'invalid_credentials' });
		expect(onUnauthorized).not.toHaveBeenCalled();
	});

	it('reports 401 on an authenticated route to onUnauthorized', async () => {
		const { api, onUnauthorized } = client([jsonResponse(401, { error: 'unauthorized', message: 'Token expired.' })]);
		await expect(api.listNotes()).rejects.toMatchObject({ status: 401, message: 'Token expired.' });
		expect(onUnauthorized).toHaveBeenCalledOnce();
	});

	it('refuses an authenticated call without a token, without calling fetch', async () => {
		const { api, fetch, onUnauthorized } = client([], null);
		await expect(api.listNotes()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
		expect(fetch).not.toHaveBeenCalled();
		expect(onUnauthorized).toHaveBeenCalledOnce();
	});

	it('gives a readable error for a body that is not the contract shape', async () => {
		const { api } = client([
			new Response('<html>Bad gateway</html>', { status: 502 }),
			new Response('', { status: 413 }),
			new Response('{"oops":1}', { status: 418 })
		]);
		await expect(api.listPublicNotes()).rejects.toMatchObject({ status: 502, code: 'server_error' });
		await expect(api.listPublicNotes()).rejects.toMatchObject({ status: 413, code: 'payload_too_large' });
		await expect(api.listPublicNotes()).rejects.toMatchObject({ status: 418, code: 'http_error' });
	});

	it('maps a network failure to status 0 network_error', async () => {
		const { api } = client(() => {
			throw new TypeError('Failed to fetch');
		});
		const err = await api.listPublicNotes().catch((e) => e);
		expect(err).toMatchObject({ status: 0, code: 'network_error' });
		expect(err.message).toMatch(/reach the server/);
	});

	it('paginates with limit and an encoded cursor, and returns nextCursor', async () => {
		const { api, calls } = client([
			jsonResponse(200, { notes: [{ noteId: 'a' }], nextCursor: 'c/1+=' }),
			jsonResponse(200, { notes: [{ noteId: 'b' }] })
		]);
		const first = await api.listNotes({ limit: 10 });
		expect(first.nextCursor).toBe('c/1+=');
		const second = await api.listNotes({ limit: 10, cursor: first.nextCursor });
		expect(second.nextCursor).toBeUndefined();
		expect(calls[0].url).toBe('http://api.test/notes?limit=10');
		const url = new URL(calls[1].url);
		expect(url.pathname).toBe('/notes');
		expect(url.searchParams.get('cursor')).toBe('c/1+=');
		expect(url.searchParams.get('limit')).toBe('10');
	});

	it('lists the public feed without an auth header', async () => {
		const { api, calls } = client([jsonResponse(200, { notes: [] })]);
		await api.listPublicNotes({ cursor: 'abc' });
		expect(calls[0].url).toBe('http://api.test/notes/public?cursor=abc');
		expect(header(calls[0], 'authorization')).toBeNull();
	});

	it('updates with PUT and deletes with DELETE (204 has no body)', async () => {
		const note = { noteId: 'n 1', username: 'ann', content: 'x', isPublic: false, status: 'saved' };
		const { api, calls } = client([jsonResponse(200, note), new Response(null, { status: 204 })]);
		await expect(api.updateNote('n 1', { content: 'x' })).resolves.toEqual(note);
		await expect(api.deleteNote('n 1')).resolves.toBeUndefined();
		expect(calls[0].init.method).toBe('PUT');
		expect(calls[0].url).toBe('http://api.test/notes/n%201');
		expect(JSON.parse(String(calls[0].init.body))).toEqual({ content: 'x' });
		expect(calls[1].init.method).toBe('DELETE');
		expect(header(calls[1], 'authorization')).toBe('Bearer tok123');
	});

	it('dismisses a never-stored note with DELETE: 204, no body', async () => {
		// The server answers 204 for a note id it never stored (and then refuses to store it later).
		const { api, calls } = client([new Response(null, { status: 204 })]);
		await expect(api.deleteNote('0198c0de-0000-7000-8000-000000000001')).resolves.toBeUndefined();
		expect(calls).toHaveLength(1);
		expect(calls[0].init.method).toBe('DELETE');
		expect(calls[0].url).toBe('http://api.test/notes/0198c0de-0000-7000-8000-000000000001');
		expect(calls[0].init.body).toBeUndefined();
		expect(header(calls[0], 'authorization')).toBe('Bearer tok123');
	});

	it('maps 404 on DELETE to ApiError not_found', async () => {
		const { api } = client([jsonResponse(404, { error: 'not_found', message: 'note not found' })]);
		await expect(api.deleteNote('n1')).rejects.toMatchObject({ status: 404, code: 'not_found' });
	});

	it('reads a stored note with its numeric version', async () => {
		const note = {
			noteId: 'n1',
			username: 'ann',
			content: 'hi',
			isPublic: true,
			status: 'saved',
			createdAt: '2026-01-01T00:00:00.000Z',
			savedAt: '2026-01-01T00:00:00.100Z',
			updatedAt: '2026-01-01T00:00:05.000Z',
			version: 3
		};
		const { api } = client([jsonResponse(200, note)]);
		await expect(api.getNote('n1')).resolves.toEqual(note);
	});

	it('reads a failed note from GET /notes/{noteId}: 200 with status failed, its error and version, no content', async () => {
		const failed = {
			noteId: 'n1',
			username: 'ann',
			status: 'failed',
			error: 'The note could not be stored.',
			createdAt: '2026-01-01T00:00:00.000Z',
			failedAt: '2026-01-01T00:00:30.000Z',
			version: 1
		};
		const { api, calls } = client([jsonResponse(200, failed)]);
		const note = await api.getNote('n1');
		expect(note).toEqual(failed);
		expect(note.status === 'failed' && note.error).toBe('The note could not be stored.');
		expect('content' in note).toBe(false);
		expect(calls[0].url).toBe('http://api.test/notes/n1');
		expect(header(calls[0], 'authorization')).toBe('Bearer tok123');
	});

	it('lists failed notes beside stored ones in GET /notes (the owner\'s list), each with its version', async () => {
		const page = {
			notes: [
				{ noteId: 'b', username: 'ann', status: 'failed', error: 'refused', createdAt: 'x', failedAt: 'y', version: 1 },
				{ noteId: 'a', username: 'ann', content: 'hi', isPublic: false, status: 'saved', createdAt: 'x', savedAt: 'x', version: 2 }
			]
		};
		const { api } = client([jsonResponse(200, page)]);
		const res = await api.listNotes();
		expect(res.notes.map((n) => [n.noteId, n.status, n.version])).toEqual([
			['b', 'failed', 1],
			['a', 'saved', 2]
		]);
	});

	it('maps 404 on get to not_found with the server message', async () => {
		const { api } = client([jsonResponse(404, { error: 'not_found', message: 'Note not found.' })]);
		await expect(api.getNote('zz')).rejects.toMatchObject({ status: 404, code: 'not_found', message: 'Note not found.' });
	});
});
