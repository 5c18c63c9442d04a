import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import {
  chooseAddressPool,
  clearStalePidfile,
  daemonPid,
  defaultCandidates,
  dirPrefix,
  type EngineFile,
  engineFile,
  lastLines,
  processAlive,
  readEngineFile,
  removeDir,
  waitGone,
} from './_private-engine-folder.ts';
import { isRoot } from './command.ts';
import { dockerClient } from './docker-client.ts';
import { pingDocker } from './docker-engine.ts';
import { testkitOwner } from './labels.ts';
import {
  ensureNetwork,
  forwardLoopback,
  inNamespace,
  type LoopbackForward,
  networkFor,
} from './private-engine-network.ts';
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
  /**
   * The engine's address as the host reaches it (its network namespace's end of a veth pair), e.g.
   * `10.187.255.2`: publish ports there (`createDockerTarget({ publishHost })`), not on 127.0.0.1,
   * which inside the namespace is the namespace's own loopback.
   */
  readonly publishHost: string;
  /** The network namespace the daemon runs in, e.g. `dw-testkit-engine-187`. */
  readonly namespace: string;
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
  /**
   * Makes a service on the host's `127.0.0.1:<port>` (a testkit registry) answer at the same address
   * inside the engine's namespace, so the engine pulls `127.0.0.1:<port>/…` images as the shared one
   * does. Until `dispose()`.
   */
  forwardLoopback(port: number): Promise<void>;
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

/** One dockerd on one folder: start, stop, kill, for a fresh engine and for a leftover one alike. */
function engineProcess(dir: string, file: EngineFile, startTimeoutMs: number) {
  const socketPath = join(dir, 'docker.sock');
  const logFile = join(dir, 'dockerd.log');
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const start = async () => {
    if (running()) return;
    const network = file.network;
    // Never in the host's namespace: there a restarting dockerd may delete the host's docker0.
    if (!network)
      throw new TestkitError(
        `The private engine in ${dir} has no network namespace (an older testkit made it); it is not started again.`,
        'Remove it with removePrivateEngines().',
      );
    await ensureNetwork(network);
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
    // nsenter enters the namespace and becomes dockerd (same pid), which starts its containerd there.
    const { command, args } = inNamespace(network, file.dockerd, file.args);
    const started = spawn(command, args, { detached: true, stdio: ['ignore', log, log] });
    child = started;
    exited = new Promise((resolve) => started.once('exit', () => resolve()));
    started.unref();
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline && running()) {
      if (await pingDocker(socketPath, 1_000)) return;
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

  return { socketPath, logFile, running, start, halt };
}

const dockerdArgs = (dir: string, addressPool: string) => [
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
  // Nothing leaves the namespace but through the veth to the host: no NAT, no chains to keep.
  '--iptables=false',
  '--ip-masq=false',
  '--default-address-pool',
  `base=${addressPool},size=24`,
];

/**
 * Removes what an engine left. A running daemon removes its containers first (they stop as asked);
 * then every process of the folder goes, its mounts, its namespace (and with it every network device
 * the daemon made: they all live in there) and the folder. A daemon that is down is not started.
 */
async function teardown(
  engine: ReturnType<typeof engineProcess>,
  docker: Docker,
  dir: string,
  file: EngineFile,
) {
  try {
    if (engine.running()) {
      const containers = await docker.listContainers({ all: true });
      await Promise.all(
        containers.map((info) =>
          docker
            .getContainer(info.Id)
            .remove({ force: true, v: true })
            .catch(() => undefined),
        ),
      );
    }
  } finally {
    await engine.halt('SIGTERM');
    const stray = daemonPid(dir);
    if (stray !== undefined) process.kill(stray, 'SIGKILL');
    await removeDir(dir, file);
  }
}

/**
 * Starts a throwaway Docker Engine beside the shared one: Debian's dockerd in a network namespace of
 * its own (so nothing it does to network devices reaches the host's), with its own socket, data
 * root, exec root (and so its own containerd), pidfile and config, no iptables, and user networks
 * from a /16 of its own. Needs root. Resolves once `/_ping` answers.
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
  const network = networkFor(addressPool);
  const file: EngineFile = {
    owner: testkitOwner(),
    dockerd,
    args: dockerdArgs(dir, addressPool),
    addressPool,
    network,
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
    await removeDir(dir, file);
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

  const forwards: LoopbackForward[] = [];
  let disposing: Promise<void> | undefined;
  return {
    socketPath: engine.socketPath,
    dir,
    logFile: engine.logFile,
    addressPool,
    publishHost: network.engineAddress,
    namespace: network.namespace,
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
    forwardLoopback: async (port) => {
      forwards.push(await forwardLoopback(network, dir, port));
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
        await Promise.all(forwards.map((forward) => forward.close()));
        await teardown(engine, docker, dir, file);
      })();
      return disposing;
    },
  };
}

/**
 * Removes private engines the testkit started: those of one run (by default this one), or with
 * `'orphans'` those whose run has ended. Returns how many it removed.
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
    await teardown(engine, new Docker({ socketPath: engine.socketPath }), dir, file).catch(() =>
      removeDir(dir, file),
    );
    removed += 1;
  }
  return removed;
}
