import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// The idle-memory figures (bench/idle-memory.bench.ts) depend on these V8 options: the launcher, run as
// the command it is installed as (its shebang, not `node bin.js`), must start Node with them.
it('the docker-watcher launcher starts Node with the memory options its shebang names', async () => {
  dir = mkdtempSync(join(tmpdir(), 'dw-launcher-'));
  const record = join(dir, 'exec-argv.json');
  const { stdout } = await promisify(execFile)(join(root, 'apps/server/src/bin.ts'), ['--version'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_OPTIONS: `--conditions=@docker-watcher/source --import ${join(root, 'apps/server/test/fixtures/record-exec-argv.ts')}`,
      DW_EXEC_ARGV_RECORD: record,
    },
    timeout: 60_000,
  });
  expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  const execArgv = JSON.parse(readFileSync(record, 'utf8')) as string[];
  expect(execArgv).toEqual(expect.arrayContaining(['--max-semi-space-size=1', '--optimize-for-size']));
});
