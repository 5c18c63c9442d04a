import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { isRoot, runCommand } from './command.ts';
import { dockerClient } from './docker-client.ts';
import { pingDocker } from './docker-engine.ts';
import { testkitOwner } from './labels.ts';
import { processRuns, readPidfile } from './pidfile.ts';
import { TestkitError } from './testkit-error.ts';

/**
 * A throwaway Docker Engine of one test: its own dockerd (and the containerd it manages), socket,
 * data root and exec root in a temporary folder, so a test can stop, crash and restart it while
 * the shared engine keeps serving everyone else.
 */
export interface PrivateEngine {
  /** The engine's unix socket, for `createDockerTarget({ socketPath })`. */
  readonly socketPath: string;
  /** The folder that holds everything of this engine; removed by `dispose()`. */
  readonly dir: string;
  /** dockerd's log (all starts), for post-mortems. */
  readonly logFile: string;
  /** The address pool user networks get their subnets from, e.g. `10.187.0.0/16`. */
  readonly addressPool: string;
  /** A dockerode client on the socket. */
  readonly docker: Docker;
  /** Whether the daemon process is running. */
  running(): boolean;
  /** Starts the daemon (again) and waits for `/_ping`; a no-op while it runs. */
  start(): Promise<void>;
  /** SIGTERM, as a host shutdown or `systemctl stop docker` does: it stops its containers, then exits. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash or an OOM kill of dockerd: containers and their shims are left to themselves. */
  kill(): Promise<void>;
  /**
   * `stop()` (or `kill()` with `crash: true`), `downMs` of nothing answering on the socket, `whileDown`,
   * then `start()`.
   */
  restart(options?: {
    readonly crash?: boolean;
    readonly downMs?: number;
    readonly whileDown?: () => Promise<void> | void;
  }): Promise<void>;
  /** Copies images from another engine (the shared one by default) through `docker save | docker load`. */
  loadImages(references: readonly string[], from?: Docker): Promise<void>;
  /** Removes its containers and networks, stops the daemon, unmounts and removes the folder. Idempotent. */
  dispose(): Promise<void>;
}

export interface StartPrivateEngineOptions {
  /** How long to wait for `/_ping` at every start. */
  readonly startTimeoutMs?: number;
  /** Where to look for dockerd; the first that exists is used. */
  readonly dockerdCandidates?: readonly string[];
  /** Overridable for tests of the refusal path. */
  readonly root?: boolean;
}

const dirPrefix = 'dw-testkit-engine-';
const defaultCandidates = ['/usr/sbin/dockerd', '/usr/bin/dockerd', '/usr/local/bin/dockerd'];

/** What a folder keeps so that a later run can start its engine again and clean it up. */
interface EngineFile {
  readonly owner: number;
  readonly dockerd: string;
  readonly args: readonly string[];
  readonly addressPool: string;
  /** The engine's own default bridge, made by the testkit (files of older runs have none). */
  readonly bridge?: PrivateBridge;
}

interface PrivateBridge {
  readonly name: string;
  /** Its address with prefix, e.g. `10.173.255.1/24`. */
  readonly address: string;
}

/**
 * The engine's default bridge, in the last /24 of its pool. Not `--bridge=none`: a dockerd started
 * so deletes the host's `docker0`, and the shared engine's default network with it.
 */
function bridgeFor(addressPool: string): PrivateBridge {
  const octet = addressPool.split('.')[1];
  return { name: `dwpe${octet}`, address: `10.${octet}.255.1/24` };
}

async function ensureBridge(bridge: PrivateBridge): Promise<void> {
  if ((await runCommand('ip', ['link', 'show', bridge.name])).code === 0) return;
  for (const args of [
    ['link', 'add', 'name', bridge.name, 'type', 'bridge'],
    ['addr', 'add', bridge.address, 'dev', bridge.name],
    ['link', 'set', bridge.name, 'up'],
  ]) {
    const result = await runCommand('ip', args);
    if (result.code !== 0) {
      throw new TestkitError(
        `Could not make the private engine's bridge ${bridge.name}: ip ${args.join(' ')}: ${result.stderr.trim()}`,
        'Run the tests as root on a host with iproute2, as CI does.',
      );
    }
  }
}

const sharedBridge = 'docker0';

const linkExists = async (name: string) => (await runCommand('ip', ['link', 'show', name])).code === 0;

