// The network of a private Docker Engine: a network namespace of its own, so that whatever its
// dockerd does to network devices (moby deletes a `docker0` it finds stale when it restarts with an
// address pool) happens to its own devices, never the host's. The host reaches it through one veth
// pair; it reaches the host's loopback services (the testkit's registries) through forwarders.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { runCommand } from './command.ts';
import { TestkitError } from './testkit-error.ts';

export interface EngineNetwork {
  /** The network namespace (`ip netns`) the daemon runs in. */
  readonly namespace: string;
  /** The host's end of the veth pair, e.g. `dwpe187h`. */
  readonly hostLink: string;
  /** The host's address on it, e.g. `10.187.255.1`. */
  readonly hostAddress: string;
  /** The namespace's address on it, where the engine publishes ports, e.g. `10.187.255.2`. */
  readonly engineAddress: string;
}

/** The network of an engine whose user networks come from `addressPool` (`10.<n>.0.0/16`). */
export function networkFor(addressPool: string): EngineNetwork {
  const octet = addressPool.split('.')[1];
  return {
    namespace: `dw-testkit-engine-${octet}`,
    hostLink: `dwpe${octet}h`,
    hostAddress: `10.${octet}.255.1`,
    engineAddress: `10.${octet}.255.2`,
  };
}

const namespacePath = (network: EngineNetwork) => `/run/netns/${network.namespace}`;

async function ip(args: readonly string[], what: string): Promise<void> {
  const result = await runCommand('ip', args);
  if (result.code !== 0) {
    throw new TestkitError(
      `Could not ${what} for a private Docker Engine: ip ${args.join(' ')}: ${result.stderr.trim()}`,
      'Run the tests as root on a host with iproute2 and network namespaces, as CI does.',
    );
  }
}

/** Makes the namespace and its veth pair, unless they are there already. */
export async function ensureNetwork(network: EngineNetwork): Promise<void> {
  const exists = (await runCommand('ip', ['netns', 'list'])).stdout
    .split('\n')
    .some((line) => line.split(' ')[0] === network.namespace);
  if (!exists) {
    await ip(['netns', 'add', network.namespace], 'make a network namespace');
    await ip(['-n', network.namespace, 'link', 'set', 'lo', 'up'], 'bring up its loopback');
  }
  if ((await runCommand('ip', ['link', 'show', network.hostLink])).code === 0) return;
  const inside = `${network.hostLink.slice(0, -1)}n`;
  await ip(['link', 'add', network.hostLink, 'type', 'veth', 'peer', 'name', inside], 'make a veth pair');
  await ip(['link', 'set', inside, 'netns', network.namespace], 'move the veth into the namespace');
  await ip(['addr', 'add', `${network.hostAddress}/30`, 'dev', network.hostLink], 'address the veth');
  await ip(['link', 'set', network.hostLink, 'up'], 'bring up the veth');
  await ip(
    ['-n', network.namespace, 'addr', 'add', `${network.engineAddress}/30`, 'dev', inside],
    'address the veth',
  );
  await ip(['-n', network.namespace, 'link', 'set', inside, 'up'], 'bring up the veth');
}

/**
 * Removes the namespace's name and the host's end of the veth. The namespace itself (with every
 * device in it) goes once no process is left in it, which the caller makes sure of.
 */
export async function removeNetwork(network: EngineNetwork): Promise<void> {
  await runCommand('ip', ['link', 'delete', network.hostLink]);
  await runCommand('ip', ['netns', 'delete', network.namespace]);
}

/** `command args…` run inside the namespace (only its network; files and mounts are the host's). */
export function inNamespace(network: EngineNetwork, command: string, args: readonly string[]) {
  return { command: 'nsenter', args: [`--net=${namespacePath(network)}`, command, ...args] };
}

// Runs inside the namespace: 127.0.0.1:<port> there, piped to a unix socket the host side serves.
const insideForwarder = `
const net = require('node:net');
const [socket, port] = process.argv.slice(1);
net.createServer((client) => {
  const upstream = net.connect(socket);
  client.pipe(upstream).pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\\n'));
`;

export interface LoopbackForward {
  close(): Promise<void>;
}

/**
 * Makes the host's `127.0.0.1:<port>` answer at `127.0.0.1:<port>` inside the namespace too, so the
 * engine pulls from a registry on the host's loopback under the same image references (Docker
 * trusts loopback registries without TLS). A unix socket in `dir` crosses between the two.
 */
export async function forwardLoopback(
  network: EngineNetwork,
  dir: string,
  port: number,
): Promise<LoopbackForward> {
  const socket = join(dir, `loopback-${port}.sock`);
  const server: Server = createServer((inside) => {
    const host = connect(port, '127.0.0.1');
    inside.pipe(host).pipe(inside);
    inside.on('error', () => host.destroy());
    host.on('error', () => inside.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  server.unref();
  const { command, args } = inNamespace(network, process.execPath, [
    '-e',
    insideForwarder,
    socket,
    String(port),
  ]);
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ready = await new Promise<boolean>((resolve) => {
    child.stdout?.once('data', () => resolve(true));
    child.once('exit', () => resolve(false));
  });
  if (!ready) {
    server.close();
    throw new TestkitError(
      `Could not forward 127.0.0.1:${port} into the private engine's namespace ${network.namespace}.`,
      'Check that nsenter (util-linux) is installed and that the tests run as root.',
    );
  }
  child.unref();
  child.stdout?.destroy();
  child.stderr?.destroy();
  return {
    close: async () => {
      child.kill('SIGKILL');
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The IPv4 networks the host routes already (`/proc/net/route`), as [address, mask] numbers. */
export function hostRoutes(): Array<[number, number]> {
  const hex = (text: string) => {
    // Little-endian hex: 0100000A is 10.0.0.1.
    const bytes = text.match(/../g)?.reverse() ?? [];
    return Number.parseInt(bytes.join(''), 16) >>> 0;
  };
  try {
    return readFileSync('/proc/net/route', 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .map((fields): [number, number] => [hex(fields[1] ?? '0'), hex(fields[7] ?? '0')])
      .filter(([, mask]) => mask !== 0);
  } catch {
    return [];
  }
}
