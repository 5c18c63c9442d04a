// A store that stops writing (issue #16, on a real SQLite file): another connection holds the
// file's write lock, so every write of the server's store fails with SQLITE_BUSY while reads go on.
// A notification is not acknowledged while it cannot be recorded; a deploy whose next step cannot
// be journaled takes no further side effect (the route keeps the old release); readiness and the
// log name the store; once writes work again the release is deployed once, with no second push.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  createMemoryDeployTarget,
  createMemoryLogger,
  createMemoryRegistry,
  createMemoryReverseProxy,
  createMemoryWebhookRequest,
  type DeployTarget,
} from '@docker-watcher/core';
import { createSqliteStateStore } from '@docker-watcher/store-sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { type Composed, compose } from '../src/compose.ts';
import { loadConfigText } from '../src/config/load.ts';
import { createApp } from '../src/http/app.ts';
import { configText, digest, env, webhookSecret } from './support.ts';

const repo = 'team/web-app';
const host = 'stage-dev-web-app.example.test';
const bound = { timeout: 60_000, interval: 50 };
const locked = /SQLite store .*state\.db is locked by another connection/;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The test config's server on a SQLite file, with a short retry pause (the default is 30 s). */
async function world() {
  const dir = mkdtempSync(join(tmpdir(), 'dw-store-faults-'));
  const path = join(dir, 'state.db');
  // A short busy timeout: each refused write blocks the event loop that long.
  const store = createSqliteStateStore({ path, busyTimeoutMs: 50 });
  const memory = createMemoryDeployTarget();
  let gate: { promise: Promise<void>; resolve: () => void } | undefined;
  // The health gate can be held open, so that the store stops writing in the middle of a deploy.
  const target: DeployTarget = {
    ...memory,
    checkHealth: async (params) => {
      await gate?.promise;
      return memory.checkHealth(params);
    },
  };
  const proxy = createMemoryReverseProxy();
  const registry = createMemoryRegistry({ webhookSecret });
  const logs = createMemoryLogger();
  const config = configText.replace(
    '  poll_interval_seconds: 0\n',
    '  poll_interval_seconds: 0\n  retry_pause_ms: 500\n',
  );
  const composed: Composed = compose(await loadConfigText(config, env), {
    logger: logs,
    store,
    target,
    proxy,
    registries: { local: registry },
    listenPort: 0,
  });
  const app = createApp(composed, { readyCheckMs: 0 });
  let lock: DatabaseSync | undefined;
  const unlock = () => {
    lock?.exec('ROLLBACK');
    lock?.close();
    lock = undefined;
  };
  cleanups.push(async () => {
    unlock();
    gate?.resolve();
    await composed.dispose();
    await store.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const deploys = async (tag: string) =>
    (await store.listDeploys({ project: 'web-app', stage: 'dev' })).filter((d) => d.release.tag === tag);
  return {
    memory,
    proxy,
    registry,
    logs,
    composed,
    /** Holds the next health checks until the returned function is called. */
    hold: () => {
      let resolve = () => {};
      const promise = new Promise<void>((done) => {
        resolve = done;
      });
      gate = { promise, resolve };
      return resolve;
    },
    /** Another connection takes the file's write lock: the store's writes fail, its reads go on. */
    lock: () => {
      lock = new DatabaseSync(path);
      lock.exec('BEGIN EXCLUSIVE');
    },
    unlock,
    /** The registry's notification of a push of `tag`; sent again with the same event id, as a registry resends. */
    webhook: async (tag: string) => {
      const request = createMemoryWebhookRequest({
        observations: [{ eventId: `push-${tag}`, action: 'pushed', repository: repo, tag }],
        secret: webhookSecret,
      });
      const response = await app.request('/api/webhook/registry', {
        method: 'POST',
        headers: request.headers as Record<string, string>,
        body: request.body,
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    readyz: async () => {
      const response = await app.request('/readyz');
      return { status: response.status, body: (await response.json()) as unknown };
    },
    deploys,
    succeeded: async (tag: string) => (await deploys(tag)).filter((d) => d.state === 'succeeded'),
    /** The tag of the instance the stage's route points at. */
    routed: () => {
      const upstream = proxy.routes.find((r) => r.host === host)?.upstream;
      return memory.instances.find(
        (i) => i.endpoint?.host === upstream?.host && i.endpoint?.port === upstream?.port,
      )?.release.tag;
    },
    warnings: () =>
      logs.entries.filter((e) => e.level !== 'info' && e.level !== 'debug').map((e) => e.message),
  };
}

const notReady = {
  status: 503,
  body: {
    error: {
      code: 'UNAVAILABLE',
      message: expect.stringMatching(
        /^Not ready: the store cannot write \(UNAVAILABLE: SQLite store .*locked/,
      ),
    },
  },
};

async function deployFirst(w: Awaited<ReturnType<typeof world>>) {
  await w.composed.engine.start();
  w.registry.push(repo, 'dev-1', digest(1));
  expect((await w.webhook('dev-1')).status).toBe(202);
  await expect.poll(async () => (await w.succeeded('dev-1')).length, bound).toBe(1);
  expect(w.routed()).toBe('dev-1');
}

describe('a store that cannot write', () => {
  it('refuses a notification it cannot record (the registry sends it again), starts nothing, and deploys it once the store writes', async () => {
    const w = await world();
    await deployFirst(w);
    w.lock();
    w.registry.push(repo, 'dev-2', digest(2));
    const refused = await w.webhook('dev-2');
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({
      error: { code: 'UNAVAILABLE', message: expect.stringMatching(locked) },
    });
    expect(await w.readyz()).toMatchObject(notReady);
    await w.composed.engine.idle();
    expect(await w.deploys('dev-2')).toEqual([]);
    expect(w.memory.pulled.some((ref) => ref.endsWith(digest(2)))).toBe(false);
    expect(w.routed()).toBe('dev-1');

    w.unlock();
    expect(await w.readyz()).toEqual({ status: 200, body: { status: 'ready' } });
    expect((await w.webhook('dev-2')).status).toBe(202);
    await expect.poll(async () => (await w.succeeded('dev-2')).length, bound).toBe(1);
    expect(w.routed()).toBe('dev-2');
    expect(await w.deploys('dev-2')).toHaveLength(1);
  }, 120_000);

  it('stops a deploy whose next step it cannot journal (the route keeps the old release), and deploys the release once the store writes', async () => {
    const w = await world();
    await deployFirst(w);
    const release = w.hold();
    w.registry.push(repo, 'dev-2', digest(2));
    expect((await w.webhook('dev-2')).status).toBe(202);
    await expect.poll(async () => (await w.deploys('dev-2'))[0]?.state, bound).toBe('health-checking');

    const switches = w.proxy.faults.calls('ensureRoute');
    w.lock();
    release();
    // The gate passes; the switch cannot be journaled, so it is not made, nor is the rollback.
    const rollbackFailed = () => w.warnings().find((m) => m.startsWith('rollback failed: '));
    const switched = () => w.proxy.faults.calls('ensureRoute') > switches;
    await expect.poll(() => rollbackFailed() !== undefined || switched(), bound).toBe(true);
    expect(switched()).toBe(false);
    expect(w.routed()).toBe('dev-1');
    expect(rollbackFailed()).toMatch(locked);
    const [stuck] = await w.deploys('dev-2');
    expect(stuck).toMatchObject({ state: 'health-checking', finished: false });
    expect(await w.readyz()).toMatchObject(notReady);

    w.unlock();
    // The engine takes its unfinished deploy up again (rolled back: it cannot tell what the gate
    // said), counts it as its own fault, and tries the release again after the retry pause.
    await expect.poll(async () => (await w.succeeded('dev-2')).length, bound).toBe(1);
    expect(w.routed()).toBe('dev-2');
    const all = await w.deploys('dev-2');
    const first = all.find((d) => d.id === stuck!.id);
    expect(first).toMatchObject({
      state: 'rolled-back',
      error: { code: 'ABORTED', fault: 'infrastructure' },
    });
    expect(first?.error?.message).toMatch(/interrupted while health-checking .*could not write to the store/);
    await w.composed.engine.idle();
    expect(w.memory.instances.filter((i) => i.state === 'running').map((i) => i.release.tag)).toEqual([
      'dev-2',
    ]);
    const [planned] = await w.composed.engine.plan({ project: 'web-app', stage: 'dev' });
    expect(planned?.decision.reason).toBe('dev-2 runs already');
  }, 120_000);
});
