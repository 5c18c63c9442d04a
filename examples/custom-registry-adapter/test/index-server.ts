import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StaticIndex {
  repositories: Record<string, { tags: Record<string, string> }>;
}

/** A canned answer instead of the index, for the next requests. */
export interface CannedResponse {
  readonly status: number;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Wait this long before answering. */
  readonly delayMs?: number;
}

export interface IndexServer {
  /** Where the index is served, e.g. `http://127.0.0.1:41234/index.json`. */
  readonly url: string;
  /** The served index; change it to change what the registry sees. */
  readonly index: StaticIndex;
  /** Requests answered so far. */
  readonly requests: number;
  /** Answer with `response` from now on (`undefined`: serve the index again). */
  respondWith(response: CannedResponse | undefined): void;
  /** Stops serving; idempotent. */
  close(): Promise<void>;
}

export function randomDigest(): string {
  return `sha256:${createHash('sha256').update(randomBytes(32)).digest('hex')}`;
}

/** Serves a static index on a loopback port, behind a bearer token when one is given. */
export async function startIndexServer(options: { token?: string } = {}): Promise<IndexServer> {
  const index: StaticIndex = { repositories: {} };
  let requests = 0;
  let canned: CannedResponse | undefined;
  let closing: Promise<void> | undefined;

  const server = createServer((request, response) => {
    requests += 1;
    const answer = (status: number, body: string, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(body);
    };
    if (options.token && request.headers.authorization !== `Bearer ${options.token}`) {
      answer(401, '{"error":"unauthorized"}');
      return;
    }
    if (request.url !== '/index.json') {
      answer(404, '{"error":"not found"}');
      return;
    }
    const current = canned;
    if (current) {
      setTimeout(
        () => answer(current.status, current.body ?? '', { ...current.headers }),
        current.delayMs ?? 0,
      );
      return;
    }
    answer(200, JSON.stringify(index));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/index.json`,
    index,
    get requests() {
      return requests;
    },
    respondWith(response) {
      canned = response;
    },
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
