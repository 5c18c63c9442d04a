import { CoreError } from '@docker-watcher/core';
import type { Context } from 'hono';
import { csrfHeader } from '../api/auth.ts';
import type { RequestOrigin } from './forwarded.ts';

export { csrfHeader };

/**
 * 403 for a request a browser marks as coming from another site: `Sec-Fetch-Site` other than
 * `same-origin` or `none`, or an `Origin` whose host is not the one the client addressed. Clients
 * that send neither header (curl, scripts) pass: they are not browsers carrying a victim's cookie.
 */
export function assertSameOrigin(c: Context, origin: RequestOrigin): void {
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    throw new CoreError('FORBIDDEN', 'Cross-site request refused: Sec-Fetch-Site is not same-origin');
  const header = c.req.header('origin');
  if (header === undefined) return;
  let host: string | undefined;
  try {
    host = header === 'null' ? undefined : new URL(header).host;
  } catch {
    host = undefined;
  }
  if (host === undefined || host.toLowerCase() !== origin.host.toLowerCase())
    throw new CoreError('FORBIDDEN', 'Cross-origin request refused: Origin does not match this server');
}

/** 403 unless the request carries the session's CSRF token in `X-CSRF-Token`. */
export function assertCsrfToken(c: Context, check: (token: string | undefined) => boolean): void {
  if (!check(c.req.header(csrfHeader)))
    throw new CoreError(
      'FORBIDDEN',
      `A request authenticated by the session cookie needs the session's CSRF token in the ${csrfHeader} header (from POST /api/auth/login or GET /api/auth/session)`,
    );
}
