import {
  CoreError,
  createHttpTransport,
  type ErrorCode,
  type Logger,
  responseJson,
  responseText,
} from '@docker-watcher/core';

/** NPM's error text goes into messages, cut to this length. */
const maxErrorText = 200;
/** A token is refreshed when less than this share of its lifetime is left (at most 5 minutes before expiry). */
const refreshShare = 0.25;
const maxRefreshMarginMs = 5 * 60_000;
/** Requests in flight when the adapter is disposed finish (a write among them): never aborted. */
const clientLifetime = new AbortController().signal;

export interface NpmClientOptions {
  /** Admin address; `/api` is added when missing. */
  readonly url: string;
  readonly email: string;
  readonly password: string;
  readonly timeoutMs: number;
  readonly proxy: string;
  readonly logger: Logger;
}

export interface NpmClient {
  /** Base of the API, e.g. `http://npm:81/api`. */
  readonly apiUrl: string;
  /**
   * One authenticated API call; `path` is relative to `/api`. Logs in on first use, refreshes the
   * token before it expires, and logs in again once when NPM answers the way it answers a stale
   * token, except after a 500 to a call that is not safe to repeat (`once`, a create: NPM answers
   * 500 when its nginx check fails after it stored the host). A 404 for the route after a fresh
   * login is `FORBIDDEN`, naming the permission NPM 2.15 hides behind it. Every failure is a
   * CoreError whose message never holds the password, a token or a whole HTML page.
   */
  request<T>(
    method: string,
    path: string,
    options?: { body?: unknown; signal?: AbortSignal; once?: boolean },
  ): Promise<T>;
  /** Forgets the session. */
  close(): void;
}

interface RawAnswer {
  readonly status: number;
  readonly data: unknown;
}

interface Session {
  readonly token: string;
  readonly expiresAt: number;
  readonly refreshAt: number;
}

export function apiUrlOf(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.endsWith('/api') ? trimmed : `${trimmed}/api`;
}

/** NPM's `{"error":{"message":…}}`, or whatever text the answer had; an HTML page by its title only. */
export function npmMessage(data: unknown): string {
  const error = (data as { error?: { message?: unknown } } | null)?.error;
  let text = typeof error?.message === 'string' ? error.message : typeof data === 'string' ? data : '';
  if (/^\s*<(!doctype|html|head|body)\b/i.test(text) || /<\/html>/i.test(text)) {
    // NPM's own nginx answers with a page while its backend is down: a few words, never the page.
    const title = /<title>([^<]{1,100})<\/title>/i.exec(text)?.[1]?.trim();
    text = title ? `an HTML page: ${title}` : 'an HTML page';
  }
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > maxErrorText ? `${flat.slice(0, maxErrorText)}…` : flat;
}

/** The NPM permission a user needs for a call, as NPM's user dialog names it. */
export function permissionFor(method: string, path: string): string {
  if (path.startsWith('/nginx/certificates')) return 'Certificates: View';
  return method === 'GET' ? 'Proxy Hosts: View' : 'Proxy Hosts: Manage';
}

/**
 * NPM 2.15 never answers 401 (see the README): a missing token is a 404 of the route itself
 * (`Not Found - /nginx/proxy-hosts`, unlike `Not Found - 5` for an unknown id), an expired one a 400
 * `Token has expired`, a malformed or foreign one a 500 `Internal Error`; some versions say 403.
 */
export function failsLikeStaleToken(answer: RawAnswer): boolean {
  const message = npmMessage(answer.data);
  switch (answer.status) {
    case 401:
    case 403:
      return true;
    case 400:
      return /token/i.test(message);
    case 404:
      return message.startsWith('Not Found - /');
    case 500:
      return message === 'Internal Error' || message === '';
    default:
      return false;
  }
}

function codeOf(status: number): ErrorCode {
  if (status === 400) return 'BAD_REQUEST';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'RATE_LIMITED';
  if (status >= 500) return 'UNAVAILABLE';
  return 'BAD_RESPONSE';
}

