// An HTTP proxy on a Unix socket in front of the real engine that can act right before a request
// reaches it: a test makes something happen in the window between two of the target's calls.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSocketPath } from '@docker-watcher/testkit';

export interface EngineInterposer {
  /** The target's `socketPath`. */
  readonly socketPath: string;
  /** `METHOD path` of each request the hook acted before. */
  readonly actedBefore: string[];
  stop(): Promise<void>;
}

/** Passes every request on; `before` runs first for those `matches` picks (method, path without version). */
export async function startEngineInterposer(params: {
  readonly matches: (method: string, path: string) => boolean;
  readonly before: () => Promise<void>;
}): Promise<EngineInterposer> {
  const engine = process.env.DW_DOCKER_SOCKET ?? defaultSocketPath;
  const dir = mkdtempSync(join(tmpdir(), 'dw-interposer-'));
  const socketPath = join(dir, 'engine.sock');
  const actedBefore: string[] = [];
  const server = createServer(async (req, res) => {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').replace(/^\/v[\d.]+\//, '/').split('?')[0] ?? '/';
    if (params.matches(method, path)) {
      actedBefore.push(`${method} ${path}`);
      await params.before();
    }
    const upstream = request(
      { socketPath: engine, method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    actedBefore,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
