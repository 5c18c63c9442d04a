import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createSqliteStateStore } from '@docker-watcher/store-sqlite';
import { afterEach, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');
const token = 'shutdown-test-token-0123456789';
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('SIGTERM with a deploy in flight: the deploy ends in a safe state, the record is consistent, exit 0', async () => {
  dir = mkdtempSync(join(tmpdir(), 'dw-shutdown-'));
  const db = join(dir, 'state.db');
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    `global:
  store: "sqlite:${db}"
  target: { type: memory, startingProbes: 100000 }
  poll_interval_seconds: 0
  server:
    listen: 127.0.0.1:0
    tokens: [{ name: ops, token_env: DW_TOKEN, scopes: [admin] }]
registries:
  local: { type: memory }
projects:
  app:
    registry: local
    image: registry.test/team/app
    healthcheck: { interval_ms: 20, timeout_ms: 50, retries: 3, start_period_ms: 600000 }
    stages:
      dev: { tag_pattern: "dev-*" }
`,
  );
  const child = spawn(
    process.execPath,
    [
      '--conditions=@docker-watcher/source',
      join(root, 'apps/server/test/fixtures/serve-seeded.ts'),
      config,
      'team/app',
      'dev-1',
    ],
    { cwd: root, env: { PATH: process.env.PATH ?? '', DW_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    const reader = createInterface({ input: child.stdout! });
    reader.on('line', (line) => {
      lines.push(line);
      const parsed = JSON.parse(line) as { listening?: number };
      if (parsed.listening) resolve(parsed.listening);
    });
    child.on('exit', () => reject(new Error(`server exited early:\n${lines.join('\n')}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const response = await fetch(`${base}/api/projects/app/stages/dev/deploy`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ tag: 'dev-1' }),
  });
  expect(response.status).toBe(202);
  const { deploy } = (await response.json()) as { deploy: { id: string } };
  await expect
    .poll(
      async () => {
        const r = await fetch(`${base}/api/deploys/${deploy.id}`, { headers });
        return ((await r.json()) as { deploy: { state: string } }).deploy.state;
      },
      { timeout: 10_000, interval: 50 },
    )
    .toBe('health-checking');

  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(lines.join('\n')).toContain('SIGTERM received');

  const store = createSqliteStateStore({ path: db });
  try {
    const record = (await store.getDeploy({ id: deploy.id }))!;
    expect(record.finished).toBe(true);
    expect(['rolled-back', 'failed', 'cancelled', 'succeeded']).toContain(record.state);
    expect(record.journal.at(-1)!.state).toBe(record.state);
    expect(await store.listDeploys({ unfinished: true })).toEqual([]);
    const stage = await store.getStage({ project: 'app', stage: 'dev' });
    if (record.state !== 'succeeded') expect(stage?.actual).toBeUndefined();
  } finally {
    await store.dispose();
  }
});
