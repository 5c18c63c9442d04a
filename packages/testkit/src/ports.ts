import { createServer } from 'node:net';
import { TestkitError } from './testkit-error.ts';

/**
 * Ports this process handed out: a port is free again for the kernel once its probe closes, so two
 * calls could name the same one before either is bound (the demo stack asks for its servers' ports
 * before the registry and Caddy take theirs). Remembering them keeps one process's ports distinct.
 */
const handedOut = new Set<number>();
const rememberedPorts = 4096;

/** A port on 127.0.0.1 that nothing listens on right now and that this process has not handed out. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await probePort();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (handedOut.size > rememberedPorts) handedOut.delete(handedOut.values().next().value as number);
    return port;
  }
  throw new TestkitError(
    'No free port on 127.0.0.1 that this process has not already handed out.',
    'Too many ports are in use; stop leftover test processes (ss -ltnp).',
  );
}

function probePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Throws a clear error when something already listens on the port. */
export function assertPortFree(port: number, purpose: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new TestkitError(
              `Port ${port} on 127.0.0.1 is in use, so the ${purpose} cannot listen there.`,
              `Stop whatever listens there (ss -ltnp 'sport = :${port}'), or leave the port unset to get a free one.`,
            )
          : error,
      );
    });
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}
