// An accepted webhook is never lost: registry faults, a store that cannot write and restarts, with
// polling off (webhooks only), as the hardening report found them.
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemoryDeployTarget,
  createMemoryRegistry,
  createMemoryReverseProxy,
  createMemoryStateStore,
  type MemoryStateStore,
} from '../../memory/index.ts';
import { compileTagPolicy } from '../../policy/index.ts';
import { createEngine, type Engine } from '../engine.ts';

const repository = 'team/web-app';
const health = { path: '/health', intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 };

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

function world(store: MemoryStateStore = createMemoryStateStore()) {
  const registry = createMemoryRegistry({ webhookSecret: 'webhook-secret' });
  const target = createMemoryDeployTarget();
  const make = (overrides: { readonly coalesceMs?: number } = {}) => {
    const engine = createEngine({
      projects: [
        {
          id: 'web-app',
          registry: 'main',
          repository,
          stages: {
            dev: {
              policy: compileTagPolicy({ pattern: 'dev-*' }),
              autoDeploy: true,
              deploy: {
                image: `registry.test/${repository}`,
                strategy: 'blue-green',
                health,
                host: 'dev.test',
              },
            },
          },
        },
      ],
      registries: { main: registry },
      target,
      proxy: createMemoryReverseProxy(),
      store,
      pollIntervalMs: 0,
      coalesceMs: 5,
      backoffBaseMs: 20,
      ...overrides,
    });
    engines.push(engine);
    return engine;
  };
  const running = () => target.instances.filter((i) => i.state === 'running').map((i) => i.release.tag);
  const notify = (engine: Engine, tag: string, eventId: string) =>
    engine.ingestWebhook({
      registry: 'main',
      request: registry.webhookRequest([{ repository, tag, action: 'pushed', eventId }]),
    });
  return { registry, target, store, make, running, notify };
}

const bound = { timeout: 5_000, interval: 10 };

