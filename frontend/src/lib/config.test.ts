import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from './config';

describe('runtime config', () => {
	it('loads /config.json without caching and trims trailing slashes', async () => {
		let seen: { url: string; init?: RequestInit } | null = null;
		const cfg = await loadConfig(async (url, init) => {
			seen = { url, init };
			return new Response(JSON.stringify({ apiUrl: 'http://127.0.0.1:3000/', wsUrl: 'wss://x.example/prod' }));
		});
		expect(cfg).toEqual({ apiUrl: 'http://127.0.0.1:3000', wsUrl: 'wss://x.example/prod' });
		expect(seen!.url).toBe('/config.json');
		expect(seen!.init?.cache).toBe('no-store');
	});

	it('rejects a missing file or wrong URLs with a clear message', async () => {
		await expect(loadConfig(async () => new Response('nope', { status: 404 }))).rejects.toThrow(/HTTP 404/);
		expect(() => parseConfig({ apiUrl: 'http://a' })).toThrow(ConfigError);
		expect(() => parseConfig({ apiUrl: 'ws://a', wsUrl: 'ws://b' })).toThrow(/apiUrl/);
		expect(() => parseConfig({ apiUrl: 'http://a', wsUrl: 'http://b' })).toThrow(/wsUrl/);
	});
});
