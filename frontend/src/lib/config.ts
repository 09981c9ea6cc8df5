import type { RuntimeConfig } from './types';

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export class ConfigError extends Error {}

function validUrl(value: unknown, protocols: string[], field: string): string {
	if (typeof value !== 'string' || value.trim() === '') {
		throw new ConfigError(`config.json has no "${field}".`);
	}
	let url: URL;
	try {
		url = new URL(value.trim());
	} catch {
		throw new ConfigError(`config.json "${field}" is not a URL: "${value}".`);
	}
	if (!protocols.includes(url.protocol)) {
		throw new ConfigError(`config.json "${field}" must start with ${protocols.join(' or ')} (got ${url.protocol}).`);
	}
	// Keep any stage path (wss://…/prod) but drop a trailing slash so paths join cleanly.
	return url.toString().replace(/\/+$/, '');
}

/** Check the JSON of /config.json and normalise its URLs. */
export function parseConfig(raw: unknown): RuntimeConfig {
	if (typeof raw !== 'object' || raw === null) {
		throw new ConfigError('config.json is not a JSON object.');
	}
	const obj = raw as Record<string, unknown>;
	return {
		apiUrl: validUrl(obj.apiUrl, ['http:', 'https:'], 'apiUrl'),
		wsUrl: validUrl(obj.wsUrl, ['ws:', 'wss:'], 'wsUrl')
	};
}

/**
 * Fetch the runtime config written next to the built app by whoever hosts it
 * (the local stack, or the CDK deployment). Nothing about the backend is baked into the build.
 */
export async function loadConfig(fetchImpl: FetchLike, url = '/config.json'): Promise<RuntimeConfig> {
	let res: Response;
	try {
		res = await fetchImpl(url, { cache: 'no-store', headers: { accept: 'application/json' } });
	} catch {
		throw new ConfigError(`Could not fetch ${url}.`);
	}
	if (!res.ok) {
		throw new ConfigError(`Could not fetch ${url} (HTTP ${res.status}).`);
	}
	let body: unknown;
	try {
		body = await res.json();
	} catch {
		throw new ConfigError(`${url} is not valid JSON.`);
	}
	return parseConfig(body);
}