/**
 * Puts the shared engine's `docker0` back. A dockerd given `--default-address-pool` deletes the
 * host's `docker0` when it restarts with a stored default network (moby's "clear stale bridge
 * network", whatever its own bridge is called); the shared engine would then fail to attach any
 * container to its default network. New containers attach again once the device is back; running
 * ones stay detached, which is why the tests that restart private engines run on their own, after
 * all others (the `daemon` vitest project).
 */
async function restoreSharedBridge(): Promise<void> {
  const network = await dockerClient()
    .getNetwork('bridge')
    .inspect()
    .catch(() => undefined);
  const config = (network as { IPAM?: { Config?: Array<{ Gateway?: string; Subnet?: string }> } } | undefined)
    ?.IPAM?.Config?.[0];
  const prefix = config?.Subnet?.split('/')[1] ?? '16';
  const address = `${config?.Gateway ?? '172.17.0.1'}/${prefix}`;
  for (const args of [
    ['link', 'add', 'name', sharedBridge, 'type', 'bridge'],
    ['addr', 'add', address, 'dev', sharedBridge],
    ['link', 'set', sharedBridge, 'up'],
  ])
    await runCommand('ip', args);
}

async function removeBridge(bridge: PrivateBridge | undefined): Promise<void> {
  if (bridge) await runCommand('ip', ['link', 'delete', bridge.name]);
}

const engineFile = (dir: string) => join(dir, 'engine.json');

function readEngineFile(dir: string): EngineFile | undefined {
  try {
    return JSON.parse(readFileSync(engineFile(dir), 'utf8')) as EngineFile;
  } catch {
    return undefined;
  }
}

/** The IPv4 networks the host routes already (`/proc/net/route`), as [address, mask] numbers. */
function hostRoutes(): Array<[number, number]> {
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

/**
 * A /16 in 10.160.0.0–10.249.0.0 that no host route and no other private engine uses, so the user
 * networks of this engine never shadow those of the shared one.
 */
function chooseAddressPool(): string {
  const taken = new Set(
    readdirSync(tmpdir())
      .filter((name) => name.startsWith(dirPrefix))
      .map((name) => readEngineFile(join(tmpdir(), name))?.addressPool),
  );
  const routes = hostRoutes();
  const start = 160 + Math.floor(Math.random() * 90);
  for (let i = 0; i < 90; i++) {
    const octet = 160 + ((start - 160 + i) % 90);
    const pool = `10.${octet}.0.0/16`;
    const base = ((10 << 24) | (octet << 16)) >>> 0;
    const overlaps = routes.some(([address, mask]) => {
      const common = (mask & 0xffff0000) >>> 0;
      return (address & common) >>> 0 === (base & common) >>> 0;
    });
    if (!overlaps && !taken.has(pool)) return pool;
  }
  throw new TestkitError(
    'No free /16 in 10.160.0.0–10.249.0.0 for a private Docker Engine: host routes or other private engines use them all.',
    'Dispose private engines you no longer need (removePrivateEngines), or remove the host routes in that range.',
  );
}

/** Mount points at or below `dir`, deepest first (overlay layers, network namespaces, the data root). */
function mountsUnder(dir: string): string[] {
  const unescapeOctal = (text: string) =>
    text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => unescapeOctal(line.split(' ')[4] ?? ''))
    .filter((point) => point === dir || point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/**
 * Kills what a stopped engine can leave running: containerd shims (their `-address` names the folder)
 * that outlived a crashed daemon, with their children (a `runc init` a crash interrupted).
 */
function killLeftovers(dir: string): void {
  const parents = new Map<number, number>();
  const roots: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      parents.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) roots.push(pid);
    } catch {
      // Gone meanwhile.
    }
  }
  const doomed = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (doomed.has(parent) && !doomed.has(pid)) {
        doomed.add(pid);
        grew = true;
      }
    }
  }
  for (const pid of doomed) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
}

async function removeDir(dir: string): Promise<void> {
  killLeftovers(dir);
  for (const point of mountsUnder(dir)) await runCommand('umount', ['-l', point]);
  rmSync(dir, { recursive: true, force: true });
}

const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The pid in dockerd's pidfile, when that process still runs this engine's dockerd. */
function daemonPid(dir: string): number | undefined {
  const pid = readPidfile(join(dir, 'docker.pid'));
  if (pid === undefined || !processAlive(pid)) return undefined;
  const cmdline = (() => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return '';
    }
  })();
  return cmdline.includes(dir) ? pid : undefined;
}

