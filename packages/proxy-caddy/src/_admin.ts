import {
  CoreError,
  codeFromHttpStatus,
  createHttpTransport,
  type HttpResponse,
  responseText,
} from '@docker-watcher/core';

/** Caddy's answers are short, but a whole config could be large: only this much goes into a message. */
const maxErrorText = 300;

export interface CaddyAdmin {
  /** The JSON at a config path or `/id/<id>`; `undefined` for `null` and for an unknown id. */
  get(path: string, signal?: AbortSignal): Promise<unknown>;
  /** A write (POST, PUT, PATCH, DELETE); Caddy applies it as one config load, or not at all. */
  send(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<void>;
}

/** Requests in flight when the adapter is disposed finish (a rollback among them): never aborted. */
const adminLifetime = new AbortController().signal;

export function truncate(text: string, max = maxErrorText): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function caddyErrorText(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') return truncate(parsed.error);
  } catch {
    // Not JSON: Caddy's admin API always answers errors as JSON, but a proxy in front of it may not.
  }
  return truncate(text);
}

export function createCaddyAdmin(options: {
  adminUrl: string;
  adminSocket?: string | undefined;
  timeoutMs: number;
  proxy: string;
}): CaddyAdmin {
  const socket = options.adminSocket;
  const base = new URL(socket ? 'http://127.0.0.1' : options.adminUrl);
  const where = socket ? `unix:${socket}` : base.origin;
  const details = { proxy: options.proxy, adminUrl: where };
  // Over a Unix socket Caddy accepts an empty Host (2.7 and later also 127.0.0.1 and ::1).
  const headers: Record<string, string> = socket ? { host: '' } : {};
  const http = createHttpTransport({
    identity: { id: options.proxy, url: where, details },
    timeoutMs: options.timeoutMs,
    lifetime: adminLifetime,
    // A fresh connection per call: Caddy restarts its admin server on every config load.
    keepAlive: false,
    redirects: 'refuse',
    ...(socket ? { socketPath: socket } : {}),
  });

  const raw = (method: string, path: string, body: unknown, signal?: AbortSignal): Promise<HttpResponse> =>
    http.request({
      method,
      url: new URL(path, base),
      headers,
      ...(body === undefined ? {} : { json: body }),
      ...(signal ? { signal } : {}),
      what: `${method} ${path}`,
    });

  const fail = (method: string, path: string, response: HttpResponse): CoreError => {
    const text = caddyErrorText(responseText(response));
    const status = response.status;
    const at = { ...details, status, method, path };
    // Caddy 2.6 answers a config it cannot load with 500 "loading new config: …", and keeps running the old one.
    if (status === 400 || (status === 500 && /^loading (new )?config/i.test(text))) {
      return new CoreError('BAD_REQUEST', `Caddy rejected ${method} ${path}: ${text}`, { details: at });
    }
    if (status === 404) return new CoreError('NOT_FOUND', `Caddy: ${text}`, { details: at });
    if (status === 403) {
      return new CoreError('FORBIDDEN', `Caddy's admin API refused ${method} ${path}: ${text}`, {
        details: at,
      });
    }
    return new CoreError(codeFromHttpStatus(status), `Caddy's admin API answered ${status}: ${text}`, {
      details: at,
    });
  };

  return {
    get: async (path, signal) => {
      const response = await raw('GET', path, undefined, signal);
      if (response.status === 404 && path.startsWith('/id/')) return undefined;
      if (response.status !== 200) throw fail('GET', path, response);
      try {
        return JSON.parse(responseText(response)) ?? undefined;
      } catch (error) {
        throw new CoreError(
          'BAD_RESPONSE',
          `Caddy's admin API answered GET ${path} with something not JSON`,
          {
            cause: error,
            details,
          },
        );
      }
    },
    send: async (method, path, body, signal) => {
      const response = await raw(method, path, body, signal);
      if (response.status < 200 || response.status > 299) throw fail(method, path, response);
    },
  };
}
