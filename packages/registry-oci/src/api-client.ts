import {
  CoreError,
  codeFromHttpStatus,
  type Logger,
  parseRetryAfter,
  requestDeadline,
} from '@docker-watcher/core';
import { type RegistryIdentity, registryDetails, requestFailure } from './_http.ts';

/** Who the requests are attributed to in errors and logs: never credentials. */
export type ApiIdentity = RegistryIdentity;

export interface ApiClientOptions {
  readonly identity: ApiIdentity;
  /** `Authorization` value, sent only to `authorizedOrigin`. */
  readonly authorization?: string;
  readonly authorizedOrigin: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Aborted on dispose. */
  readonly lifetime: AbortSignal;
  readonly counters: { requests: number };
  readonly logger: Logger;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly url: URL;
  /** Parsed JSON for 2xx answers; `undefined` otherwise. */
  readonly body: unknown;
}

export interface ApiRequest {
  readonly url: URL;
  /** What the request is for, in errors, e.g. `versions of acme/web`. */
  readonly what: string;
  readonly signal?: AbortSignal | undefined;
}

export type ApiClient = (request: ApiRequest) => Promise<ApiResponse>;

const maxBodyBytes = 8 * 1024 * 1024;

/** The facts every error of the API client carries (the registry's own). */
export const apiDetails: typeof registryDetails = registryDetails;

/**
 * GET of a JSON document with a timeout, cancellation and a bounded body, mapped onto `CoreError`s.
 * A 404 comes back to the caller (who knows what is missing); other failures are thrown.
 */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const { identity, counters, logger } = options;
  const where = `${identity.id} (${identity.url})`;

  const readBody = async (response: Response, request: ApiRequest): Promise<Uint8Array> => {
    const tooLong = () =>
      new CoreError(
        'BAD_RESPONSE',
        `${where} answered ${request.what} with a body over ${maxBodyBytes} bytes`,
        {
          details: apiDetails(identity, { operation: request.what, limit: maxBodyBytes }),
        },
      );
    if (!response.body) return new Uint8Array(0);
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBodyBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLong();
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks);
  };

  const statusError = (response: Response, request: ApiRequest): CoreError => {
    const status = response.status;
    const details = apiDetails(identity, { operation: request.what, status });
    if (status === 401) {
      return new CoreError(
        'UNAUTHORIZED',
        options.authorization
          ? `${where} refused the token for ${request.what} (401)`
          : `${where} needs a token for ${request.what} (401)`,
        { details },
      );
    }
    const remaining = response.headers.get('x-ratelimit-remaining');
    if (status === 429 || (status === 403 && remaining === '0')) {
      const reset = Number(response.headers.get('x-ratelimit-reset'));
      const retryAfterMs =
        parseRetryAfter(response.headers.get('retry-after')) ??
        (Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - Date.now()) : undefined);
      return new CoreError('RATE_LIMITED', `${where} rate-limited ${request.what} (${status})`, {
        details,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    }
    if (status === 403) {
      return new CoreError('FORBIDDEN', `${where} forbids ${request.what} to these credentials (403)`, {
        details,
      });
    }
    return new CoreError(codeFromHttpStatus(status), `${where} answered ${request.what} with ${status}`, {
      details,
    });
  };

  return async (request) => {
    if (options.lifetime.aborted) {
      throw new CoreError('UNAVAILABLE', `${identity.id} is disposed`, {
        details: apiDetails(identity, { operation: request.what }),
        retryable: false,
      });
    }
    // Released when the request ends: per-request timers and signals otherwise outlive it (idle memory).
    const deadline = requestDeadline(options.timeoutMs, [options.lifetime, request.signal]);
    const { signal } = deadline;
    try {
      const headers = new Headers({ accept: 'application/json', ...options.headers });
      headers.set('user-agent', 'docker-watcher');
      if (options.authorization && request.url.origin === options.authorizedOrigin) {
        headers.set('authorization', options.authorization);
      }
      counters.requests++;
      let response: Response;
      try {
        // Manual redirects: the token must never follow a redirect to another host.
        response = await fetch(request.url, { headers, signal, redirect: 'manual' });
      } catch (error) {
        throw requestFailure(error, { ...options, request, deadline, phase: 'request' });
      }
      logger.debug('api request', { operation: request.what, status: response.status });
      if (response.status === 404) {
        await response.body?.cancel().catch(() => undefined);
        return { status: 404, headers: response.headers, url: request.url, body: undefined };
      }
      if (response.status < 200 || response.status > 299) {
        await response.body?.cancel().catch(() => undefined);
        throw statusError(response, request);
      }
      let bytes: Uint8Array;
      try {
        bytes = await readBody(response, request);
      } catch (error) {
        if (error instanceof CoreError) throw error;
        throw requestFailure(error, { ...options, request, deadline, phase: 'body' });
      }
      let body: unknown;
      try {
        body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
      } catch (cause) {
        const contentType = response.headers.get('content-type')?.split(';')[0]?.trim() || 'none';
        throw new CoreError(
          'BAD_RESPONSE',
          `${where} answered ${request.what} with a body that is not JSON (content-type ${contentType}, ${bytes.byteLength} bytes)`,
          {
            details: apiDetails(identity, { operation: request.what, status: response.status, contentType }),
            cause,
          },
        );
      }
      return { status: response.status, headers: response.headers, url: request.url, body };
    } finally {
      deadline.done();
    }
  };
}

/** `Link: <https://…?page=2>; rel="next", …` -> the next URL, resolved against the page's URL. */
export function nextLink(header: string | null, base: URL): URL | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match) continue;
    const rel = /;\s*rel\s*=\s*"?([^";]+)"?/i.exec(match[2] ?? '')?.[1];
    if (!rel?.split(/\s+/).includes('next')) continue;
    const target = match[1] ?? '';
    return URL.canParse(target, base.href) ? new URL(target, base.href) : undefined;
  }
  return undefined;
}