function clearStalePidfile(file: string): void {
  const pid = readPidfile(file);
  if (pid === undefined || !processRuns(pid)) rmSync(file, { force: true });
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!processAlive(pid)) return true;
    await sleep(100);
  }
  return !processAlive(pid);
}

const lastLines = (file: string, count: number) =>
  existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').slice(-count).join('\n    ') : '';

/** One dockerd on one folder: start, stop, kill, for a fresh engine and for a leftover one alike. */
function engineProcess(dir: string, file: EngineFile, startTimeoutMs: number) {
  const socketPath = join(dir, 'docker.sock');
  const logFile = join(dir, 'dockerd.log');
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const start = async () => {
    if (running()) return;
    if (file.bridge) await ensureBridge(file.bridge);
    const hadDocker0 = await linkExists(sharedBridge);
    // A dockerd of this folder that is not our child (a leftover of a run that ended): stop it first.
    const stray = daemonPid(dir);
    if (stray !== undefined) {
      process.kill(stray, 'SIGTERM');
      if (!(await waitGone(stray, 30_000))) process.kill(stray, 'SIGKILL');
    }
    // A killed dockerd leaves its pidfile and containerd's, and a new one refuses to start (or waits
    // for that containerd) while they name a process. Here PID 1 may not reap, so a dead one can
    // linger as a zombie: that counts as gone, as it would on a host whose init reaps.
    rmSync(join(dir, 'docker.pid'), { force: true });
    clearStalePidfile(join(dir, 'exec', 'containerd', 'containerd.pid'));
    const log = openSync(logFile, 'a');
    const started = spawn(file.dockerd, file.args, { detached: true, stdio: ['ignore', log, log] });
    child = started;
    exited = new Promise((resolve) => started.once('exit', () => resolve()));
    started.unref();
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline && running()) {
      if (await pingDocker(socketPath, 1_000)) {
        if (hadDocker0 && !(await linkExists(sharedBridge))) await restoreSharedBridge();
        return;
      }
      await sleep(100);
    }
    const died = !running();
    if (!died) await halt('SIGKILL');
    throw new TestkitError(
      `A private dockerd (${dir}) ${died ? 'exited' : `did not answer /_ping within ${startTimeoutMs} ms`}. Last lines of ${logFile}:\n    ${lastLines(logFile, 8)}`,
      'Fix what the log says (a clash with the shared engine, a missing kernel feature), then run again.',
    );
  };

  const halt = async (signal: 'SIGTERM' | 'SIGKILL') => {
    if (!running() || !child) return;
    // While we wait for it, it must keep Node alive.
    child.ref();
    child.kill(signal);
    const timer = setTimeout(() => child?.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
    child.unref();
  };

  return { socketPath, logFile, running, start, halt, removeBridge: () => removeBridge(file.bridge) };
}

const dockerdArgs = (dir: string, addressPool: string, bridge: PrivateBridge) => [
  '--host',
  `unix://${join(dir, 'docker.sock')}`,
  '--data-root',
  join(dir, 'data'),
  '--exec-root',
  join(dir, 'exec'),
  '--pidfile',
  join(dir, 'docker.pid'),
  // Not /etc/docker/daemon.json: nothing of the shared engine's configuration applies here.
  '--config-file',
  join(dir, 'daemon.json'),
  // Its own bridge and no iptables chains: docker0 and the chains are the shared engine's.
  `--bridge=${bridge.name}`,
  '--iptables=false',
  '--ip-masq=false',
  '--default-address-pool',
  `base=${addressPool},size=24`,
];

/** Removes what an engine left: containers and networks through its API, then the daemon, then the folder. */
async function teardown(engine: ReturnType<typeof engineProcess>, docker: Docker, dir: string) {
  try {
    await engine.start();
    const containers = await docker.listContainers({ all: true });
    await Promise.all(
      containers.map((info) =>
        docker
          .getContainer(info.Id)
          .remove({ force: true, v: true })
          .catch(() => undefined),
      ),
    );
    // Networks are bridges in the host's namespace: they outlive the daemon unless it removes them.
    const networks = await docker.listNetworks();
    await Promise.all(
      networks
        .filter((info) => !['bridge', 'host', 'none'].includes(info.Name))
        .map((info) =>
          docker
            .getNetwork(info.Id)
            .remove()
            .catch(() => undefined),
        ),
    );
  } finally {
    await engine.halt('SIGTERM');
    await engine.removeBridge();
    await removeDir(dir);
  }
}

