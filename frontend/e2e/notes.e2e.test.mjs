// End-to-end test in a real browser: two people, live updates over the WebSocket.
//
// Needs the whole stack running (static app, REST, WebSocket), by default the local stack:
//   E2E_BASE_URL  the built app            (default http://127.0.0.1:8080)
//   E2E_API_URL   the REST API             (default http://127.0.0.1:3000)
//   CHROMIUM_PATH the browser to drive     (default /usr/bin/chromium, Debian's package)
//   E2E_TIMEOUT_MS how long to wait for a live update (default 30000)
//   E2E_CSP       a Content-Security-Policy to send with the app's pages (`make test` passes the one the
//                 CDK app gives CloudFront, for this build and the local APIs); any violation fails
// Accessibility: axe-core (a devDependency) checks the dashboard at rest, in dark mode and while
// reconnecting; any violation of serious or critical impact fails.
// Run: npm run test:e2e   Screenshots of every step: e2e/artifacts/
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

// axe-core's own source, run in the page with page.evaluate: evaluating through the DevTools
// protocol is not subject to the page's Content-Security-Policy, where a <script> tag would be
// refused (and reported, failing the CSP step).
const AXE_SOURCE = createRequire(import.meta.url)('axe-core').source;

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
/** Every WebSocket URL the pages opened, and every console message: the token must be in neither. */
const socketUrls = [];
const consoleMessages = [];
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
	// 'attached': on a phone one of the two lists is behind its tab.
	await page.locator('[data-testid="public-feed"][data-loaded="true"]').waitFor({ state: 'attached', timeout: LIVE_TIMEOUT });
	await page.locator('[data-testid="my-notes"][data-loaded="true"]').waitFor({ state: 'attached', timeout: LIVE_TIMEOUT });
}

/** On a narrow screen the two lists are tabs: pick one (a no-op where both are shown side by side). */
async function showList(page, name) {
	const tab = page.getByRole('tab', { name: new RegExp(`^${name}`) });
	if ((await tab.count()) === 0) return;
	await tab.click();
	assert.equal(await tab.getAttribute('aria-selected'), 'true');
}

/**
 * Runs axe-core on the page as it is and fails on any violation of serious or critical impact
 * (the others are printed). `label` says which state was checked.
 */
