import { createServer, request, type Server } from 'node:http';
import type { Upstream } from '@docker-watcher/core';

export interface LoopbackUpstream {
  readonly name: string;
  readonly upstream: Upstream;
  /** Requests this upstream has answered. */
  readonly served: () => number;
  close(): Promise<void>;
}

/** A loopback HTTP server that answers every request with its name. */
export async function startUpstream(name: string): Promise<LoopbackUpstream> {
  let served = 0;
  const server: Server = createServer((_req, res) => {
    served++;
    res.setHeader('content-type', 'text/plain');
    res.end(name);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    name,
    upstream: { host: '127.0.0.1', port },
    served: () => served,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** One GET through Caddy's listener with the given Host, on a fresh connection. */
export function getThrough(port: number, host: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}
