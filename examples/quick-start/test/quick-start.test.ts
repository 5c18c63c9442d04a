import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

it('runs end to end: pushes to a real registry, picks per stage, serves the chosen releases', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=@docker-watcher/source', join(import.meta.dirname, '../src/main.ts'), '--once'],
    {
      cwd: join(import.meta.dirname, '..'),
      timeout: 120_000,
    },
  );
  expect(stdout).toMatch(/stage dev: policy chose dev-102, running sha256:.* \(serves v2\)/);
  // The newest vX.Y.Z release, never the release candidate.
  expect(stdout).toMatch(/stage rel: policy chose v1\.1\.0, running sha256:.* \(serves v2\)/);
  expect(stdout).toContain('done');
}, 150_000);
