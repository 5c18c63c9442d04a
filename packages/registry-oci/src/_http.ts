import {
  type CoreError,
  createHttpTransport,
  type HttpIdentity,
  type HttpRequest,
  type HttpResponse,
  httpStatusError,
  identityDetails,
  type Logger,
} from '@docker-watcher/core';

export type { HeaderReader, HttpRequest, HttpResponse } from '@docker-watcher/core';

/** What an adapter instance's requests are attributed to in errors and logs: never credentials. */
export interface RegistryIdentity {
  /** The adapter's id, e.g. `registry:oci/hub`. */
  readonly id: string;
  /** Origin (and path prefix) of the registry, without credentials. */
  readonly url: string;
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

/** A registry's identity as core's transport names it: its errors carry `registry` and `url`. */
const asHttpIdentity = (identity: RegistryIdentity): HttpIdentity => ({
  ...identity,
  details: { registry: identity.id, url: identity.url },
});

/** The facts every error of this registry carries. */
export function registryDetails(
  identity: RegistryIdentity,
  more: Record<string, unknown> = {},
): Record<string, unknown> {
  return identityDetails(asHttpIdentity(identity), more);
}

/** Core's HTTP transport, its errors naming the registry. */
export function createTransport(options: TransportOptions): Transport {
  const http = createHttpTransport({ ...options, identity: asHttpIdentity(options.identity) });
  return (request) => http.request(request);
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
 * and the operation (core's `httpStatusError`); a `TOOMANYREQUESTS` body is a rate limit too.
 */
export function statusError(
  identity: RegistryIdentity,
  response: HttpResponse,
  what: string,
  more: Record<string, unknown> = {},
): CoreError {
  const codes = errorCodesOf(response.body);
  return httpStatusError(asHttpIdentity(identity), response, what, {
    details: { ...(codes.length > 0 ? { registryCodes: codes } : {}), ...more },
    rateLimited: codes.includes('TOOMANYREQUESTS'),
  });
}
