// The test command's closing lines: what failed, one line each, then `N passed, N failed, N skipped`,
// where every failed test, failed hook or suite, file that did not load, unhandled error, and a
// vitest that exited non-zero with nothing else to show for it counts as a failure. `0 failed`
// only when the run passed.
//
//   node scripts/test-summary.ts <report.json> <vitest exit code> [--failed-step <name>]…
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RunFailure {
  /** `test`, a failing hook or suite (`suite`, `file`), or an error outside any test (`unhandled`). */
  readonly kind: 'test' | 'suite' | 'file' | 'unhandled' | 'run' | 'step';
  readonly where: string;
  readonly message: string;
}

export interface RunReport {
  readonly passed: number;
  readonly skipped: number;
  readonly failures: readonly RunFailure[];
  readonly interrupted?: boolean;
}

const labels: Record<RunFailure['kind'], string> = {
  test: 'test',
  suite: 'hook/suite',
  file: 'file (hook or import)',
  unhandled: 'unhandled error',
  run: 'run',
  step: 'step',
};

/**
 * The lines to print, the closing line last, given the report (if vitest wrote one), vitest's exit
 * code, and the other steps of the test command that failed (lint, build, …).
 */
export function summaryLines(
  report: RunReport | undefined,
  exitCode: number,
  failedSteps: readonly string[] = [],
): string[] {
  const failures = [...(report?.failures ?? [])];
  if (!report) {
    failures.push({
      kind: 'run',
      where: 'vitest',
      message: `exited ${exitCode} before it reported any result (a config, global setup or start-up error; see above)`,
    });
  } else if (report.interrupted) {
    failures.push({ kind: 'run', where: 'vitest', message: 'the run was interrupted before every test ran' });
  } else if (exitCode !== 0 && failures.length === 0) {
    failures.push({
      kind: 'run',
      where: 'vitest',
      message: `exited ${exitCode} although every test passed (a global setup or teardown failed, for example the machine check; see above)`,
    });
  }
  for (const step of failedSteps)
    failures.push({ kind: 'step', where: step, message: 'failed (its output is above)' });
  const lines = failures.map(
    (f) => `FAILED ${labels[f.kind]}: ${f.where}${f.message ? `: ${f.message}` : ''}`,
  );
  lines.push(`${report?.passed ?? 0} passed, ${failures.length} failed, ${report?.skipped ?? 0} skipped`);
  return lines;
}

export function readReport(file: string): RunReport | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunReport;
  } catch {
    return undefined;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [file, code, ...rest] = process.argv.slice(2);
  const steps = rest.flatMap((arg, i) => (rest[i - 1] === '--failed-step' ? [arg] : []));
  if (!file || code === undefined || !/^\d+$/.test(code) || rest.length !== steps.length * 2) {
    console.error(
      'usage: node scripts/test-summary.ts <report.json> <vitest exit code> [--failed-step <name>]…',
    );
    process.exit(2);
  }
  const lines = summaryLines(readReport(file), Number(code), steps);
  console.log(lines.join('\n'));
}
