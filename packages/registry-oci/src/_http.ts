import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  CoreError,
  codeFromHttpStatus,
  isCoreError,
  type Logger,
  networkFailure,
  parseRetryAfter,
  type RequestDeadline,
  requestDeadline,
} from '@docker-watcher/core';

/** What an adapter instance's requests are attributed to in errors and logs: never credentials. */
export interface RegistryIdentity {
  /** The adapter's id, e.g. `registry:oci/hub`. */
  readonly id: string;
  /** Origin (and path prefix) of the registry, without credentials. */
  readonly url: string;
}

export interface HttpRequest {
  readonly method: 'GET' | 'HEAD';
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent only to `authorizedOrigin`: never to a redirect target or a link on another host. */
  readonly authorization?: string;
  readonly authorizedOrigin?: string;
  readonly signal?: AbortSignal;
  /** Largest body read, in bytes; a longer one is `BAD_RESPONSE`. */
  readonly maxBodyBytes?: number;
  /** What the request is for, in errors: `tags of team/app`. */
  readonly what: string;
  /** `refuse`: a redirect comes back as the answer, unfollowed (an API token must not follow it anywhere). */
  readonly redirects?: 'follow' | 'refuse';
}

/** Response headers by name, case-insensitive (what the adapter reads of `Headers`). */
export interface HeaderReader {
  get(name: string): string | null;
  has(name: string): boolean;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: HeaderReader;
  /** The URL that answered, after redirects. */
  readonly url: URL;
  /** Empty for HEAD. */
  readonly body: Uint8Array;
}

export interface RequestCounters {
  requests: number;
}

export interface TransportOptions {
  readonly identity: RegistryIdentity;
  readonly timeoutMs: number;
  /** Aborted on dispose: in-flight requests end, later ones are refused. */
  readonly lifetime: AbortSignal;
  readonly counters: RequestCounters;
  readonly logger: Logger;
  readonly userAgent: string;
}

export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

const defaultMaxBodyBytes = 8 * 1024 * 1024;
const maxRedirects = 5;
const redirectStatuses: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** The facts every error of this registry carries. */
export function registryDetails(
  identity: RegistryIdentity,
  more: Record<string, unknown> = {},
): Record<string, unknown> {
  return { registry: identity.id, url: identity.url, ...more };
}

/**
 * A response's headers from `rawHeaders`, in a Map (the names come from the registry); a repeated
 * header's values joined with `, `, as `Headers.get` does.
 */
export function headersOf(rawHeaders: readonly string[]): HeaderReader {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const before = values.get(name);
    values.set(name, before === undefined ? rawHeaders[i + 1]! : `${before}, ${rawHeaders[i + 1]}`);
  }
  return {
    get: (name) => values.get(name.toLowerCase()) ?? null,
    has: (name) => values.has(name.toLowerCase()),
  };
}

/**
 * Sends one request with `node:http(s)` (its default agents keep connections alive) and resolves
 * with the answer's head; the body is the caller's to read or discard. Not `fetch`: loading undici
 * and its WebAssembly parser costs an idle server about 7 MB (bench/idle-memory.bench.ts).
 */
function send(
  url: URL,
  method: string,
  headers: Readonly<Record<string, string>>,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const open = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = open(url, { method, headers, signal }, resolve);
    request.on('error', reject);
    request.end();
  });
}

/** Why a request never got an answer: the network code (`ECONNREFUSED`), else the error's message. */
function describeNetworkError(error: unknown): string {
  return networkFailure(error)?.code ?? (error instanceof Error ? error.message : String(error));
}

/** What a request that got no (whole) answer was, for `requestFailure`. */
interface FailedRequest {
  readonly identity: RegistryIdentity;
  readonly request: { readonly what: string; readonly signal?: AbortSignal | undefined };
  readonly deadline: RequestDeadline;
  readonly timeoutMs: number;
  readonly lifetime: AbortSignal;
  /** `body`: the answer broke off after its head came. */
  readonly phase: 'request' | 'body';
}

/**
 * The `CoreError` of a request that got no whole answer, for the registry transport and the API
 * client alike: caller abort `ABORTED`, dispose `UNAVAILABLE` (final), timeout `TIMEOUT`, an answer
 * cut short `BAD_RESPONSE` (retryable), else a network failure `UNAVAILABLE` naming its code.
 */
function requestFailure(error: unknown, failed: FailedRequest): CoreError {
  const { identity, request, deadline, timeoutMs } = failed;
  const details = registryDetails(identity, { operation: request.what });
  const where = `${identity.id} (${identity.url})`;
  if (request.signal?.aborted) {
    return new CoreError('ABORTED', `Request for ${request.what} to ${identity.id} was aborted`, {
      details,
      cause: request.signal.reason,
    });
  }
  if (failed.lifetime.aborted) {
    return new CoreError('UNAVAILABLE', `${identity.id} is disposed`, { details, retryable: false });
  }
  if (deadline.timedOut) {
    return new CoreError(
      'TIMEOUT',
      `${where} did not answer the request for ${request.what} within ${timeoutMs} ms`,
      { details: { ...details, timeoutMs } },
    );
  }
  const reason = describeNetworkError(error);
  if (failed.phase === 'body') {
    return new CoreError('BAD_RESPONSE', `${where} broke off its answer for ${request.what} (${reason})`, {
      details: { ...details, reason },
      cause: error,
      retryable: true,
    });
  }
  return new CoreError('UNAVAILABLE', `${where} is unreachable for ${request.what} (${reason})`, {
    details: { ...details, reason },
    cause: error,
  });
}

