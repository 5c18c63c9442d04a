// A loopback HTTP proxy in front of a registry that records every request it forwards: the registry's view of
// what a client costs it, whatever the client reports about itself.
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** `performance.now()` when the request arrived and when its answer ended. */
  readonly startedAt: number;
  readonly endedAt: number;
}

export interface CountingProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Every request forwarded so far, in the order their answers ended. */
  readonly requests: ProxiedRequest[];
  close(): Promise<void>;
}

export async function startCountingProxy(upstreamUrl: string): Promise<CountingProxy> {
  const upstream = new URL(upstreamUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const requests: ProxiedRequest[] = [];
  const server = createServer((incoming, outgoing) => {
    const startedAt = performance.now();
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: upstream.host },
        agent,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
        answer.on('end', () =>
          requests.push({
            method: incoming.method ?? 'GET',
            path: incoming.url ?? '/',
            status: answer.statusCode ?? 0,
            startedAt,
            endedAt: performance.now(),
          }),
        );
      },
    );
    forwarded.on('error', () => {
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end();
    });
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
