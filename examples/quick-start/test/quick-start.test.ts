import { execFile, spawn } from 'node:child_process';
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

it('keeps serving until Ctrl-C, then removes what it started and exits 0', async () => {
  const child = spawn(
    process.execPath,
    ['--conditions=@docker-watcher/source', join(import.meta.dirname, '../src/main.ts')],
    {
      cwd: join(import.meta.dirname, '..'),
    },
  );
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  for (let i = 0; i < 600 && !output.includes('Ctrl-C'); i++)
    await new Promise((resolve) => setTimeout(resolve, 100));
  const url = /stage dev: .* at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
  expect(url).toBeDefined();
  // Still serving a second later: the process does not end on its own.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(await (await fetch(`${url}/version`)).text()).toBe('v2\n');
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(output).toContain('done');
  await expect(fetch(`${url}/version`)).rejects.toThrow();
}, 150_000);