describe('an accepted webhook', () => {
  it('is looked at again with backoff while the registry fails, and deployed once it answers (no second push)', async () => {
    const w = world();
    const engine = w.make();
    await engine.start();
    w.registry.push(repository, 'dev-1');
    w.registry.faults.failNext('listTags', 'UNAVAILABLE', { times: 3 });
    expect(await w.notify(engine, 'dev-1', 'e-1')).toHaveLength(1);
    // Meanwhile the plan says what the stage waits for and when the next look comes.
    await expect
      .poll(async () => (await engine.plan({ stage: 'dev' }))[0]?.decision.reason, bound)
      .toMatch(
        /^waiting: a notification waits; listing the tags of team\/web-app failed \(UNAVAILABLE: .*\); retrying at \d{4}-/,
      );
    expect((await w.store.listRepositoryMarks()).map((m) => m.repository)).toEqual([repository]);
    await expect.poll(w.running, bound).toEqual(['dev-1']);
    expect(w.registry.faults.calls('listTags')).toBeGreaterThanOrEqual(4);
    await expect.poll(() => w.store.listRepositoryMarks(), bound).toEqual([]);
    expect((await engine.plan({ stage: 'dev' }))[0]?.decision).toMatchObject({
      action: 'none',
      reason: 'dev-1 runs already',
    });
  });

  it('is refused while the store cannot write (the registry sends it again), and then accepted as new', async () => {
    const w = world();
    const engine = w.make();
    await engine.start();
    w.registry.push(repository, 'dev-1');
    w.store.faults.failNext('markRepository', 'UNAVAILABLE');
    await expect(w.notify(engine, 'dev-1', 'e-1')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(w.running()).toEqual([]);
    // The same delivery again: not a replay, since the first one was never acknowledged.
    expect(await w.notify(engine, 'dev-1', 'e-1')).toHaveLength(1);
    await expect.poll(w.running, bound).toEqual(['dev-1']);
  });

  it('is acted on once the store writes again, when creating the deploy failed', async () => {
    const w = world();
    const engine = w.make();
    await engine.start();
    w.registry.push(repository, 'dev-1');
    w.store.faults.failNext('createDeploy', 'UNAVAILABLE', { times: 2 });
    await w.notify(engine, 'dev-1', 'e-1');
    await expect.poll(w.running, bound).toEqual(['dev-1']);
    await expect.poll(() => w.store.listRepositoryMarks(), bound).toEqual([]);
  });

  it('survives a restart: the next engine on the store deploys it at start', async () => {
    const w = world();
    const first = w.make();
    await first.start();
    w.registry.push(repository, 'dev-1');
    w.registry.faults.failAlways('listTags', 'UNAVAILABLE');
    await w.notify(first, 'dev-1', 'e-1');
    await expect.poll(() => w.registry.faults.calls('listTags'), bound).toBeGreaterThanOrEqual(2);
    await first.stop();
    expect(w.running()).toEqual([]);
    w.registry.faults.clear();
    const second = w.make();
    await second.start();
    await second.idle();
    expect(w.running()).toEqual(['dev-1']);
    expect(await w.store.listRepositoryMarks()).toEqual([]);
  });

  it('re-resolves a re-pushed running tag after a restart (the mark keeps the tag)', async () => {
    const w = world();
    const first = w.make();
    w.registry.push(repository, 'dev-1');
    await first.start();
    await first.idle();
    expect(w.running()).toEqual(['dev-1']);
    const rebuilt = w.registry.push(repository, 'dev-1', 'rebuilt');
    w.registry.faults.failAlways('listTags', 'UNAVAILABLE');
    await w.notify(first, 'dev-1', 'e-2');
    await expect.poll(() => w.registry.faults.calls('listTags'), bound).toBeGreaterThanOrEqual(3);
    await first.stop();
    w.registry.faults.clear();
    const second = w.make();
    await second.start();
    await second.idle();
    expect((await w.store.getStage({ project: 'web-app', stage: 'dev' }))?.actual?.digest).toBe(rebuilt);
  });
});

describe('a notification older than the replay window', () => {
  it('is dropped with no state: nothing marked, nothing remembered, nothing observed', async () => {
    const w = world();
    const engine = w.make();
    await engine.start();
    w.registry.push(repository, 'dev-1');
    const old = new Date(Date.now() - 25 * 60 * 60 * 1000).toISOString();
    const request = w.registry.webhookRequest([
      { repository, tag: 'dev-1', action: 'pushed', eventId: 'old-1', occurredAt: old },
    ]);
    expect(await engine.ingestWebhook({ registry: 'main', request })).toEqual([]);
    expect(await w.store.listRepositoryMarks()).toEqual([]);
    expect(await w.store.rememberEvent({ source: 'registry:memory', eventId: 'old-1', ttlMs: 1 })).toBe(true);
    const fresh = new Date().toISOString();
    const accepted = await engine.ingestWebhook({
      registry: 'main',
      request: w.registry.webhookRequest([
        { repository, tag: 'dev-1', action: 'pushed', eventId: 'new-1', occurredAt: fresh },
      ]),
    });
    expect(accepted).toHaveLength(1);
    await expect.poll(w.running, bound).toEqual(['dev-1']);
  });
});

describe('the plan while a notification waits for its look', () => {
  it('says so, instead of deciding on the tags listed before it; then the newest release is deployed', async () => {
    const w = world();
    const engine = w.make({ coalesceMs: 400 });
    await engine.start();
    w.registry.push(repository, 'dev-1');
    await w.notify(engine, 'dev-1', 'e-1');
    await expect.poll(w.running, bound).toEqual(['dev-1']);
    await expect
      .poll(async () => (await engine.plan({ stage: 'dev' }))[0]?.decision.reason ?? '', bound)
      .not.toMatch(/^waiting/);
    w.registry.push(repository, 'dev-2');
    await w.notify(engine, 'dev-2', 'e-2');
    expect((await engine.plan({ stage: 'dev' }))[0]?.decision).toEqual({
      action: 'none',
      reason: 'waiting: a notification is being looked at',
    });
    await expect.poll(w.running, bound).toEqual(['dev-2']);
    expect((await engine.plan({ stage: 'dev' }))[0]?.decision.reason ?? '').not.toMatch(/^waiting/);
  });
});
