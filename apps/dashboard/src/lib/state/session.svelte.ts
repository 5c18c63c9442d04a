// Who is logged in, what they may do, and when their session ends. The CSRF token lives in memory
// only (the session cookie is HttpOnly); a reload asks the server for it again.
import { goto } from '$app/navigation';
import { api, apiHooks } from '../api/index.ts';
import type { Scope, SessionInfo } from '../api/types.ts';

/** How long before the estimated end of the session the warning shows. */
export const warnBeforeMs = 2 * 60_000;

class Session {
  info = $state.raw<SessionInfo | undefined>(undefined);
  /** The first `GET /api/auth/session` answered (either way). */
  checked = $state(false);
  /** Set when the server ended the session under us (shown on the login page). */
  endedMessage = $state<string | undefined>(undefined);
  /** Estimated end of the session: the idle window restarts with each API call. */
  expiresAt = $state(0);
  #idleMs = 0;

  get name(): string | undefined {
    return this.info?.caller.name;
  }

  can(scope: Scope): boolean {
    return this.info?.caller.scopes.includes(scope) ?? false;
  }

  #take(info: SessionInfo): void {
    this.info = info;
    apiHooks.csrf = info.csrfToken;
    // The server's idle window as seen now; a new request moves the end by as much.
    this.#idleMs = Math.max(0, Date.parse(info.expiresAt) - Date.now());
    this.expiresAt = Date.parse(info.expiresAt);
    this.endedMessage = undefined;
  }

  /** Reads the session of the cookie; `false` when there is none. */
  async load(): Promise<boolean> {
    try {
      this.#take(await api.getSession());
      return true;
    } catch {
      this.#forget();
      return false;
    } finally {
      this.checked = true;
    }
  }

  async login(username: string, password: string): Promise<void> {
    this.#take(await api.login({ body: { username, password } }));
    this.checked = true;
  }

  async logout(): Promise<void> {
    try {
      await api.logout();
    } finally {
      this.#forget();
      await goto('/login');
    }
  }

  /** The server said 401: back to the login, then to where the user was. */
  async ended(message: string): Promise<void> {
    if (!this.info) return;
    this.#forget();
    this.endedMessage = message;
    const here = `${location.pathname}${location.search}`;
    await goto(`/login?next=${encodeURIComponent(here)}`, { replaceState: true });
  }

  /** Any answered API call restarts the server's idle clock. */
  touched(): void {
    if (this.info && this.#idleMs > 0) this.expiresAt = Date.now() + this.#idleMs;
  }

  #forget(): void {
    this.info = undefined;
    apiHooks.csrf = undefined;
    this.expiresAt = 0;
  }
}

export const session = new Session();

apiHooks.onUnauthorized = (message) => void session.ended(message);
apiHooks.onActivity = () => session.touched();
