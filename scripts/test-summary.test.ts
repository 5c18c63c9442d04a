import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readReport, summaryLines } from './test-summary.ts';
import { root } from './workspace.ts';

/** The environment of a vitest that is not a worker of this one. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of Object.keys(env)) if (name.startsWith('VITEST') || name === 'TEST') delete env[name];
  return env;
}

describe('the test command in a scratch vitest project with failures that are not failed tests', () => {
  let dir: string;
  let vitest: ReturnType<typeof spawnSync>;
  let summary: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dw-summary-'));
    // Globals: the scratch folder has no node_modules to import vitest from.
    writeFileSync(join(dir, 'passes.test.js'), `it('passes', () => {});\n`);
    writeFileSync(
      join(dir, 'hook.test.js'),
      `beforeAll(() => { throw new Error('the database did not start'); });\nit('never runs', () => {});\n`,
    );
    writeFileSync(
      join(dir, 'after.test.js'),
      `describe('cleanup', () => {\n  afterAll(() => { throw new Error('left a container behind'); });\n  it('runs', () => {});\n});\n`,
    );
    const report = join(dir, 'report.json');
    // As scripts/test.sh runs it: the default reporter and the summary reporter.
    vitest = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules/vitest/vitest.mjs'),
        'run',
        '--root',
        dir,
        '--globals',
        '--reporter=default',
        `--reporter=${join(root, 'scripts/summary-reporter.ts')}`,
      ],
      { cwd: dir, encoding: 'utf8', timeout: 120_000, env: cleanEnv({ DW_TEST_REPORT: report }) },
    );
    summary = spawnSync(
      process.execPath,
      [join(root, 'scripts/test-summary.ts'), report, String(vitest.status)],
      { encoding: 'utf8', timeout: 30_000 },
    );
  }, 150_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits non-zero, and its closing line counts the failed hooks as failures', () => {
    expect(vitest.status, `${vitest.stdout}\n${vitest.stderr}`).toBe(1);
    const lines = String(summary.stdout).trim().split('\n');
    // vitest itself counts 2 passed and 0 failed tests here.
    expect(lines.at(-1)).toBe('2 passed, 2 failed, 1 skipped');
    expect(summary.status).toBe(0);
  });

  it('lists what failed, where, and why, before the closing line', () => {
    const lines = String(summary.stdout).trim().split('\n');
    expect(lines.slice(0, -1).sort()).toEqual([
      'FAILED file (hook or import): hook.test.js: the database did not start',
      'FAILED hook/suite: after.test.js > cleanup: left a container behind',
    ]);
  });
});

describe('summaryLines', () => {
  const passed = { passed: 5, skipped: 1, failures: [] };

  it('says 0 failed only when the run passed', () => {
    expect(summaryLines(passed, 0)).toEqual(['5 passed, 0 failed, 1 skipped']);
  });

  it('counts a non-zero exit with nothing else failed (a failing global teardown) as a failure', () => {
    const lines = summaryLines(passed, 1);
    expect(lines.at(-1)).toBe('5 passed, 1 failed, 1 skipped');
    expect(lines[0]).toMatch(/^FAILED run: vitest: exited 1 although every test passed/);
  });

  it('counts a vitest that never reported (config or start-up error) as a failure', () => {
    expect(summaryLines(undefined, 1).at(-1)).toBe('0 passed, 1 failed, 0 skipped');
    expect(readReport(join(tmpdir(), 'dw-no-such-report.json'))).toBeUndefined();
  });

  it('counts an interrupted run and the failed steps of the test command', () => {
    const lines = summaryLines({ ...passed, interrupted: true }, 130, ['build', 'release-rehearsal']);
    expect(lines).toEqual([
      'FAILED run: vitest: the run was interrupted before every test ran',
      'FAILED step: build: failed (its output is above)',
      'FAILED step: release-rehearsal: failed (its output is above)',
      '5 passed, 3 failed, 1 skipped',
    ]);
  });
});
