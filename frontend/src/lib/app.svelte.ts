import { ApiClient } from './api';
import { loadConfig } from './config';
import { clearSession, loadSession, saveSession, type Session } from './session';
import type { LoginResponse, RuntimeConfig } from './types';
import type { ConnectionInfo } from './ws';

/** App-wide state: runtime config, the login session, the live connection and screen-reader announcements. */
class AppState {
	config = $state<RuntimeConfig | null>(null);
	configError = $state<string | null>(null);
	session = $state<Session | null>(loadSession());
	/** A message for the login page (why you were logged out). */
	notice = $state<string | null>(null);
	/** The dashboard's WebSocket state, shown in the header; null when not connected anywhere. */
	connection = $state<ConnectionInfo | null>(null);
	/** Set by the dashboard while it owns a connection: skip the backoff wait and retry now. */
	retryConnection = $state<(() => void) | null>(null);
	/** Text of the polite aria-live region. */
	announcement = $state('');

	api = $derived(
		this.config
			? new ApiClient({
					baseUrl: this.config.apiUrl,
					getToken: () => this.session?.token ?? null,
					onUnauthorized: () => this.logout('Your session has expired. Please log in again.')
				})
			: null
	);

	private announceTimer: ReturnType<typeof setTimeout> | null = null;

	async init(fetchImpl: typeof fetch = fetch): Promise<void> {
		this.configError = null;
		try {
			this.config = await loadConfig((input, init) => fetchImpl(input, init));
		} catch (err) {
			this.configError = err instanceof Error ? err.message : String(err);
		}
	}

	signedIn(res: LoginResponse): void {
		const session = { token: res.token, username: res.username, expiresAt: res.expiresAt };
		saveSession(session);
		this.notice = null;
		this.session = session;
	}

	logout(notice: string | null = null): void {
		if (!this.session) return;
		clearSession();
		this.session = null;
		this.connection = null;
		this.notice = notice;
		this.announce(notice ?? 'You are logged out.');
	}

	/** Say something to screen-reader users through the polite live region. */
	announce(message: string): void {
		// Clear first so the same sentence twice in a row is still read out.
		this.announcement = '';
		if (this.announceTimer) clearTimeout(this.announceTimer);
		this.announceTimer = setTimeout(() => {
			this.announcement = message;
		}, 50);
	}
}

export const app = new AppState();