async function checkAccessibility(page, label) {
	// Colours must be read at rest: switching the colour scheme fades buttons for 0.15 s.
	for (let i = 0; i < 40; i++) {
		const fading = await page.evaluate(
			() => document.getAnimations().filter((a) => a instanceof CSSTransition && a.playState === 'running').length
		);
		if (fading === 0) break;
		await page.waitForTimeout(50);
	}
	if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE);
	const violations = await page.evaluate(async () => {
		const results = await window.axe.run(document, { resultTypes: ['violations'] });
		return results.violations.map((v) => ({
			id: v.id,
			impact: v.impact,
			help: v.help,
			nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary ?? ''}`.replace(/\s+/g, ' '))
		}));
	});
	const blocking = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
	for (const v of violations.filter((x) => !blocking.includes(x))) {
		console.log(`axe (${label}): ${v.impact} ${v.id}: ${v.help}`);
	}
	assert.deepEqual(blocking, [], `axe found serious or critical violations (${label})`);
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
	// After every post the composer is empty and back to private, whatever the last note was.
	await composer.getByRole('checkbox', { name: /^Public/, checked: false }).waitFor({ timeout: 5000 });
	assert.equal(await composer.getByLabel('Note', { exact: true }).inputValue(), '');
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
			consoleMessages.push(`${who}: ${msg.text()}`);
			if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) cspViolations.push(`${who}: ${msg.text()}`);
		});
		page.on('websocket', (ws) => socketUrls.push(`${who}: ${ws.url()}`));
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
		// B has a phone: the lists are tabs there, and the feed is one tap away.
		await showList(B, 'Public feed');
		await B.locator('[data-testid="public-feed"]').waitFor();
		assert.equal(await B.locator('[data-testid="my-notes"]').isVisible(), false, 'one list at a time on a phone');
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
		assert.equal(
			await A.getByRole('form', { name: 'Write a note' }).getByRole('checkbox', { name: /^Public/ }).isChecked(),
			false,
			'the Public box is unticked again after a public post'
		);
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

	await step('the composer counts characters as the server does, and says why it refuses', async () => {
		const EMOJI = '😀'; // one character for the server (Rust chars()), two UTF-16 units in JavaScript
		const composer = A.getByRole('form', { name: 'Write a note' });
		const box = composer.getByLabel('Note', { exact: true });
		const counter = composer.locator('[data-testid="char-count"]');
		const error = composer.getByTestId('composer-error');
		const post = composer.getByRole('button', { name: 'Post note' });

		// "Write something first." goes as soon as typing starts.
		await box.fill('');
		await post.click();
		await error.filter({ hasText: 'Write something first.' }).waitFor();
		await box.pressSequentially('a');
		await error.waitFor({ state: 'detached', timeout: 2000 });

		// 10,001 emoji: one over the limit, refused here, before anything is sent.
		const before = await A.locator('[data-testid="my-note"]').count();
		await box.fill(EMOJI.repeat(10_001));
		assert.equal(await counter.getAttribute('data-count'), '10001');
		assert.equal(await box.getAttribute('aria-invalid'), 'true');
		await post.click();
		await error.filter({ hasText: /at most/ }).waitFor();
		assert.equal(await A.locator('[data-testid="my-note"]').count(), before, 'nothing was posted');

		// 10,000 emoji (20,000 UTF-16 units): exactly the limit; the counter says so and the server takes it.
		await box.fill(EMOJI.repeat(10_000));
		assert.equal(await counter.getAttribute('data-count'), '10000');
		assert.equal(await counter.getAttribute('data-max'), '10000');
		assert.equal(await box.getAttribute('aria-invalid'), null);
		await error.waitFor({ state: 'detached', timeout: 2000 });
		await post.click();
		await A.locator('[data-testid="my-note"]').nth(before).waitFor({ timeout: LIVE_TIMEOUT });
		const longId = await A.locator('[data-testid="my-note"]').first().getAttribute('data-note-id');
		assert.ok(longId);
		await waitSaved(A, longId);

		// A long note is folded to a few lines, with a button that says whether it is open.
		const item = myNote(A, longId);
		const more = item.getByRole('button', { name: 'Show more' });
		assert.equal(await more.getAttribute('aria-expanded'), 'false');
		const folded = (await item.boundingBox())?.height ?? Infinity;
		assert.ok(folded < 600, `a 10,000-character note is folded (${folded}px tall)`);
		await more.click();
		const less = item.getByRole('button', { name: 'Show less' });
		assert.equal(await less.getAttribute('aria-expanded'), 'true');
		assert.ok(((await item.boundingBox())?.height ?? 0) > 2 * folded, 'Show more unfolds it');
		await less.click();
		await more.waitFor();

		// The edit form counts the same way and refuses the same way.
		await item.getByRole('button', { name: 'Edit' }).click();
		const editor = item.getByLabel('Edit note');
		const editCounter = item.locator('[data-testid="char-count"]');
		assert.equal(await editCounter.getAttribute('data-count'), '10000');
		await editor.fill(`${EMOJI.repeat(10_000)}x`);
		assert.equal(await editCounter.getAttribute('data-count'), '10001');
		await item.getByRole('button', { name: 'Save' }).click();
		await item.getByRole('alert').filter({ hasText: /at most/ }).waitFor();
		assert.equal(await editor.isVisible(), true, 'the edit form stays open');
		await editor.press('Escape');
		await item.getByRole('button', { name: 'Edit' }).waitFor();

		// "Ctrl+Enter to post." only where a keyboard is likely: A's desktop, not B's phone.
		assert.equal(await composer.getByText('Ctrl+Enter to post.').isVisible(), true);
		await showList(B, 'My notes');
		assert.equal(await B.getByText('Ctrl+Enter to post.').isVisible(), false);
		await showList(B, 'Public feed');
	});

	await step('going offline shows offline at once, and coming back goes live again', async () => {
		const status = A.locator('[data-testid="connection-status"]');
		assert.equal(await status.getAttribute('data-state'), 'open');
		await contextA.setOffline(true);
		try {
			// The browser knows at once; the WebSocket itself may not notice for minutes.
			await A.locator('[data-testid="connection-status"][data-state="offline"]').waitFor({ timeout: 1000 });
			assert.match(await status.innerText(), /Offline/);
			await screenshots('A is offline');
		} finally {
			await contextA.setOffline(false);
		}
		await waitLive(A);
	});

	await step('axe: no serious or critical violations, at rest, in dark mode and while reconnecting', async () => {
		await waitLive(A);
		await waitLive(B);
		for (const [who, page] of Object.entries(pages)) {
			await checkAccessibility(page, `${who} at rest, light`);
			await page.emulateMedia({ colorScheme: 'dark' });
			await checkAccessibility(page, `${who} at rest, dark`);
			await page.emulateMedia({ colorScheme: 'light' });
		}
		await showList(B, 'My notes');
		await checkAccessibility(B, 'B, the My notes tab');
		await showList(B, 'Public feed');

		// New notes slide in without fading their text, and not at all under reduced motion.
		const appear = await A.evaluate(() =>
			[...document.styleSheets]
				.flatMap((sheet) => {
					try {
						return [...sheet.cssRules];
					} catch {
						return [];
					}
				})
				.filter((rule) => rule instanceof CSSKeyframesRule && rule.name === 'appear')
				.map((rule) => rule.cssText)
		);
		assert.ok(appear.length > 0, 'the appear animation exists');
		assert.ok(!appear.some((css) => /opacity/.test(css)), `no fade of the text: ${appear}`);
		const animation = () => A.locator('[data-testid="my-note"]').first().evaluate((el) => getComputedStyle(el).animationName);
		await A.emulateMedia({ reducedMotion: 'no-preference' });
		assert.equal(await animation(), 'appear');
		await A.emulateMedia({ reducedMotion: 'reduce' });
		assert.equal(await animation(), 'none');
		await A.emulateMedia({ reducedMotion: null });

		// Reconnecting: every new WebSocket of A's page is refused until "Retry now". The route only
		// reaches sockets of a page loaded after it, hence the reload (the session survives it).
		let refuseSockets = true;
		await A.routeWebSocket(/.*/, (ws) => {
			if (refuseSockets) ws.close({ code: 1011, reason: 'e2e: refused' });
			else ws.connectToServer();
		});
		await A.reload();
		const status = A.locator('[data-testid="connection-status"]');
		// A countdown long enough for one axe run with "Retry now" on screen (the backoff grows).
		const reconnecting = A.locator('[data-testid="connection-status"][data-state="reconnecting"]', {
			hasText: /retrying in ([3-9]|\d\d)s/
		});
		for (const colorScheme of ['light', 'dark']) {
			await A.emulateMedia({ colorScheme });
			for (let tries = 1; ; tries++) {
				await reconnecting.waitFor({ timeout: 2 * LIVE_TIMEOUT });
				await reconnecting.getByRole('button', { name: 'Retry now' }).waitFor();
				if (colorScheme === 'dark') await screenshots('A reconnecting, dark');
				await checkAccessibility(A, `A reconnecting, ${colorScheme}`);
				// The check counts only if "Retry now" was on screen all along.
				if ((await status.getAttribute('data-state')) === 'reconnecting') break;
				assert.ok(tries < 3, 'the reconnecting state lasted long enough for one axe run');
			}
		}
		await A.emulateMedia({ colorScheme: 'light' });
		refuseSockets = false;
		await A.getByRole('button', { name: 'Retry now' }).click();
		await waitLive(A);
	});

	await step('an unknown address says so and links home', async () => {
		await A.goto(`${BASE_URL}/no-such-page`);
		await A.getByRole('heading', { name: 'This page does not exist' }).waitFor();
		await A.getByRole('link', { name: 'Go to your notes' }).click();
		await A.getByRole('heading', { name: 'Write a note' }).waitFor({ timeout: LIVE_TIMEOUT });
		await waitLive(A);
	});

	await step('a second tab opens on the login page and says why', async () => {
		const tab = await contextA.newPage();
		tab.on('pageerror', (err) => pageErrors.push(`A2: ${err.message}`));
		try {
			await tab.goto(`${BASE_URL}/`);
			await tab.getByRole('heading', { name: 'Welcome back' }).waitFor();
			await tab.getByText('Each tab signs in on its own').waitFor();
		} finally {
			await tab.close();
		}
	});

	await step('A logs out', async () => {
		await A.getByRole('button', { name: 'Log out' }).click();
		await A.getByRole('heading', { name: 'Welcome back' }).waitFor();
		await A.locator('[data-testid="connection-status"]').waitFor({ state: 'detached' });
	});

	await step('no uncaught errors in either page', async () => {
		assert.deepEqual(pageErrors, []);
	});

	await step('the token never appears in a WebSocket URL or a console message', async () => {
		// It rides in Sec-WebSocket-Protocol (bearer.<JWT>), which neither shows.
		assert.ok(socketUrls.length > 0, 'the pages opened WebSockets');
		const jwt = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+|token=/;
		assert.deepEqual(socketUrls.filter((url) => jwt.test(url)), []);
		assert.deepEqual(consoleMessages.filter((text) => jwt.test(text)), []);
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
