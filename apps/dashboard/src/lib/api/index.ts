// The dashboard's one API client: the session's CSRF token in memory, and the hooks the shell sets
// (a 401 ends the session; reachability drives the "server unreachable" banner).
import { type ClientHooks, createRequester } from './client.ts';
import { apiRoutes } from './routes.ts';

const hooks: {
  csrf: string | undefined;
  onUnauthorized: NonNullable<ClientHooks['onUnauthorized']>;
  onReachable: NonNullable<ClientHooks['onReachable']>;
  onActivity: NonNullable<ClientHooks['onActivity']>;
} = {
  csrf: undefined,
  onUnauthorized: () => undefined,
  onReachable: () => undefined,
  onActivity: () => undefined,
};

export const api = apiRoutes(
  createRequester({
    csrfToken: () => hooks.csrf,
    onUnauthorized: (error) => hooks.onUnauthorized(error),
    onReachable: (reachable) => hooks.onReachable(reachable),
    onActivity: () => hooks.onActivity(),
  }),
);

/** Set by the session and connection state modules. */
export const apiHooks = hooks;
