// One test run's ledger, shared by vitest's main process and its workers through the environment:
// which run owns what a worker creates (DW_TESTKIT_RUN), where the run keeps its notes
// (DW_TESTKIT_RUN_DIR), and where its real parts are asked for (DW_TESTKIT_BROKER).
import { appendFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const runEnv = {
  owner: 'DW_TESTKIT_RUN',
  dir: 'DW_TESTKIT_RUN_DIR',
  broker: 'DW_TESTKIT_BROKER',
} as const;

export const runDirPrefix = 'dw-testkit-run-';

/**
 * Notes that a registry of this run listens at `host` (`127.0.0.1:<port>`): image references under
 * it are this run's to remove. Outside a test run, nothing to note.
 */
export function recordRegistryHost(host: string): void {
  const dir = process.env[runEnv.dir];
  if (dir) appendFileSync(join(dir, 'registries'), `${host}\n`);
}

export function recordedRegistryHosts(dir: string): string[] {
  try {
    return readFileSync(join(dir, 'registries'), 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

const ownerOfRunDir = (name: string) =>
  name.startsWith(runDirPrefix) ? Number(name.slice(runDirPrefix.length).split('-')[0]) : 0;

/** Removes the folders of runs that ended without their teardown (a killed vitest). */
export function removeStaleRunDirs(tmp: string): void {
  for (const name of readdirSync(tmp)) {
    const owner = ownerOfRunDir(name);
    if (owner > 0 && !alive(owner)) rmSync(join(tmp, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The other test runs using this machine now: the owners named by the environment of running
 * processes (every worker of a run carries its owner, also of runs older than this ledger), and the
 * live owners of run folders in `tmp`.
 */
export function otherLiveRuns(ownOwner: number, tmp: string): number[] {
  const owners = new Set<number>();
  const pattern = new RegExp(`(?:^|\\0)${runEnv.owner}=(\\d+)(?:\\0|$)`);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const owner = Number(pattern.exec(readFileSync(`/proc/${entry}/environ`, 'latin1'))?.[1]);
      if (owner > 0) owners.add(owner);
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  for (const name of readdirSync(tmp)) {
    const owner = ownerOfRunDir(name);
    if (owner > 0) owners.add(owner);
  }
  owners.delete(ownOwner);
  return [...owners].filter(alive).sort((a, b) => a - b);
}
