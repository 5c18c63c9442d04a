import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

it('watches, deploys each new v* release and routes the host to it', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--conditions=@docker-watcher/source',
    join(import.meta.dirname, '../src/main.ts'),
  ]);
  expect(stdout.trim().split('\n')).toEqual([
    'v1.1.0 is live',
    'v1.2.0 is live',
    'app.example.com -> {"host":"127.0.0.1","port":30001}',
  ]);
});