/**
 * One HTTP exchange with timeouts, cancellation, manual redirects and a bounded body, mapped onto
 * `CoreError`s: network failure `UNAVAILABLE`, timeout `TIMEOUT`, caller abort `ABORTED`, a body cut
 * short or too long `BAD_RESPONSE`. Statuses are left to the caller, who knows what a 404 means.
 */
export function createTransport(options: TransportOptions): Transport {
  const { identity, counters, logger } = options;

  const readBody = async (message: IncomingMessage, request: HttpRequest): Promise<Uint8Array> => {
    const limit = request.maxBodyBytes ?? defaultMaxBodyBytes;
    const tooLong = () => {
      message.destroy();
      return new CoreError(
        'BAD_RESPONSE',
        `${identity.id} answered the request for ${request.what} with a body over ${limit} bytes`,
        {
          details: registryDetails(identity, { operation: request.what, limit }),
        },
      );
    };
    const declared = Number(message.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) throw tooLong();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of message as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > limit) throw tooLong();
      chunks.push(chunk);
    }
    return new Uint8Array(Buffer.concat(chunks, size));
  };

  return async (request) => {
    if (options.lifetime.aborted) {
      throw new CoreError('UNAVAILABLE', `${identity.id} is disposed`, {
        details: registryDetails(identity, { operation: request.what }),
        retryable: false,
      });
    }
    // Released when the request ends: per-request timers and signals otherwise outlive it (idle memory).
    const deadline = requestDeadline(options.timeoutMs, [options.lifetime, request.signal]);
    const { signal } = deadline;
    try {
      let url = request.url;
      let method = request.method;
      for (let hop = 0; ; hop++) {
        const headers: Record<string, string> = { ...request.headers, 'user-agent': options.userAgent };
        if (request.authorization && url.origin === request.authorizedOrigin) {
          headers.authorization = request.authorization;
        }
        counters.requests++;
        let message: IncomingMessage;
        try {
          message = await send(url, method, headers, signal);
        } catch (error) {
          throw requestFailure(error, { ...options, request, deadline, phase: 'request' });
        }
        const response = { status: message.statusCode ?? 0, headers: headersOf(message.rawHeaders) };
        const location = response.headers.get('location');
        if (request.redirects !== 'refuse' && redirectStatuses.has(response.status) && location) {
          message.resume();
          if (hop >= maxRedirects) {
            throw new CoreError(
              'BAD_RESPONSE',
              `${identity.id} redirected the request for ${request.what} more than ${maxRedirects} times`,
              {
                details: registryDetails(identity, { operation: request.what }),
              },
            );
          }
          if (!URL.canParse(location, url.href)) {
            throw new CoreError(
              'BAD_RESPONSE',
              `${identity.id} redirected the request for ${request.what} to an invalid URL`,
              {
                details: registryDetails(identity, { operation: request.what, status: response.status }),
              },
            );
          }
          const next = new URL(location, url);
          logger.debug('following a redirect', {
            operation: request.what,
            status: response.status,
            to: next.origin,
          });
          url = next;
          if (response.status === 303) method = 'GET';
          continue;
        }
        let body: Uint8Array;
        try {
          if (method === 'HEAD') {
            message.resume();
            body = new Uint8Array(0);
          } else {
            body = await readBody(message, request);
          }
        } catch (error) {
          if (isCoreError(error)) throw error;
          throw requestFailure(error, { ...options, request, deadline, phase: 'body' });
        }
        return { status: response.status, headers: response.headers, url, body };
      }
    } finally {
      deadline.done();
    }
  };
}

/** The `errors[].code` values of a distribution error body (`{"errors":[{"code":"NAME_UNKNOWN"}]}`), if any. */
export function errorCodesOf(body: Uint8Array): string[] {
  if (body.byteLength === 0 || body.byteLength > 64 * 1024) return [];
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(body));
    const errors = (parsed as { errors?: unknown }).errors;
    if (!Array.isArray(errors)) return [];
    return errors
      .map((entry) => (entry as { code?: unknown }).code)
      .filter((code): code is string => typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(code));
  } catch {
    return [];
  }
}

/**
 * Maps a status the caller has no special meaning for onto a `CoreError` that names the registry
 * and the operation: 429 (or `TOOMANYREQUESTS`) `RATE_LIMITED` with `retryAfterMs`, 401
 * `UNAUTHORIZED`, 403 `FORBIDDEN`, 404 `NOT_FOUND`, 5xx `UNAVAILABLE`, an unexpected success `BAD_RESPONSE`.
 */
export function statusError(
  identity: RegistryIdentity,
  response: HttpResponse,
  what: string,
  more: Record<string, unknown> = {},
): CoreError {
  const { status } = response;
  const codes = errorCodesOf(response.body);
  const details = registryDetails(identity, {
    operation: what,
    status,
    ...(codes.length > 0 ? { registryCodes: codes } : {}),
    ...more,
  });
  const where = `${identity.id} (${identity.url})`;
  if (status === 429 || codes.includes('TOOMANYREQUESTS')) {
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
