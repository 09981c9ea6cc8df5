import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';
import type { Plugin } from 'vite';

/**
 * `npm run dev` only: answer GET /config.json the way the local stack does, so the
 * dev server can talk to a running local stack without a config file in static/
 * (a file there would end up in the build and shadow the one the host writes).
 * Override with NOTES_API_URL / NOTES_WS_URL. `vite build` never sees this plugin.
 */
function devRuntimeConfig(): Plugin {
	return {
		name: 'notes-dev-runtime-config',
		apply: 'serve',
		configureServer(server) {
			server.middlewares.use('/config.json', (_req, res) => {
				const body = JSON.stringify({
					apiUrl: process.env.NOTES_API_URL ?? 'http://127.0.0.1:3000',
					wsUrl: process.env.NOTES_WS_URL ?? 'ws://127.0.0.1:3001'
				});
				res.setHeader('content-type', 'application/json');
				res.setHeader('cache-control', 'no-store');
				res.end(body);
			});
		}
	};
}

export default defineConfig({
	plugins: [devRuntimeConfig(), sveltekit()],
	server: {
		// The local stack allows CORS from http://127.0.0.1:8080; run the dev server there
		// (with the stack's static server stopped) or ask for the dev origin to be allowed.
		host: '127.0.0.1'
	},
	test: {
		include: ['src/**/*.test.ts'],
		environment: 'node'
	}
});
