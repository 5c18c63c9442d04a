import { type ErrorCode, isCoreError } from './errors.ts';

/**
 * What a failed connection means, whatever the client: `refused` (nothing listens), `reset` (the
 * connection broke off), `timeout`, `dns` (the name does not resolve), `unreachable` (no route to
 * the host), `socket` (a Unix socket that is missing or may not be opened), `tls` (the handshake or
 * the certificate failed), or `other` for a code this classifier does not know.
 */
export type NetworkReason =
  | 'refused'
  | 'reset'
  | 'timeout'
  | 'dns'
  | 'unreachable'
  | 'socket'
  | 'tls'
  | 'other';

/** A failed connection: its code and what it means. */
export interface NetworkFailure {
  /** The code as the runtime gave it: `ECONNREFUSED`, `ENOTFOUND`, `SELF_SIGNED_CERT_IN_CHAIN`… */
  readonly code: string;
  /** What the code means; `other` for a code this classifier does not know. */
  readonly reason: NetworkReason;
}

const reasonByCode: ReadonlyMap<string, NetworkReason> = new Map<string, NetworkReason>([
  ['ECONNREFUSED', 'refused'],
  ['ECONNRESET', 'reset'],
  ['ECONNABORTED', 'reset'],
  ['EPIPE', 'reset'],
  ['UND_ERR_SOCKET', 'reset'],
  ['ETIMEDOUT', 'timeout'],
  ['ESOCKETTIMEDOUT', 'timeout'],
  ['UND_ERR_CONNECT_TIMEOUT', 'timeout'],
  ['ENOTFOUND', 'dns'],
  ['EAI_AGAIN', 'dns'],
  ['EAI_FAIL', 'dns'],
  ['EHOSTUNREACH', 'unreachable'],
  ['ENETUNREACH', 'unreachable'],
  ['EHOSTDOWN', 'unreachable'],
  ['ENETDOWN', 'unreachable'],
  ['ENOENT', 'socket'],
  ['EACCES', 'socket'],
  ['EPROTO', 'tls'],
  ['SELF_SIGNED_CERT_IN_CHAIN', 'tls'],
  ['DEPTH_ZERO_SELF_SIGNED_CERT', 'tls'],
]);

const tlsCode = /^(?:ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_)/;

function reasonOf(code: string): NetworkReason {
  return reasonByCode.get(code) ?? (tlsCode.test(code) ? 'tls' : 'other');
}

/** How far the walk goes: fetch wraps undici, which wraps a happy-eyeballs AggregateError of sockets. */
const maxVisited = 32;

/** The error, its `cause` and its AggregateError members, breadth first, each once, at most `maxVisited`. */
function* chainOf(error: unknown): Generator<object> {
  const seen = new Set<object>();
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.size < maxVisited) {
    const current = queue.shift();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    yield current;
    const { cause, errors } = current as { cause?: unknown; errors?: unknown };
    if (Array.isArray(errors)) queue.push(...errors);
    queue.push(cause);
  }
}

/**
 * Why a connection failed, from anything a client threw: walks `cause` chains (fetch's
 * `TypeError: fetch failed`, ofetch's `FetchError`) and AggregateError members (a happy-eyeballs
 * connect to IPv4 and IPv6), cycle-safe and bounded. The first code this classifier knows wins,
 * else the first code found (`reason: 'other'`); undefined when nothing in the chain has a code.
 * A CoreError's own code is not a network code and is passed over (its cause is still read).
 */
export function networkFailure(error: unknown): NetworkFailure | undefined {
  let first: NetworkFailure | undefined;
  for (const link of chainOf(error)) {
    const { code } = link as { code?: unknown };
    if (typeof code !== 'string' || code === '' || isCoreError(link)) continue;
    const failure = { code, reason: reasonOf(code) };
    if (failure.reason !== 'other') return failure;
    first ??= failure;
  }
  return first;
}

/**
 * The `CoreError` code and retryability adapters give a network failure: a timeout is `TIMEOUT`, a
 * TLS failure `UNAVAILABLE` that no retry fixes (a certificate does not mend itself), the rest
 * `UNAVAILABLE` worth another try.
 */
export function networkErrorCode(reason: NetworkReason): {
  readonly code: ErrorCode;
  readonly retryable: boolean;
} {
  if (reason === 'timeout') return { code: 'TIMEOUT', retryable: true };
  if (reason === 'tls') return { code: 'UNAVAILABLE', retryable: false };
  return { code: 'UNAVAILABLE', retryable: true };
}
