// The one way the dashboard talks to the server: same-origin fetch with the session cookie, the CSRF
// token on every mutation, and every failure turned into an `ApiError` with the server's message.
import type { ApiErrorBody } from './types.ts';

/** A failed call: the server's code and message, or `UNREACHABLE` when no answer came. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** From `Retry-After` on a 429. */
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, code: string, message: string, retryAfterSeconds?: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export const isApiError = (error: unknown): error is ApiError => error instanceof ApiError;

export interface ClientHooks {
  /** The CSRF token of the session (kept in memory only). */
  csrfToken(): string | undefined;
  /** A 401 on anything but the login itself: the session ended. */
  onUnauthorized?(error: ApiError): void;
  /** Whether the server answered at all (any status) or not. */
  onReachable?(reachable: boolean): void;
  /** A request the session counts as activity (its idle clock restarts). */
  onActivity?(): void;
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  /** An `Idempotency-Key` header, so a retried click cannot act twice. */
  readonly idempotencyKey?: string;
  /** Do not report a 401 to `onUnauthorized` (the login form shows its own). */
  readonly quietUnauthorized?: boolean;
}

const safe = new Set(['GET', 'HEAD']);

async function errorOf(response: Response): Promise<ApiError> {
  let body: Partial<ApiErrorBody> | undefined;
  try {
    body = (await response.json()) as Partial<ApiErrorBody>;
  } catch {
    body = undefined;
  }
  const retryAfter = Number(response.headers.get('retry-after'));
  const code = typeof body?.error?.code === 'string' ? body.error.code : `HTTP_${response.status}`;
  const message =
    typeof body?.error?.message === 'string' && body.error.message !== ''
      ? body.error.message
      : `The server answered ${response.status} ${response.statusText}`.trim();
  return new ApiError(
    response.status,
    code,
    message,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  );
}

export type Requester = <T>(method: string, path: string, options?: RequestOptions) => Promise<T>;

/** A `request(method, path, options)` bound to `fetchImpl` and the session's hooks. */
export function createRequester(hooks: ClientHooks, fetchImpl: typeof fetch = fetch): Requester {
  return async <T>(method: string, path: string, options: RequestOptions = {}): Promise<T> => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (!safe.has(method)) {
      const token = hooks.csrfToken();
      if (token) headers['x-csrf-token'] = token;
    }
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    let response: Response;
    try {
      response = await fetchImpl(path, {
        method,
        headers,
        credentials: 'same-origin',
        cache: 'no-store',
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      hooks.onReachable?.(false);
      throw new ApiError(
        0,
        'UNREACHABLE',
        'The server cannot be reached: check that it runs, then try again',
      );
    }
    hooks.onReachable?.(true);
    hooks.onActivity?.();
    if (!response.ok) {
      const error = await errorOf(response);
      if (error.status === 401 && !options.quietUnauthorized) hooks.onUnauthorized?.(error);
      throw error;
    }
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  };
}

/** `/api/projects/<id>` with every part encoded: names are data, never path syntax. */
export function apiPath(...parts: ReadonlyArray<string>): string {
  return `/api/${parts.map((part) => encodeURIComponent(part)).join('/')}`;
}

/** A query string of the defined values (`?a=1&b=x`), or `''`. */
export function query(params: Readonly<Record<string, string | number | boolean | undefined>>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
