// The folder of a private Docker Engine (socket, data root, exec root, pidfiles, engine.json) and
// what a stopped or crashed engine can leave in it: processes, mounts, its network.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCommand } from './command.ts';
import { processRuns, readPidfile } from './pidfile.ts';
import { type EngineNetwork, hostRoutes, removeNetwork } from './private-engine-network.ts';
import { TestkitError } from './testkit-error.ts';

export const dirPrefix = 'dw-testkit-engine-';
export const defaultCandidates = ['/usr/sbin/dockerd', '/usr/bin/dockerd', '/usr/local/bin/dockerd'];

/** What a folder keeps so that a later run can start its engine again and clean it up. */
export interface EngineFile {
  readonly owner: number;
  readonly dockerd: string;
  readonly args: readonly string[];
  readonly addressPool: string;
  /** Its network namespace and the veth pair to it. */
  readonly network?: EngineNetwork;
  /**
   * Files of older runs: a bridge of the engine in the host's namespace, where such an engine must
   * never start again (it may delete the host's docker0); it is only removed.
   */
  readonly bridge?: { readonly name: string };
}

export const engineFile = (dir: string) => join(dir, 'engine.json');

export function readEngineFile(dir: string): EngineFile | undefined {
  try {
    return JSON.parse(readFileSync(engineFile(dir), 'utf8')) as EngineFile;
  } catch {
    return undefined;
  }
}

/**
 * A /16 in 10.160.0.0–10.249.0.0 that no host route and no other private engine uses: its last /24
 * holds the veth pair between the host and the engine's namespace.
 */
export function chooseAddressPool(): string {
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
export function mountsUnder(dir: string): string[] {
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
export function killLeftovers(dir: string): void {
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

/** Kills every process of the folder, unmounts it, removes its network and the folder. */
export async function removeDir(dir: string, file?: EngineFile): Promise<void> {
  killLeftovers(dir);
  for (const point of mountsUnder(dir)) await runCommand('umount', ['-l', point]);
  if (file?.network) await removeNetwork(file.network);
  if (file?.bridge) await runCommand('ip', ['link', 'delete', file.bridge.name]);
  rmSync(dir, { recursive: true, force: true });
}

export const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The pid in dockerd's pidfile, when that process still runs this engine's dockerd. */
export function daemonPid(dir: string): number | undefined {
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

export function clearStalePidfile(file: string): void {
  const pid = readPidfile(file);
  if (pid === undefined || !processRuns(pid)) rmSync(file, { force: true });
}

export async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!processAlive(pid)) return true;
    await sleep(100);
  }
  return !processAlive(pid);
}

export const lastLines = (file: string, count: number) =>
  existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').slice(-count).join('\n    ') : '';
