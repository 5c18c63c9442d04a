import {
  CoreError,
  createHttpTransport,
  describeNetworkError,
  type HttpTransport,
  isCoreError,
} from '@docker-watcher/core';
import { upstreamHeader } from './_route.ts';

const wildcardHosts = new Set(['', '0.0.0.0', '::', '[::]']);

/**
 * Where to send verification requests, from the server's first `listen` address: Caddy's network
 * address form (`[network/]host:port[-port]`), with a wildcard host reached through 127.0.0.1.
 * Unix sockets and the like need the `verifyUrl` option.
 */
export function listenerUrl(listen: unknown, scheme: 'http' | 'https', proxy: string): URL {
  const first = Array.isArray(listen) && typeof listen[0] === 'string' ? listen[0] : undefined;
  const match = first ? /^(?:(tcp[46]?)\/)?(\[[^\]]*\]|[^:/]*):(\d+)(?:-\d+)?$/i.exec(first.trim()) : null;
  if (!first || !match) {
    throw new CoreError(
      'CONFIG_INVALID',
      `Cannot verify through Caddy's listener ${JSON.stringify(first ?? null)}: set the verifyUrl option`,
      { details: { proxy } },
    );
  }
  const host = match[2] ?? '';
  const reachable = wildcardHosts.has(host) ? (match[1] === 'tcp6' ? '[::1]' : '127.0.0.1') : host;
  return new URL(`${scheme}://${reachable}:${match[3]}`);
}

export interface VerifyOptions {
  readonly url: URL;
  readonly host: string;
  readonly path: string;
  readonly expected: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

type Attempt =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly seen: string /** Caddy answered (with a status). */;
      readonly answered?: true;
    };

/** Why an attempt got no answer: the network code, else what the transport says. */
function seenOf(error: unknown, timeoutMs: number): string {
  if (isCoreError(error, 'TIMEOUT')) return `no answer within ${timeoutMs} ms`;
  return describeNetworkError(isCoreError(error) && error.cause !== undefined ? error.cause : error);
}

async function attempt(http: HttpTransport, options: VerifyOptions, timeoutMs: number): Promise<Attempt> {
  try {
    const response = await http.request({
      url: new URL(options.path, options.url),
      headers: { host: options.host },
      timeoutMs,
      headOnly: true,
      what: `verification of ${options.host}`,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const value = response.headers.get(upstreamHeader);
    if (value === options.expected) return { ok: true };
    const from = value === null ? `without ${upstreamHeader}` : 'from another upstream';
    return { ok: false, answered: true, seen: `status ${response.status} ${from}` };
  } catch (error) {
    return { ok: false, seen: seenOf(error, timeoutMs) };
  }
}

/**
 * Core's transport to Caddy's listener: the host's name in the TLS handshake, whatever certificate
 * (what is verified is the routing, not the certificate, which may come from an internal CA), no
 * redirect followed, a fresh connection per attempt.
 */
function listenerTransport(options: VerifyOptions): HttpTransport {
  return createHttpTransport({
    identity: { id: 'caddy listener', url: options.url.origin },
    timeoutMs: options.timeoutMs,
    lifetime: new AbortController().signal,
    userAgent: 'docker-watcher-verify',
    keepAlive: false,
    redirects: 'refuse',
    ...(options.url.protocol === 'https:'
      ? { tls: { serverName: options.host, rejectUnauthorized: false } }
      : {}),
  });
}

/**
 * Requests the host through Caddy's listener until an answer carries the expected upstream
 * fingerprint, with growing pauses, for at most `timeoutMs`. Returns what it saw last on failure.
 */
export async function verifyThroughListener(options: VerifyOptions): Promise<Attempt> {
  const http = listenerTransport(options);
  try {
    return await verifyWith(http, options);
  } finally {
    http.close();
  }
}

async function verifyWith(http: HttpTransport, options: VerifyOptions): Promise<Attempt> {
  const deadline = Date.now() + options.timeoutMs;
  let pause = 25;
  let last: Attempt = { ok: false, seen: 'no request made' };
  do {
    if (options.signal?.aborted) return last;
    const remaining = Math.max(1, deadline - Date.now());
    const next = await attempt(http, options, Math.min(2_000, remaining));
    if (next.ok) return next;
    // An attempt the deadline cut short says less than an answer Caddy gave before it.
    if (next.answered || !('answered' in last)) last = next;
    const wait = Math.min(pause, deadline - Date.now());
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pause = Math.min(pause * 2, 500);
  } while (Date.now() < deadline);
  return last;
}
