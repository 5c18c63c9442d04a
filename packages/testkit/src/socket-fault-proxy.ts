import { connect, createServer, type Socket } from 'node:net';
import { defaultSocketPath } from './docker-engine.ts';

/**
 * What the proxy does with its connections: pass bytes on; `stall` holds every connection, open or
 * new, without a byte either way (an engine that accepts connections and never answers) until
 * `pass` again, when the held bytes flow on; `reset` closes every connection, open or new.
 */
export type SocketFaultMode = 'pass' | 'stall' | 'reset';

export interface SocketFaultProxy {
  /** `tcp://127.0.0.1:<port>`: a Docker host address (`DOCKER_HOST`, the docker target's `docker_host`). */
  readonly url: string;
  readonly port: number;
  /** Connections it held or reset, per mode. */
  readonly faulted: Map<SocketFaultMode, number>;
  set(mode: SocketFaultMode): void;
  stop(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  upstream?: Socket;
}

/**
 * A fault-switching byte proxy on loopback TCP in front of a unix socket (the Docker Engine's
 * `/var/run/docker.sock`): streams (pulls, logs, waits) pass unbuffered, and a test can make the
 * engine stall or drop its connections, then heal it, without touching the engine itself.
 */
export async function startSocketFaultProxy(
  options: {
    /** Default: the engine the testkit uses (`DW_DOCKER_SOCKET`, else `/var/run/docker.sock`). */
    readonly socketPath?: string;
  } = {},
): Promise<SocketFaultProxy> {
  const socketPath = options.socketPath ?? process.env.DW_DOCKER_SOCKET ?? defaultSocketPath;
  let mode: SocketFaultMode = 'pass';
  const faulted = new Map<SocketFaultMode, number>();
  const pairs = new Set<Pair>();
  const count = (what: SocketFaultMode) => faulted.set(what, (faulted.get(what) ?? 0) + 1);

  const close = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream?.destroy();
  };
  const flow = (pair: Pair) => {
    if (!pair.upstream) {
      const upstream = connect(socketPath);
      pair.upstream = upstream;
      upstream.on('error', () => close(pair));
      upstream.on('close', () => close(pair));
    }
    pair.client.pipe(pair.upstream);
    pair.upstream.pipe(pair.client);
  };
  const hold = (pair: Pair) => {
    // Unpiped and paused: what arrives waits in the sockets' buffers, nothing is answered.
    pair.client.unpipe();
    pair.upstream?.unpipe();
    pair.client.pause();
    pair.upstream?.pause();
  };

  const server = createServer((client) => {
    const pair: Pair = { client };
    pairs.add(pair);
    client.on('error', () => close(pair));
    client.on('close', () => close(pair));
    if (mode === 'reset') {
      count('reset');
      close(pair);
    } else if (mode === 'stall') {
      count('stall');
      hold(pair);
    } else flow(pair);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let stopping: Promise<void> | undefined;
  return {
    url: `tcp://127.0.0.1:${port}`,
    port,
    faulted,
    set(next) {
      if (next === mode) return;
      mode = next;
      for (const pair of [...pairs]) {
        if (next === 'reset') {
          count('reset');
          close(pair);
        } else if (next === 'stall') {
          count('stall');
          hold(pair);
        } else flow(pair);
      }
    },
    stop() {
      stopping ??= new Promise((resolve) => {
        for (const pair of [...pairs]) close(pair);
        server.close(() => resolve());
      });
      return stopping;
    },
  };
}
