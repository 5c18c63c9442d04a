import { type Loopback, startLoopback } from './loopback-server.ts';

/**
 * What the proxy does with the next requests: pass them on, or answer as a failing backend would.
 * `reset` closes the connection without an answer; `stall` never answers (until `pass` again).
 */
export type FaultMode = 'pass' | 'error-500' | 'rate-limited' | 'garbage' | 'reset' | 'stall';

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: use it instead of the target's URL. */
  readonly url: string;
  /** Every request it received, faulted or passed on. */
  readonly requests: Loopback['requests'];
  /** Requests it answered with a fault, per mode. */
  readonly faulted: Map<FaultMode, number>;
  set(mode: FaultMode): void;
  stop(): Promise<void>;
}

/**
 * Hop-by-hop and length headers: the proxy's own connection decides them. A trailer (Caddy's admin
 * API announces an `ETag` one) cannot follow a body with a length, so it is not announced either.
 */
const dropped = new Set([
  'connection',
  'trailer',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'content-encoding',
]);

/**
 * A fault-switching HTTP proxy on loopback in front of a real backend (a registry's API, a Caddy
 * admin API): it passes requests on, or, switched, answers them with the failure a real backend
 * shows on a bad day, so a test can inject one fault at a time and heal it again.
 */
export async function startFaultProxy(options: { readonly target: string }): Promise<FaultProxy> {
  let mode: FaultMode = 'pass';
  const faulted = new Map<FaultMode, number>();
  const stalled = new Set<() => void>();
  const loopback = await startLoopback(async (request, response) => {
    const now = mode;
    if (now !== 'pass') faulted.set(now, (faulted.get(now) ?? 0) + 1);
    switch (now) {
      case 'error-500':
        response.writeHead(500, { 'content-type': 'text/plain' }).end('internal server error');
        return;
      case 'rate-limited':
        response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
        response.end('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}');
        return;
      case 'garbage':
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"tags": [<<not json');
        return;
      case 'reset':
        response.socket?.destroy();
        return;
      case 'stall':
        await new Promise<void>((resolve) => stalled.add(resolve));
        response.socket?.destroy();
        return;
      case 'pass': {
        const headers = new Headers();
        for (const [name, value] of Object.entries(request.headers)) {
          if (name === 'host' || dropped.has(name) || value === undefined) continue;
          headers.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        // A config load to Caddy's admin API carries a body: passed on as received. Read with
        // events, not `for await`, whose end destroys the request and with it the connection.
        const sent = await new Promise<Buffer>((resolve, reject) => {
          const chunks: Buffer[] = [];
          response.req.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.req.on('end', () => resolve(Buffer.concat(chunks)));
          response.req.on('error', reject);
        });
        const answer = await fetch(new URL(request.path, options.target), {
          method: request.method,
          headers,
          redirect: 'manual',
          ...(sent.length > 0 ? { body: sent } : {}),
        });
        const out: Record<string, string> = {};
        answer.headers.forEach((value, name) => {
          if (!dropped.has(name)) out[name] = value;
        });
        const body = Buffer.from(await answer.arrayBuffer());
        response.writeHead(answer.status, { ...out, 'content-length': String(body.length) });
        response.end(request.method === 'HEAD' ? undefined : body);
      }
    }
  });
  return {
    url: loopback.url,
    requests: loopback.requests,
    faulted,
    set(next) {
      mode = next;
      if (next !== 'stall') {
        for (const release of stalled) release();
        stalled.clear();
      }
    },
    async stop() {
      for (const release of stalled) release();
      stalled.clear();
      await loopback.close();
    },
  };
}