/**
 * Starts a throwaway Docker Engine beside the shared one: Debian's dockerd with its own socket, data
 * root, exec root (and so its own containerd), pidfile and config, a default bridge of its own (never docker0), no iptables,
 * and user networks from a /16 of its own. Needs root. Resolves once `/_ping` answers.
 */
export async function startPrivateEngine(options: StartPrivateEngineOptions = {}): Promise<PrivateEngine> {
  const root = options.root ?? isRoot();
  const candidates = options.dockerdCandidates ?? defaultCandidates;
  const dockerd = candidates.find((path) => existsSync(path));
  if (!root || !dockerd) {
    throw new TestkitError(
      !dockerd
        ? `A private Docker Engine needs dockerd, and none was found (looked at ${candidates.join(', ')}).`
        : 'A private Docker Engine needs root: dockerd mounts file systems and creates network interfaces.',
      "Run the tests as root on a machine with Debian's docker.io (the global setup installs it), as CI does.",
    );
  }
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  const addressPool = chooseAddressPool();
  const bridge = bridgeFor(addressPool);
  const file: EngineFile = {
    owner: testkitOwner(),
    dockerd,
    args: dockerdArgs(dir, addressPool, bridge),
    addressPool,
    bridge,
  };
  writeFileSync(join(dir, 'daemon.json'), '{}\n');
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'exec'));
  writeFileSync(engineFile(dir), `${JSON.stringify(file)}\n`);
  const engine = engineProcess(dir, file, options.startTimeoutMs ?? 60_000);
  const docker = new Docker({ socketPath: engine.socketPath });

  try {
    await engine.start();
  } catch (error) {
    await engine.removeBridge();
    await removeDir(dir);
    throw error;
  }
  // A test process that ends without dispose(): the daemon stops with it; the next run's global
  // setup (removePrivateEngines) removes the rest.
  const onExit = () => {
    if (engine.running()) {
      const pid = daemonPid(dir);
      if (pid !== undefined) process.kill(pid, 'SIGTERM');
    }
  };
  process.once('exit', onExit);

  let disposing: Promise<void> | undefined;
  return {
    socketPath: engine.socketPath,
    dir,
    logFile: engine.logFile,
    addressPool,
    docker,
    running: engine.running,
    start: engine.start,
    stop: () => engine.halt('SIGTERM'),
    kill: () => engine.halt('SIGKILL'),
    restart: async ({ crash = false, downMs = 0, whileDown } = {}) => {
      await engine.halt(crash ? 'SIGKILL' : 'SIGTERM');
      if (downMs > 0) await sleep(downMs);
      await whileDown?.();
      await engine.start();
    },
    loadImages: async (references, from = dockerClient()) => {
      for (const reference of references) {
        const archive = await from.getImage(reference).get();
        const progress = await docker.loadImage(archive);
        await new Promise<void>((resolve, reject) =>
          docker.modem.followProgress(progress, (error: Error | null) => (error ? reject(error) : resolve())),
        );
      }
    },
    dispose: () => {
      disposing ??= (async () => {
        process.removeListener('exit', onExit);
        await teardown(engine, docker, dir);
      })();
      return disposing;
    },
  };
}

/**
 * Removes private engines the testkit started: those of one run (by default this one), or with
 * `'orphans'` those whose run has ended. A leftover daemon that is down is started once more, so
 * that it removes its own containers and networks (bridges in the host's namespace) before its
 * folder goes. Returns how many it removed.
 */
export async function removePrivateEngines(owner: number | 'orphans' = testkitOwner()): Promise<number> {
  const dirs = readdirSync(tmpdir())
    .filter((name) => name.startsWith(dirPrefix))
    .map((name) => join(tmpdir(), name));
  let removed = 0;
  for (const dir of dirs) {
    const file = readEngineFile(dir);
    if (!file) {
      // A start that failed before it wrote engine.json (or one that is writing it right now).
      const age = Date.now() - statSync(dir).mtimeMs;
      if (age > 10 * 60_000 && daemonPid(dir) === undefined) await removeDir(dir);
      continue;
    }
    const ours = owner === 'orphans' ? !processAlive(file.owner) : file.owner === owner;
    if (!ours) continue;
    const engine = engineProcess(dir, file, 60_000);
    await teardown(engine, new Docker({ socketPath: engine.socketPath }), dir).catch(() => removeDir(dir));
    removed += 1;
  }
  return removed;
}
