import { readFileSync } from 'node:fs';

/** The pid a pidfile names, when it holds one. */
export function readPidfile(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the process runs: not gone, and not a zombie waiting to be reaped (PID 1 of some machines
 * never reaps; a dead daemon lingering so counts as gone, as on a host whose init reaps).
 */
export function processRuns(pid: number): boolean {
  try {
    // /proc/<pid>/stat: "pid (comm) S …"; comm may hold spaces, the state follows the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
