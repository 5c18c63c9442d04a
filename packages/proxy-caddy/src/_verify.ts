import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CoreError, networkFailure } from '@docker-watcher/core';
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

function attempt(options: VerifyOptions, timeoutMs: number): Promise<Attempt> {
  const https = options.url.protocol === 'https:';
  const request = https ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = request(
      new URL(options.path, options.url),
      {
        method: 'GET',
        agent: false,
        timeout: timeoutMs,
        headers: { host: options.host, 'user-agent': 'docker-watcher-verify' },
        // What is verified is the routing, not the certificate, which may come from an internal CA.
        ...(https ? { servername: options.host, rejectUnauthorized: false } : {}),
      },
      (res) => {
        res.resume();
        const value = res.headers[upstreamHeader.toLowerCase()];
        if (value === options.expected) resolve({ ok: true });
        else if (value === undefined)
          resolve({ ok: false, answered: true, seen: `status ${res.statusCode} without ${upstreamHeader}` });
        else resolve({ ok: false, answered: true, seen: `status ${res.statusCode} from another upstream` });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error: Error) =>
      resolve({ ok: false, seen: networkFailure(error)?.code ?? error.message }),
    );
    req.end();
  });
}

/**
 * Requests the host through Caddy's listener until an answer carries the expected upstream
 * fingerprint, with growing pauses, for at most `timeoutMs`. Returns what it saw last on failure.
 */
export async function verifyThroughListener(options: VerifyOptions): Promise<Attempt> {
  const deadline = Date.now() + options.timeoutMs;
  let pause = 25;
  let last: Attempt = { ok: false, seen: 'no request made' };
  do {
    if (options.signal?.aborted) return last;
    const remaining = Math.max(1, deadline - Date.now());
    const next = await attempt(options, Math.min(2_000, remaining));
    if (next.ok) return next;
    // An attempt the deadline cut short says less than an answer Caddy gave before it.
    if (next.answered || !('answered' in last)) last = next;
    const wait = Math.min(pause, deadline - Date.now());
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pause = Math.min(pause * 2, 500);
  } while (Date.now() < deadline);
  return last;
}
