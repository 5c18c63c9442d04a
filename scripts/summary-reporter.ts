// A vitest reporter that records everything that failed: tests, and also what vitest's own counts
// leave out (a failing beforeAll/afterAll, a file that does not load, an unhandled error), so that
// the test command's closing line can say the truth. `scripts/test-summary.ts` prints it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';
import type { RunFailure, RunReport } from './test-summary.ts';

interface ErrorLike {
  readonly message?: string;
  readonly name?: string;
}

const firstLine = (error: ErrorLike | undefined) =>
  (error?.message ?? error?.name ?? 'unknown error').trim().split('\n')[0] ?? '';

/** The report file: `DW_TEST_REPORT`, or `.cache/test-report.json` under the working directory. */
export function reportPath(): string {
  return resolve(process.env.DW_TEST_REPORT ?? '.cache/test-report.json');
}

/** Every failure of one test file: its own errors (hooks, loading), its suites', its tests'. */
export function moduleFailures(module: TestModule, root: string): RunFailure[] {
  const file = relative(root, module.moduleId);
  const failures: RunFailure[] = [];
  for (const error of module.errors())
    failures.push({ kind: 'file', where: file, message: firstLine(error) });
  for (const suite of module.children.allSuites()) {
    for (const error of suite.errors())
      failures.push({ kind: 'suite', where: `${file} > ${suite.fullName}`, message: firstLine(error) });
  }
  for (const test of module.children.allTests('failed')) {
    failures.push({
      kind: 'test',
      where: `${file} > ${test.fullName}`,
      message: firstLine(test.result().errors?.[0]),
    });
  }
  return failures;
}

export default class SummaryReporter implements Reporter {
  private root = process.cwd();

  onInit(vitest: { config: { root: string } }): void {
    this.root = vitest.config.root;
  }

  onTestRunEnd(
    modules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<ErrorLike>,
    reason: 'passed' | 'failed' | 'interrupted',
  ): void {
    let passed = 0;
    let skipped = 0;
    const failures: RunFailure[] = [];
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'skipped') skipped += 1;
      }
      failures.push(...moduleFailures(module, this.root));
    }
    for (const error of unhandledErrors)
      failures.push({ kind: 'unhandled', where: 'outside any test', message: firstLine(error) });
    const report: RunReport = { passed, skipped, failures, interrupted: reason === 'interrupted' };
    const file = reportPath();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  }
}
