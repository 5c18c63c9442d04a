// An HTTP proxy on a Unix socket in front of the real engine that can act right before a request
// reaches it: a test makes something happen in the window between two of the target's calls. Plain
// and streamed answers pass; hijacked connections (attach, exec) do not, and nothing here uses them.
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
  /** What the hook threw: that request got a 500 naming it, and the test should say so. */
  readonly hookFailures: unknown[];
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
  const hookFailures: unknown[] = [];
  const server = createServer(async (req, res) => {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').replace(/^\/v[\d.]+\//, '/').split('?')[0] ?? '/';
    if (params.matches(method, path)) {
      actedBefore.push(`${method} ${path}`);
      try {
        await params.before();
      } catch (error) {
        hookFailures.push(error);
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `the interposer's hook failed: ${String(error)}` }));
        return;
      }
    }
    const upstream = request(
      { socketPath: engine, method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        // A streamed answer (events, logs) gets its headers before its first chunk.
        res.flushHeaders();
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  // The client's kept-alive sockets are never closed under it between two requests.
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    actedBefore,
    hookFailures,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
