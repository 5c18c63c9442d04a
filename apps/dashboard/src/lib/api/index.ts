// The dashboard's one API client: the server's typed client on the page's origin, with the session's
// CSRF token from memory, and a fetch that tells the shell what it needs to know: a 401 ends the
// session, reachability drives the "server unreachable" banner, an answer restarts the idle clock.
import { ApiError, createApiClient } from '@docker-watcher/server/client';

export { ApiError };

interface Hooks {
  csrf: string | undefined;
  onUnauthorized(message: string): void;
  onReachable(reachable: boolean): void;
  onActivity(): void;
  /** `Retry-After` of the last 429, in seconds (the login's countdown). */
  retryAfterSeconds: number | undefined;
}

const hooks: Hooks = {
  csrf: undefined,
  onUnauthorized: () => undefined,
  onReachable: () => undefined,
  onActivity: () => undefined,
  retryAfterSeconds: undefined,
};

/** The session's own routes answer 401 as part of their job: the login page handles those. */
const sessionRoutes = /^\/api\/auth\//;

export const unreachable = () =>
  new ApiError(
    0,
    {
      error: {
        code: 'UNREACHABLE',
        message: 'The server cannot be reached: check that it runs, then try again',
      },
    },
    'unreachable',
  );

export async function observedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(input, { ...init, cache: 'no-store' });
  } catch (error) {
    if (init?.signal?.aborted) throw error;
    hooks.onReachable(false);
    throw unreachable();
  }
  hooks.onReachable(true);
  hooks.onActivity();
  if (response.status === 429) {
    const wait = Number(response.headers.get('retry-after'));
    hooks.retryAfterSeconds = Number.isFinite(wait) && wait > 0 ? wait : undefined;
  }
  const path = new URL(
    typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
    location.href,
  ).pathname;
  if (response.status === 401 && !sessionRoutes.test(path)) {
    const body = (await response
      .clone()
      .json()
      .catch(() => undefined)) as { error?: { message?: string } } | undefined;
    hooks.onUnauthorized(body?.error?.message ?? 'The session has ended: log in again');
  }
  return response;
}

export const api = createApiClient({ csrfToken: () => hooks.csrf, fetch: observedFetch });

/** Set by the session and connection state modules. */
export const apiHooks = hooks;

/** A key for one person's one action: a retried request with it is answered once. */
export const actionKey = (): string => crypto.randomUUID();
