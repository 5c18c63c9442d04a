import { createServer, request, type Server } from 'node:http';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
}

export interface AdminRecorder {
  /** Put in front of Caddy's admin API: `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Requests other than GET: what changed (or tried to change) Caddy's config. */
  writes(): RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A loopback forwarder in front of a real Caddy admin API that records every request, so tests
 * can count config loads. It rewrites Host to Caddy's own address (Caddy checks admin origins).
 */
export async function startAdminRecorder(target: string): Promise<AdminRecorder> {
  const upstream = new URL(target);
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    requests.push({ method: incoming.method ?? 'GET', path: incoming.url ?? '/' });
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: upstream.host },
        agent: false,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => {
      outgoing.writeHead(502);
      outgoing.end();
    });
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    writes: () => requests.filter((entry) => entry.method !== 'GET'),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
