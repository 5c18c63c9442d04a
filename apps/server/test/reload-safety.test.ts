// A reload never takes the server out of service, and work queued under one config runs under the
// newest one (hardening report items 4 and 14).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMemoryDeployTarget,
  createMemoryLogger,
  createMemoryRegistry,
  createMemoryReverseProxy,
  createMemoryStateStore,
  type MemoryLogger,
} from '@docker-watcher/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/serve.ts';

const token = 'reload-safety-token-0123456789';
const env = { DW_TOKEN: token };
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

const configWith = (options: { store?: string; target?: string; image?: string } = {}) => `global:
  store: "${options.store ?? 'memory:'}"
  target: ${options.target ?? '{ type: memory }'}
  poll_interval_seconds: 0
  server:
    listen: 127.0.0.1:0
    tokens: [{ name: ops, token_env: DW_TOKEN, scopes: [admin] }]
registries:
  local: { type: memory }
projects:
  web:
    registry: local
    image: ${options.image ?? 'registry.test/team/web'}
    healthcheck: { interval_ms: 10, timeout_ms: 50, retries: 1 }
    stages: { dev: { tag_pattern: "dev-*", auto_deploy: false } }
`;

/** A loopback port nothing listens on (a PostgreSQL server that is down). */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

let dir: string;
let file: string;
let logs: MemoryLogger;
let server: RunningServer | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dw-reload-safety-'));
  file = join(dir, 'config.yml');
  logs = createMemoryLogger();
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const call = async (path: string, init: { method?: string; body?: unknown } = {}) => {
  const response = await fetch(`http://127.0.0.1:${server!.port}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
  return { status: response.status, body: (await response.json()) as any };
};

describe('a reload whose adapters cannot start', () => {
  it('keeps the running config in service, and says why in the log and /api/status', async () => {
    writeFileSync(file, configWith());
    server = await startServer({ configFile: file, env, logger: logs, port: 0, reloadCheckMs: 2_000 });

    const unreachable = [
      [
        configWith({ store: `postgres://dw:pw@127.0.0.1:${await closedPort()}/dw` }),
        /the store .* does not answer/,
      ],
      [configWith({ store: `sqlite:${join(dir, 'file-not-folder', 'x.db')}` }), /folder cannot be created/],
      [
        configWith({ target: `{ type: docker, socket_path: "${join(dir, 'no-docker.sock')}" }` }),
        /the deploy target \(target:docker\) does not answer/,
      ],
    ] as const;
    writeFileSync(join(dir, 'file-not-folder'), 'a file where a folder should be');
    for (const [text, problem] of unreachable) {
      writeFileSync(file, text);
      expect(await server.reload()).toBe(false);
      expect((await fetch(`http://127.0.0.1:${server.port}/readyz`)).status).toBe(200);
      expect((await call('/api/projects')).status).toBe(200);
      const { body } = await call('/api/status');
      expect(body.config).toMatchObject({ generation: 1, lastReload: { applied: false } });
      expect(body.config.lastReload.problem).toMatch(problem);
    }
    expect(
      logs.entries.filter((e) => e.message === 'the new config cannot start; the running one stays'),
    ).toHaveLength(3);

    writeFileSync(file, configWith({ image: 'registry2.test/team/web' }));
    expect(await server.reload()).toBe(true);
    expect((await call('/api/status')).body.config).toMatchObject({
      generation: 2,
      lastReload: { applied: true },
    });
  });
});

describe('work queued under one config', () => {
  const world = () => {
    const registry = createMemoryRegistry();
    const target = createMemoryDeployTarget();
    const store = createMemoryStateStore();
    return {
      registry,
      target,
      store,
      compose: { registries: { local: registry }, target, store, proxy: createMemoryReverseProxy() },
    };
  };

  it('runs under the newest: a deploy queued while a reload waits for the running one uses the new config', async () => {
    const w = world();
    writeFileSync(file, configWith());
    server = await startServer({ configFile: file, env, logger: logs, port: 0, compose: w.compose });
    w.registry.push('team/web', 'dev-1', digest(1));
    w.registry.push('team/web', 'dev-2', digest(2));
    // dev-1 takes a while: the reload waits for it, and dev-2 is asked for meanwhile.
    w.target.faults.delay('pull', 1_500);
    const stage = '/api/projects/web/stages/dev';
    expect((await call(`${stage}/deploy`, { body: { tag: 'dev-1' } })).status).toBe(202);
    writeFileSync(file, configWith({ image: 'registry2.test/team/web' }));
    const reloaded = server.reload();
    // Asked for while the reload waits for dev-1: it waits in the store for the new config.
    expect((await call(`${stage}/deploy`, { body: { tag: 'dev-2' } })).status).toBe(202);
    expect((await w.store.listDeploys({ project: 'web' })).map((d) => [d.release.tag, d.state])).toEqual([
      ['dev-2', 'pending'],
      ['dev-1', 'pulling'],
    ]);
    expect(await reloaded).toBe(true);
    await server.composed.engine.idle();
    expect(w.target.pulled).toEqual([
      `registry.test/team/web@${digest(1)}`,
      `registry2.test/team/web@${digest(2)}`,
    ]);
    expect((await w.store.getStage({ project: 'web', stage: 'dev' }))?.actual?.tag).toBe('dev-2');
  });

  it('a new config that fails as it takes over hands back to the old one, which runs again', async () => {
    const w = world();
    writeFileSync(file, configWith());
    server = await startServer({ configFile: file, env, logger: logs, port: 0, compose: w.compose });
    writeFileSync(file, configWith({ image: 'registry2.test/team/web' }));
    // The store answers the check, then fails the new engine's first read.
    w.store.faults.failNext('listDeploys', 'UNAVAILABLE');
    expect(await server.reload()).toBe(false);
    expect((await fetch(`http://127.0.0.1:${server.port}/readyz`)).status).toBe(200);
    expect((await call('/api/status')).body.config).toMatchObject({
      generation: 1,
      lastReload: { applied: false },
    });
    w.registry.push('team/web', 'dev-1', digest(1));
    expect((await call('/api/projects/web/stages/dev/deploy', { body: { tag: 'dev-1' } })).status).toBe(202);
    await server.composed.engine.idle();
    expect(w.target.pulled).toEqual([`registry.test/team/web@${digest(1)}`]);
  });
});
