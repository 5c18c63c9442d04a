import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';

/** A request the loopback server received. */
export interface SeenRequest {
  readonly method: string;
  /** Path and query, e.g. `/v2/team/app/tags/list?n=1000`. */
  readonly path: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
}

export type LoopbackHandler = (request: SeenRequest, response: ServerResponse) => void | Promise<void>;

export interface Loopback {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly origin: string;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

/**
 * A tiny HTTP server on 127.0.0.1 for the faults a real registry cannot be made to produce: the
 * handler answers every request; every request is recorded.
 */
export async function startLoopback(handler: LoopbackHandler): Promise<Loopback> {
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const seen: SeenRequest = {
      method: req.method ?? 'GET',
      path: url.pathname + url.search,
      url,
      headers: req.headers,
    };
    requests.push(seen);
    Promise.resolve(handler(seen, res)).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    origin: url,
    requests,
    close: () => {
      closing ??= new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

/** Writes a JSON answer (distribution's content type unless `headers` says otherwise). */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  response.end(text);
}