export function createNpmClient(options: NpmClientOptions): NpmClient {
  const apiUrl = apiUrlOf(options.url);
  const origin = new URL(apiUrl).origin;
  const details = { proxy: options.proxy, url: origin };
  // Never let the password or a token reach a message, even if NPM echoed one back.
  const clean = (text: string): string =>
    text.replaceAll(options.password, '[redacted]').replace(/eyJ[\w-]+\.[\w-]+\.[\w-]*/g, '[token]');

  let session: Session | undefined;
  let pendingSession: Promise<Session> | undefined;

  const http = createHttpTransport({
    identity: { id: options.proxy, url: origin, details },
    timeoutMs: options.timeoutMs,
    lifetime: clientLifetime,
    logger: options.logger,
  });

  /**
   * One exchange; NPM's answer as JSON when it is JSON, else as text. The token goes only to NPM's
   * origin, and the transport's errors name the call, never the token or the password.
   */
  const raw = async (
    method: string,
    path: string,
    body: unknown,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<RawAnswer> => {
    const response = await http.request({
      method,
      url: new URL(`${apiUrl}${path}`),
      headers: { accept: 'application/json' },
      ...(body === undefined ? {} : { json: body }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(signal ? { signal } : {}),
      what: `${method} /api${path}`,
    });
    const json = responseJson(response);
    return { status: response.status, data: json === undefined ? responseText(response) : json };
  };

  const fail = (method: string, path: string, answer: RawAnswer): CoreError => {
    const message = clean(npmMessage(answer.data));
    const at = { ...details, status: answer.status, method, path: `/api${path}` };
    if (answer.status === 403) {
      return new CoreError(
        'FORBIDDEN',
        `Nginx Proxy Manager refused ${method} /api${path} for ${options.email} (${message || 'Permission Denied'}): give the user the "${permissionFor(method, path)}" permission`,
        { details: at },
      );
    }
    return new CoreError(
      codeOf(answer.status),
      `Nginx Proxy Manager answered ${method} /api${path} with ${answer.status}: ${message}`,
      {
        details: at,
      },
    );
  };

  const sessionFrom = (data: unknown, method: string, path: string): Session => {
    const answer = data as { token?: unknown; expires?: unknown; requires_2fa?: unknown } | null;
    if (answer?.requires_2fa === true) {
      throw new CoreError(
        'UNAUTHORIZED',
        `Nginx Proxy Manager asks ${options.email} for a second factor (2FA), which Docker Watcher does not support: give the watcher a dedicated NPM user without 2FA`,
        { details, retryable: false },
      );
    }
    if (typeof answer?.token !== 'string' || answer.token === '') {
      throw new CoreError(
        'BAD_RESPONSE',
        `Nginx Proxy Manager answered ${method} /api${path} without a token`,
        { details },
      );
    }
    const now = Date.now();
    const parsed = typeof answer.expires === 'string' ? Date.parse(answer.expires) : Number.NaN;
    // Without a usable expiry, NPM's default lifetime of a day is assumed.
    const expiresAt = Number.isNaN(parsed) ? now + 86_400_000 : parsed;
    const margin = Math.min(maxRefreshMarginMs, Math.max(0, expiresAt - now) * refreshShare);
    return { token: answer.token, expiresAt, refreshAt: expiresAt - margin };
  };

  const login = async (signal?: AbortSignal): Promise<Session> => {
    const answer = await raw(
      'POST',
      '/tokens',
      { identity: options.email, secret: options.password },
      undefined,
      signal,
    );
    if (answer.status === 200) return sessionFrom(answer.data, 'POST', '/tokens');
    if (answer.status === 400 || answer.status === 401 || answer.status === 403) {
      throw new CoreError(
        'UNAUTHORIZED',
        `Nginx Proxy Manager refused the login of ${options.email} (${clean(npmMessage(answer.data)) || answer.status})`,
        { details: { ...details, status: answer.status }, retryable: false },
      );
    }
    throw fail('POST', '/tokens', answer);
  };

  const refresh = async (current: Session, signal?: AbortSignal): Promise<Session> => {
    try {
      const answer = await raw('GET', '/tokens', undefined, current.token, signal);
      if (answer.status === 200) return sessionFrom(answer.data, 'GET', '/tokens');
    } catch (error) {
      if (signal?.aborted) throw error;
    }
    options.logger.debug('token refresh failed, logging in again');
    return login(signal);
  };

  /** One login or refresh at a time, shared by concurrent calls. */
  const obtain = (make: () => Promise<Session>): Promise<Session> => {
    pendingSession ??= make()
      .then((fresh) => {
        session = fresh;
        return fresh;
      })
      .finally(() => {
        pendingSession = undefined;
      });
    return pendingSession;
  };

  const currentSession = (signal?: AbortSignal): Promise<Session> => {
    if (pendingSession) return pendingSession;
    const current = session;
    if (!current || Date.now() >= current.expiresAt) return obtain(() => login(signal));
    if (Date.now() >= current.refreshAt) {
      options.logger.debug('refreshing the token before it expires');
      return obtain(() => refresh(current, signal));
    }
    return Promise.resolve(current);
  };

  const forbidden = (method: string, path: string, answer: RawAnswer): CoreError =>
    new CoreError(
      'FORBIDDEN',
      `Nginx Proxy Manager refused ${method} /api${path} for ${options.email} (${answer.status} ${clean(npmMessage(answer.data))}): give the user the "${permissionFor(method, path)}" permission (NPM 2.15 answers 404 or 500 instead of 403)`,
      { details: { ...details, status: answer.status, method, path: `/api${path}` }, retryable: false },
    );

  return {
    apiUrl,
    request: async <T>(
      method: string,
      path: string,
      call: { body?: unknown; signal?: AbortSignal; once?: boolean } = {},
    ) => {
      const first = await currentSession(call.signal);
      let answer = await raw(method, path, call.body, first.token, call.signal);
      // A 500 to a create may come after NPM stored it: never repeat it blindly.
      if (failsLikeStaleToken(answer) && !(call.once && answer.status >= 500)) {
        options.logger.debug('NPM refused the token, logging in again', {
          status: answer.status,
          method,
          path,
        });
        // Another call may have logged in meanwhile: its session is as fresh as a new one.
        const fresh = session && session !== first ? session : await obtain(() => login(call.signal));
        answer = await raw(method, path, call.body, fresh.token, call.signal);
        if (answer.status === 404 && npmMessage(answer.data).startsWith('Not Found - /'))
          throw forbidden(method, path, answer);
        if (failsLikeStaleToken(answer) && answer.status !== 403 && answer.status < 500) {
          throw new CoreError(
            'UNAUTHORIZED',
            `Nginx Proxy Manager refused a fresh token of ${options.email} for ${method} /api${path} (${answer.status} ${clean(npmMessage(answer.data))})`,
            { details: { ...details, status: answer.status }, retryable: false },
          );
        }
      }
      if (answer.status < 200 || answer.status > 299) throw fail(method, path, answer);
      return answer.data as T;
    },
    close: () => {
      session = undefined;
    },
  };
}
