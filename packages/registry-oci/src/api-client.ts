import { CoreError, codeFromHttpStatus, type Logger, parseRetryAfter } from '@docker-watcher/core';
import {
  createTransport,
  type HeaderReader,
  type HttpResponse,
  type RegistryIdentity,
  registryDetails,
} from './_http.ts';

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
  readonly headers: HeaderReader;
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
 * GET of a JSON document with a timeout, cancellation and a bounded body, mapped onto `CoreError`s,
 * over the registry's `node:http` transport (not fetch: see `send` in `_http.ts`); redirects are not
 * followed. A 404 comes back to the caller (who knows what is missing); other failures are thrown.
 */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const { identity, logger } = options;
  const where = `${identity.id} (${identity.url})`;
  const transport = createTransport({ ...options, userAgent: 'docker-watcher' });

  const statusError = (response: HttpResponse, request: ApiRequest): CoreError => {
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
    const response = await transport({
      method: 'GET',
      url: request.url,
      headers: { accept: 'application/json', ...options.headers },
      ...(options.authorization === undefined ? {} : { authorization: options.authorization }),
      authorizedOrigin: options.authorizedOrigin,
      ...(request.signal === undefined ? {} : { signal: request.signal }),
      maxBodyBytes,
      what: request.what,
      // The token must never follow a redirect to another host: a redirect is an answer like any other.
      redirects: 'refuse',
    });
    logger.debug('api request', { operation: request.what, status: response.status });
    if (response.status === 404) {
      return { status: 404, headers: response.headers, url: request.url, body: undefined };
    }
    if (response.status < 200 || response.status > 299) throw statusError(response, request);
    try {
      const body: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(response.body));
      return { status: response.status, headers: response.headers, url: request.url, body };
    } catch (cause) {
      const contentType = response.headers.get('content-type')?.split(';')[0]?.trim() || 'none';
      throw new CoreError(
        'BAD_RESPONSE',
        `${where} answered ${request.what} with a body that is not JSON (content-type ${contentType}, ${response.body.byteLength} bytes)`,
        {
          details: apiDetails(identity, { operation: request.what, status: response.status, contentType }),
          cause,
        },
      );
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
