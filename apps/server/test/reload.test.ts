import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryLogger, type MemoryLogger } from '@docker-watcher/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../src/http/passwords.ts';
import { type RunningServer, startServer } from '../src/serve.ts';

const token = 'reload-test-token-0123456789';
const env = { DW_TOKEN: token };
const configWith = (projects: string[]) => `global:
  store: "memory:"
  target: { type: memory }
  poll_interval_seconds: 0
  server:
    listen: 127.0.0.1:0
    tokens: [{ name: ops, token_env: DW_TOKEN, scopes: [admin] }]
registries:
  local: { type: memory }
projects:
${projects.map((p) => `  ${p}:\n    registry: local\n    image: registry.test/team/${p}\n    stages: { dev: { tag_pattern: "dev-*" } }\n`).join('')}`;

// Generous: file events and the 300 ms debounce on a busy machine; nothing is timed.
const bound = { timeout: 15_000, interval: 50 };

const count = (message: string) => logs.entries.filter((e) => e.message === message).length;
const watchers = () => process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap').length;

let dir: string;
let file: string;
let logs: MemoryLogger;
let server: RunningServer | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dw-reload-'));
  file = join(dir, 'config.yml');
  logs = createMemoryLogger();
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
  // A closed watcher's handle goes on a later turn of the event loop; the next test counts them.
  await expect.poll(watchers, bound).toBe(0);
});

const projects = async () => {
  const response = await fetch(`http://127.0.0.1:${server!.port}/api/projects`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return ((await response.json()) as { projects: Array<{ id: string }> }).projects.map((p) => p.id);
};

describe('reload on config file change', () => {
  it('applies a change, keeps the running config on a broken edit, and reloads once it is fixed', async () => {
    writeFileSync(file, configWith(['web']));
    server = await startServer({ configFile: file, env, logger: logs, port: 0, watch: true });
    expect(await projects()).toEqual(['web']);

    writeFileSync(file, configWith(['web', 'api']));
    await expect.poll(projects, bound).toEqual(['web', 'api']);
    expect(count('config reloaded')).toBe(1);

    // A broken edit: logged with its path, the running config serves on.
    writeFileSync(file, `${configWith(['web', 'api'])}  broken:\n    registry: nowhere\n`);
    await expect.poll(() => count('the new config is invalid; the running one stays'), bound).toBe(1);
    const problem = logs.entries.find(
      (e) => e.message === 'the new config is invalid; the running one stays',
    );
    expect(String(problem?.fields?.problems)).toContain('projects.broken');
    expect(await projects()).toEqual(['web', 'api']);

    // Fixed by an editor's rename-over-save: a new inode in the watched directory.
    const saved = join(dir, '.config.yml.swp');
    writeFileSync(saved, configWith(['web', 'api', 'worker']));
    renameSync(saved, file);
    await expect.poll(projects, bound).toEqual(['web', 'api', 'worker']);
    expect(count('config reloaded')).toBe(2);
  });

  it('masks the secrets a reloaded config brings, in what the new composition logs', async () => {
    const later = 'secret-that-only-the-new-config-reads-42';
    writeFileSync(file, configWith(['web']));
    server = await startServer({
      configFile: file,
      env: { ...env, DW_LATER: later },
      logger: logs,
      port: 0,
      watch: true,
    });
    writeFileSync(
      file,
      configWith(['web']).replace(
        'tokens: [{ name: ops, token_env: DW_TOKEN, scopes: [admin] }]',
        'tokens: [{ name: ops, token_env: DW_TOKEN, scopes: [admin] }, { name: ci, token_env: DW_LATER, scopes: [read] }]',
      ),
    );
    await expect.poll(() => count('config reloaded'), bound).toBe(1);
    server.composed.logger.warn(`something mentioned ${later}`, { value: later });
    const entry = logs.entries.at(-1);
    expect(JSON.stringify(entry)).not.toContain(later);
    expect(entry?.message).toBe('something mentioned [redacted]');
  });

  it("masks the stages' environment values (a DSN, a key) in what the composition logs, after a reload too", async () => {
    const dsn = 'https://0123456789abcdef@o42.ingest.sentry.example/7';
    writeFileSync(file, configWith(['web']));
    server = await startServer({ configFile: file, env, logger: logs, port: 0, watch: true });
    writeFileSync(
      file,
      configWith(['web']).replace(
        'stages: { dev: { tag_pattern: "dev-*" } }',
        `stages: { dev: { tag_pattern: "dev-*", env: { SENTRY_DSN: "${dsn}", LEVEL: info } } }`,
      ),
    );
    await expect.poll(() => count('config reloaded'), bound).toBe(1);
    server.composed.logger.info(`release selected with SENTRY_DSN=${dsn}`, { env: { SENTRY_DSN: dsn } });
    const entry = logs.entries.at(-1);
    expect(JSON.stringify(entry)).not.toContain('0123456789abcdef');
    expect(entry?.message).toBe('release selected with SENTRY_DSN=[redacted]');
  });

  it('keeps dashboard sessions across a reload, and ends those whose user the new config drops', async () => {
    const password = 'correct horse battery';
    const withUsers = (users: string[], projects: string[]) =>
      configWith(projects).replace(
        '    tokens: [',
        `    users:\n${users.map((u) => `      - { name: ${u}, password_hash_env: DW_HASH, scopes: [read] }\n`).join('')}    tokens: [`,
      );
    writeFileSync(file, withUsers(['alice', 'bob'], ['web']));
    server = await startServer({
      configFile: file,
      env: { ...env, DW_HASH: await hashPassword(password, 4) },
      logger: logs,
      port: 0,
      watch: true,
    });
    const base = `http://127.0.0.1:${server.port}`;
    const login = async (username: string) => {
      const response = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      expect(response.status).toBe(200);
      return (response.headers.get('set-cookie') ?? '').split(';')[0]!;
    };
    const sessionStatus = async (cookie: string) =>
      (await fetch(`${base}/api/auth/session`, { headers: { cookie } })).status;
    const alice = await login('alice');
    const bob = await login('bob');

    writeFileSync(file, withUsers(['alice'], ['web', 'api']));
    await expect.poll(() => count('config reloaded'), bound).toBe(1);
    expect(await projects()).toEqual(['web', 'api']);
    expect(await sessionStatus(alice)).toBe(200);
    expect(await sessionStatus(bob)).toBe(401);
  });

  it('a rewrite with the same content does not reload', async () => {
    const text = configWith(['web']);
    writeFileSync(file, text);
    server = await startServer({ configFile: file, env, logger: logs, port: 0, watch: true });
    writeFileSync(file, text);
    const unchanged = 'config file event without a change of content; not reloading';
    await expect.poll(() => count(unchanged), bound).toBeGreaterThan(0);
    expect(count('config file changed; reloading')).toBe(0);
    expect(count('config reloaded')).toBe(0);
  });

  it('close() stops watching: a change after it reloads nothing', async () => {
    writeFileSync(file, configWith(['web']));
    server = await startServer({ configFile: file, env, logger: logs, port: 0, watch: true });
    expect(watchers()).toBe(1);
    await server.close();
    await expect.poll(watchers, bound).toBe(0);
    writeFileSync(file, configWith(['web', 'api']));
    // Past the debounce several times over; a late reload would be logged by now.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(count('config file changed; reloading')).toBe(0);
    expect(count('config reloaded')).toBe(0);
    server = undefined;
  });

  it('without watch (the default of startServer) no watcher runs', async () => {
    writeFileSync(file, configWith(['web']));
    server = await startServer({ configFile: file, env, logger: logs, port: 0 });
    expect(watchers()).toBe(0);
  });
});
