import { CoreError } from '../errors.ts';
import { networkFailure } from '../network-errors.ts';
import type { RequestDeadline } from '../request-deadline.ts';

/** Who sends a transport's requests, in its errors and logs: never credentials. */
export interface HttpIdentity {
  /** The adapter's id, e.g. `registry:oci/hub`. */
  readonly id: string;
  /** Origin (and path prefix) of the service, without credentials or query. */
  readonly url: string;
  /** Facts every error of this adapter carries (`{ registry: id }`). Default `{ adapter: id, url }`. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The facts an error of `identity` carries, with `more`. */
export function identityDetails(
  identity: HttpIdentity,
  more: Record<string, unknown> = {},
): Record<string, unknown> {
  return { ...(identity.details ?? { adapter: identity.id, url: identity.url }), ...more };
}

/** Why a request never got an answer: the network code (`ECONNREFUSED`), else the error's message. */
export function describeNetworkError(error: unknown): string {
  return networkFailure(error)?.code ?? (error instanceof Error ? error.message : String(error));
}

/** What a request that got no (whole) answer was. */
export interface FailedRequest {
  readonly identity: HttpIdentity;
  readonly what: string;
  readonly signal: AbortSignal | undefined;
  readonly deadline: RequestDeadline;
  readonly timeoutMs: number;
  readonly lifetime: AbortSignal;
  /** `body`: the answer broke off after its head came. */
  readonly phase: 'request' | 'body';
}

/** The error of a request to a disposed adapter: final, a retry cannot help. */
export function disposedError(identity: HttpIdentity, what: string): CoreError {
  return new CoreError('UNAVAILABLE', `${identity.id} is disposed`, {
    details: identityDetails(identity, { operation: what }),
    retryable: false,
  });
}

/**
 * The `CoreError` of a request that got no whole answer: caller abort `ABORTED`, dispose
 * `UNAVAILABLE` (final), timeout `TIMEOUT`, an answer cut short `BAD_RESPONSE` (retryable), else a
 * network failure `UNAVAILABLE` naming its code.
 */
export function requestFailure(error: unknown, failed: FailedRequest): CoreError {
  const { identity, what, deadline, timeoutMs } = failed;
  const details = identityDetails(identity, { operation: what });
  const where = `${identity.id} (${identity.url})`;
  if (failed.signal?.aborted) {
    return new CoreError('ABORTED', `Request for ${what} to ${identity.id} was aborted`, {
      details,
      cause: failed.signal.reason,
    });
  }
  if (failed.lifetime.aborted) return disposedError(identity, what);
  if (deadline.timedOut) {
    return new CoreError(
      'TIMEOUT',
      `${where} did not answer the request for ${what} within ${timeoutMs} ms`,
      {
        details: { ...details, timeoutMs },
      },
    );
  }
  const reason = describeNetworkError(error);
  if (failed.phase === 'body') {
    return new CoreError('BAD_RESPONSE', `${where} broke off its answer for ${what} (${reason})`, {
      details: { ...details, reason },
      cause: error,
      retryable: true,
    });
  }
  return new CoreError('UNAVAILABLE', `${where} is unreachable (${reason}) for ${what}`, {
    details: { ...details, reason },
    cause: error,
  });
}
