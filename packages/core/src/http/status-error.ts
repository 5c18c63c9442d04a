import { CoreError, codeFromHttpStatus, parseRetryAfter } from '../errors.ts';
import { type HttpIdentity, identityDetails } from './failure.ts';
import type { HttpResponse } from './transport.ts';

/**
 * Maps a status the caller has no special meaning for onto a `CoreError` that names the adapter and
 * the operation: 429 `RATE_LIMITED` with `retryAfterMs`, 401 `UNAUTHORIZED`, 403 `FORBIDDEN`, 404
 * `NOT_FOUND`, 5xx `UNAVAILABLE`, an unexpected success `BAD_RESPONSE`. `rateLimited` says a
 * service's own way of saying 429 (a registry's `TOOMANYREQUESTS` body).
 */
export function httpStatusError(
  identity: HttpIdentity,
  response: Pick<HttpResponse, 'status' | 'headers'>,
  what: string,
  more: { readonly details?: Record<string, unknown>; readonly rateLimited?: boolean } = {},
): CoreError {
  const { status } = response;
  const details = identityDetails(identity, { operation: what, status, ...more.details });
  const where = `${identity.id} (${identity.url})`;
  if (status === 429 || more.rateLimited) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    const wait = retryAfterMs === undefined ? '' : `; retry after ${Math.ceil(retryAfterMs / 1000)} s`;
    return new CoreError('RATE_LIMITED', `${where} is rate limiting the requests for ${what}${wait}`, {
      details: retryAfterMs === undefined ? details : { ...details, retryAfterMs },
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  if (status >= 200 && status < 400) {
    return new CoreError(
      'BAD_RESPONSE',
      `${where} answered the request for ${what} with an unexpected status ${status}`,
      {
        details,
      },
    );
  }
  const code = codeFromHttpStatus(status);
  const reason =
    code === 'UNAUTHORIZED'
      ? 'refused the credentials'
      : code === 'FORBIDDEN'
        ? 'denied access'
        : code === 'NOT_FOUND'
          ? 'does not know'
          : `answered ${status}`;
  return new CoreError(code, `${where} ${reason} for ${what}`, { details });
}
