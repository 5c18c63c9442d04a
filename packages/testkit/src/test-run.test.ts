import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { otherLiveRuns, removeStaleRunDirs, runDirPrefix } from './test-run.ts';

// A pid no process has (Linux pids stay below 2^22).
const dead = 4_194_304 + 17;

describe('run folders', () => {
  let tmp: string;
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('removes those of runs that ended, keeps those of live runs', () => {
    tmp = mkdtempSync(join(tmpdir(), 'dw-run-dirs-'));
    mkdirSync(join(tmp, `${runDirPrefix}${dead}-aaaaaa`));
    mkdirSync(join(tmp, `${runDirPrefix}${process.pid}-bbbbbb`));
    mkdirSync(join(tmp, 'something-else'));
    removeStaleRunDirs(tmp);
    expect(existsSync(join(tmp, `${runDirPrefix}${dead}-aaaaaa`))).toBe(false);
    expect(existsSync(join(tmp, `${runDirPrefix}${process.pid}-bbbbbb`))).toBe(true);
    expect(existsSync(join(tmp, 'something-else'))).toBe(true);
  });

  it('counts a live run folder of another owner as another run, never its own or a dead one', () => {
    tmp = mkdtempSync(join(tmpdir(), 'dw-run-dirs-'));
    mkdirSync(join(tmp, `${runDirPrefix}${process.ppid}-cccccc`));
    mkdirSync(join(tmp, `${runDirPrefix}${dead}-dddddd`));
    const others = otherLiveRuns(process.pid, tmp);
    expect(others).toContain(process.ppid);
    expect(others).not.toContain(dead);
    expect(others).not.toContain(process.pid);
  });
});
