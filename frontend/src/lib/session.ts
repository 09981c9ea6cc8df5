/**
 * The login session lives in sessionStorage, not localStorage:
 * - it is scoped to one tab and dropped when the tab closes, so a token left on a shared
 *   computer does not outlive the browser session, and the JWT's exposure window is small;
 * - two tabs can be signed in as two different people (handy for trying the live feed);
 * - it survives a reload of the tab, which is all a single-page app needs.
 * Any script on the page could read either store, so the app never renders HTML from data
 * ({@html} is not used) and the token is only ever sent to the configured API.
 */
export interface Session {
	token: string;
	username: string;
	expiresAt: string;
}

const KEY = 'notes.session';

type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

function defaultStorage(): StorageLike | null {
	try {
		return typeof sessionStorage === 'undefined' ? null : sessionStorage;
	} catch {
		return null;
	}
}

export function isExpired(session: Session, now = Date.now()): boolean {
	const t = Date.parse(session.expiresAt);
	return Number.isNaN(t) ? false : t <= now;
}

export function loadSession(storage: StorageLike | null = defaultStorage(), now = Date.now()): Session | null {
	if (!storage) return null;
	try {
		const raw = storage.getItem(KEY);
		if (!raw) return null;
		const s = JSON.parse(raw) as Partial<Session>;
		if (typeof s.token !== 'string' || typeof s.username !== 'string' || typeof s.expiresAt !== 'string') {
			storage.removeItem(KEY);
			return null;
		}
		const session = { token: s.token, username: s.username, expiresAt: s.expiresAt };
		if (isExpired(session, now)) {
			storage.removeItem(KEY);
			return null;
		}
		return session;
	} catch {
		return null;
	}
}

export function saveSession(session: Session, storage: StorageLike | null = defaultStorage()): void {
	storage?.setItem(KEY, JSON.stringify(session));
}

export function clearSession(storage: StorageLike | null = defaultStorage()): void {
	storage?.removeItem(KEY);
}
