// End-to-end test in a real browser: two people, live updates over the WebSocket.
//
// Needs the whole stack running (static app, REST, WebSocket), by default the local stack:
//   E2E_BASE_URL  the built app            (default http://127.0.0.1:8080)
//   E2E_API_URL   the REST API             (default http://127.0.0.1:3000)
//   CHROMIUM_PATH the browser to drive     (default /usr/bin/chromium, Debian's package)
//   E2E_TIMEOUT_MS how long to wait for a live update (default 30000)
//   E2E_CSP       a Content-Security-Policy to send with the app's pages (`make test` passes the one the
//                 CDK app gives CloudFront, for this build and the local APIs); any violation fails
// Run: npm run test:e2e   Screenshots of every step: e2e/artifacts/
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const BASE_URL = (process.env.E2E_BASE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
const API_URL = (process.env.E2E_API_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const LIVE_TIMEOUT = Number(process.env.E2E_TIMEOUT_MS ?? 30_000);
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const CSP = process.env.E2E_CSP ?? '';

const CHROMIUM_ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-background-networking',
	'--disable-component-update',
	'--no-first-run',
	'--disable-sync',
	'--disable-quic',
	// A page the test serves itself (to add E2E_CSP) counts as public for Chromium, which then refuses
	// its requests to the loopback APIs; the local stack's own pages are loopback and need no such flag.
	...(CSP ? ['--disable-features=LocalNetworkAccessChecks'] : [])
];

const suffix = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const userA = { username: `e2e-a-${suffix}`, password: `pw-a-${suffix}-secret` };
const userB = { username: `e2e-b-${suffix}`, password: `pw-b-${suffix}-secret` };

/** @type {import('playwright-core').Browser | undefined} */
let browser;
/** @type {{ A?: import('playwright-core').Page, B?: import('playwright-core').Page }} */
const pages = {};
const pageErrors = [];
/** Content-Security-Policy violations reported by the pages, and the policy each page load carried. */
const cspViolations = [];
const cspOfDocuments = [];
let shot = 0;

// ---------------------------------------------------------------- helpers

/** Sends E2E_CSP with every page of the app (as CloudFront does), and records every violation. */
async function watchCsp(context, who) {
	if (CSP) {
		await context.route(`${BASE_URL}/**`, async (route) => {
			if (route.request().resourceType() !== 'document') return route.continue();
			const response = await route.fetch();
			await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': CSP } });
		});
	}
	await context.exposeBinding('__e2eCspViolation', (_source, text) => cspViolations.push(`${who}: ${text}`));
	await context.addInitScript(() => {
		document.addEventListener('securitypolicyviolation', (e) => {
			window.__e2eCspViolation(`${e.effectiveDirective} refused ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
		});
	});
}

async function screenshots(label) {
	shot += 1;
	const n = String(shot).padStart(2, '0');
	const safe = label.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase();
	for (const [who, page] of Object.entries(pages)) {
		if (page && !page.isClosed() && page.url() !== 'about:blank') {
			await page.screenshot({ path: `${ARTIFACTS}${n}-${safe}-${who}.png`, fullPage: true }).catch(() => {});
		}
	}
}

/** Answer within `ms` or throw: a stack that is down must fail fast and clearly. */
async function probe(url) {
	const controller = new AbortController();
	const timer = setTimeout(() => controller.abort(), 5000);
	try {
		const res = await fetch(url, { signal: controller.signal });
		return { ok: res.ok, status: res.status, body: await res.text() };
	} catch (err) {
		return { ok: false, status: 0, body: String(err?.cause?.code ?? err?.message ?? err) };
	} finally {
		clearTimeout(timer);
	}
}

function myNote(page, noteId) {
	return page.locator(`[data-testid="my-note"][data-note-id="${noteId}"]`);
}

function publicNote(page, noteId) {
	return page.locator(`[data-testid="public-feed"] [data-testid="public-note"][data-note-id="${noteId}"]`);
}

async function waitLive(page) {
	await page.locator('[data-testid="connection-status"][data-state="open"]').waitFor({ timeout: LIVE_TIMEOUT });
	await page.locator('[data-testid="public-feed"][data-loaded="true"]').waitFor({ timeout: LIVE_TIMEOUT });
	await page.locator('[data-testid="my-notes"][data-loaded="true"]').waitFor({ timeout: LIVE_TIMEOUT });
}

async function signUp(page, user) {
	await page.goto(`${BASE_URL}/`);
	await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
	await page.getByRole('link', { name: 'Create an account' }).click();
	await page.getByRole('heading', { name: 'Create your account' }).waitFor();
	await page.getByLabel('Username').fill(user.username);
	await page.getByLabel('Password').fill(user.password);
	await page.getByRole('button', { name: 'Create account' }).click();
	await page.getByRole('heading', { name: 'Write a note' }).waitFor({ timeout: LIVE_TIMEOUT });
	await waitLive(page);
	assert.equal(new URL(page.url()).pathname, '/dashboard');
}

async function logIn(page, user) {
	await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
	await page.getByLabel('Username').fill(user.username);
	await page.getByLabel('Password').fill(user.password);
	await page.getByRole('button', { name: 'Log in' }).click();
	await page.getByRole('heading', { name: 'Write a note' }).waitFor({ timeout: LIVE_TIMEOUT });
	await waitLive(page);
}

/** Post a note with the composer; returns its noteId (read from the new "My notes" item). */
async function postNote(page, content, isPublic) {
	const composer = page.getByRole('form', { name: 'Write a note' });
	await composer.getByLabel('Note', { exact: true }).fill(content);
	await composer.getByRole('checkbox', { name: /^Public/ }).setChecked(isPublic);
	await composer.getByRole('button', { name: 'Post note' }).click();
	const item = page.locator('[data-testid="my-note"]').filter({ hasText: content });
	await item.waitFor({ timeout: LIVE_TIMEOUT });
	const noteId = await item.getAttribute('data-note-id');
	assert.ok(noteId, 'the new note item carries data-note-id');
	const status = await item.getAttribute('data-status');
	assert.ok(['pending', 'saved'].includes(status ?? ''), `a new note is pending or saved, got ${status}`);
	return { noteId, firstStatus: status };
}

async function waitSaved(page, noteId) {
	const item = myNote(page, noteId);
	await page
		.locator(`[data-testid="my-note"][data-note-id="${noteId}"]:is([data-status="saved"], [data-status="failed"])`)
		.waitFor({ timeout: LIVE_TIMEOUT });
	const status = await item.getAttribute('data-status');
	if (status === 'failed') {
		const why = await item.locator('[data-testid="note-error"]').textContent();
		assert.fail(`note ${noteId} failed to save: ${why}`);
	}
	assert.equal(await item.getAttribute('data-status'), 'saved');
}

// ---------------------------------------------------------------- setup

before(async () => {
	await mkdir(ARTIFACTS, { recursive: true });
	browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
	console.log(`Chromium ${browser.version()} from ${CHROMIUM_PATH}`);
	console.log(`app ${BASE_URL}, api ${API_URL}, users ${userA.username} / ${userB.username}`);
});

after(async () => {
	await browser?.close();
});

// ---------------------------------------------------------------- the scenario

test('two people: notes go pending → saved and the public feed follows live', async (t) => {
	let reachable = false;
	await t.test('the stack is reachable', async () => {
		const cfg = await probe(`${BASE_URL}/config.json`);
		assert.ok(
			cfg.ok,
			`The app is not served at ${BASE_URL} (GET /config.json → ${cfg.status || cfg.body}). ` +
				'Start the local stack (it serves frontend/build and writes /config.json) or set E2E_BASE_URL.'
		);
		let config;
		try {
			config = JSON.parse(cfg.body);
		} catch {
			assert.fail(`${BASE_URL}/config.json is not JSON: ${cfg.body.slice(0, 200)}`);
		}
		assert.ok(config.apiUrl && config.wsUrl, `config.json needs apiUrl and wsUrl, got ${cfg.body}`);
		const api = await probe(`${API_URL}/notes/public?limit=1`);
		assert.ok(
			api.ok,
			`The REST API does not answer at ${API_URL} (GET /notes/public → ${api.status || api.body}). ` +
				'Start the local stack or set E2E_API_URL.'
		);
		reachable = true;
	});
	// Everything below needs the stack; the subtest above has already failed, saying why.
	if (!reachable) return;

	let failed = false;
	/** One step of the story: skipped after a failure, screenshots of both people after it. */
	const step = (name, fn) =>
		t.test(name, async (st) => {
			if (failed) return st.skip('an earlier step failed');
			try {
				await fn();
				await screenshots(name);
			} catch (err) {
				failed = true;
				await screenshots(`FAILED ${name}`);
				throw err;
			}
		});

	const contextA = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	const contextB = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
	await watchCsp(contextA, 'A');
	await watchCsp(contextB, 'B');
	pages.A = await contextA.newPage();
	pages.B = await contextB.newPage();
	for (const [who, page] of Object.entries(pages)) {
		page.on('pageerror', (err) => pageErrors.push(`${who}: ${err.message}`));
		page.on('console', (msg) => {
			if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) cspViolations.push(`${who}: ${msg.text()}`);
		});
		page.on('response', (res) => {
			if (res.request().resourceType() === 'document') cspOfDocuments.push(res.headers()['content-security-policy'] ?? '');
		});
	}
	const { A, B } = pages;

	const publicText = `Hello from A, public (${suffix})`;
	const editedText = `Hello from A, edited (${suffix})`;
	const privateText = `A's secret, private (${suffix})`;
	let publicId = '';
	let privateId = '';

	await step('A signs up', async () => {
		await signUp(A, userA);
	});

	await step('A logs out and logs back in', async () => {
		await A.getByRole('button', { name: 'Log out' }).click();
		await A.getByRole('heading', { name: 'Welcome back' }).waitFor();
		assert.equal(await A.evaluate(() => sessionStorage.length), 0, 'logout clears the stored session');
		await logIn(A, userA);
	});

	await step('B signs up and watches the feed', async () => {
		await signUp(B, userB);
		// Marker to prove B never reloads: a reload would wipe it.
		await B.evaluate(() => {
			window.__e2eNoReload = true;
		});
	});

	await step('A posts a public note and sees it saved', async () => {
		const posted = await postNote(A, publicText, true);
		publicId = posted.noteId;
		console.log(`public note ${publicId} first shown as ${posted.firstStatus}`);
		await waitSaved(A, publicId);
		assert.equal(await myNote(A, publicId).getAttribute('data-public'), 'true');
	});

	await step("the note appears in B's public feed without a reload", async () => {
		await publicNote(B, publicId).filter({ hasText: publicText }).waitFor({ timeout: LIVE_TIMEOUT });
		assert.equal(await publicNote(B, publicId).getAttribute('data-author'), userA.username);
		assert.equal(await B.evaluate(() => window.__e2eNoReload), true, 'B was not reloaded');
	});

	await step('A edits the note and B’s feed follows', async () => {
		const item = myNote(A, publicId);
		await item.getByRole('button', { name: 'Edit' }).click();
		const editor = item.getByLabel('Edit note');
		await editor.fill(editedText);
		await item.getByRole('button', { name: 'Save' }).click();
		await item.locator('[data-testid="note-content"]').filter({ hasText: editedText }).waitFor({ timeout: LIVE_TIMEOUT });
		await publicNote(B, publicId).filter({ hasText: editedText }).waitFor({ timeout: LIVE_TIMEOUT });
		assert.equal(await B.evaluate(() => window.__e2eNoReload), true, 'B was not reloaded');
	});

	await step("A deletes the note and it leaves B's feed", async () => {
		const item = myNote(A, publicId);
		await item.getByRole('button', { name: 'Delete' }).click();
		await item.getByRole('button', { name: 'Yes, delete' }).click();
		await item.waitFor({ state: 'detached', timeout: LIVE_TIMEOUT });
		await publicNote(B, publicId).waitFor({ state: 'detached', timeout: LIVE_TIMEOUT });
		assert.equal(await B.evaluate(() => window.__e2eNoReload), true, 'B was not reloaded');
	});

	await step('A posts a private note: saved for A, never shown to B', async () => {
		const posted = await postNote(A, privateText, false);
		privateId = posted.noteId;
		await waitSaved(A, privateId);
		assert.equal(await myNote(A, privateId).getAttribute('data-public'), 'false');
		assert.equal(await publicNote(A, privateId).count(), 0, "not in A's own public feed either");
		// Give a wrongly routed event time to arrive, then look on B's screen.
		await B.waitForTimeout(3000);
		assert.equal(await B.locator(`[data-note-id="${privateId}"]`).count(), 0);
		assert.equal(await B.getByText(privateText).count(), 0);
		// And after a fresh load of B's dashboard.
		await B.reload();
		await waitLive(B);
		assert.equal(await B.locator(`[data-note-id="${privateId}"]`).count(), 0);
		assert.equal(await B.getByText(privateText).count(), 0);
		const feed = await probe(`${API_URL}/notes/public?limit=100`);
		assert.ok(feed.ok);
		assert.ok(!feed.body.includes(privateId), 'GET /notes/public does not list the private note');
	});

	await step('A logs out', async () => {
		await A.getByRole('button', { name: 'Log out' }).click();
		await A.getByRole('heading', { name: 'Welcome back' }).waitFor();
		await A.locator('[data-testid="connection-status"]').waitFor({ state: 'detached' });
	});

	await step('no uncaught errors in either page', async () => {
		assert.deepEqual(pageErrors, []);
	});

	await step('the Content-Security-Policy held: every page carried it, nothing was refused', async () => {
		assert.ok(cspOfDocuments.length > 0, 'pages were loaded');
		if (CSP) assert.deepEqual([...new Set(cspOfDocuments)], [CSP], 'every page load carried E2E_CSP');
		assert.deepEqual(cspViolations, []);
		if (CSP) {
			// And it is enforced, and a violation would have been seen: a script the policy does not
			// allow is refused and reported.
			const ran = await B.evaluate(() => {
				const s = document.createElement('script');
				s.textContent = 'window.__e2eCspProbe = true';
				document.head.appendChild(s);
				return window.__e2eCspProbe === true;
			});
			assert.equal(ran, false, 'an inline script outside the policy ran');
			await B.waitForTimeout(500);
			assert.ok(
				cspViolations.some((v) => v.startsWith('B: ') && v.includes('script-src')),
				`the refused script was reported: ${cspViolations}`
			);
		}
	});

	await contextA.close();
	await contextB.close();
	assert.ok(!failed, 'every step passed (see e2e/artifacts/ for screenshots)');
});
