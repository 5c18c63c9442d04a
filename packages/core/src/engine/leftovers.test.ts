// A candidate whose rollback could not remove it (the target stopped answering once it ran) is
// recorded in its deploy and removed once the target answers again: with no later deploy, and by
// the next engine on the store when the first one stopped before.
import { afterEach, describe, expect, it } from 'vitest';
import type { Release } from '../contracts/release.ts';
import {
  createMemoryDeployTarget,
  createMemoryRegistry,
  createMemoryReverseProxy,
  createMemoryStateStore,
} from '../memory/index.ts';
import { compileTagPolicy } from '../policy/index.ts';
import { createEngine, type Engine } from './engine.ts';
import { pendingLeftover } from './leftovers.ts';

const repository = 'team/web-app';
const bound = { timeout: 10_000, interval: 20 };

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

function world() {
  const registry = createMemoryRegistry({ webhookSecret: 'webhook-secret' });
  const memory = createMemoryDeployTarget({ startingProbes: 0 });
  const store = createMemoryStateStore();
  const proxy = createMemoryReverseProxy();
  const make = () => {
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
              // The failed release is not tried again within the test: only the sweep removes its candidate.
              deployRetryBaseMs: 600_000,
              deploy: {
                image: `registry.test/${repository}`,
                strategy: 'blue-green',
                health: { path: '/health', intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 },
                host: 'dev.test',
              },
            },
          },
        },
      ],
      registries: { main: registry },
      target: memory,
      proxy,
      store,
      pollIntervalMs: 0,
      coalesceMs: 5,
      leftoverRetryBaseMs: 20,
      deadlines: { pullMs: 200, probeMs: 200, stopMs: 200, rollbackMs: 1_000 },
    });
    engines.push(engine);
    return engine;
  };
  const running = () => memory.instances.filter((i) => i.state === 'running').map((i) => i.release.tag);
  const deploys = () => store.listDeploys({ project: 'web-app', stage: 'dev' });
  let event = 0;
  const push = async (engine: Engine, tag: string): Promise<Release> => {
    const digest = registry.push(repository, tag);
    await engine.ingestWebhook({
      registry: 'main',
      request: registry.webhookRequest([{ repository, tag, action: 'pushed', eventId: `e-${++event}` }]),
    });
    return { tag, digest };
  };
  /** The engine stops answering once the candidate of `tag` runs: its gate, its revert and its listing stall. */
  const stallOnceRunning = async (engine: Engine, tag: string) => {
    memory.faults.delay('checkHealth', Number.POSITIVE_INFINITY);
    memory.faults.delay('revert', Number.POSITIVE_INFINITY);
    memory.faults.delay('list', Number.POSITIVE_INFINITY);
    await push(engine, tag);
    await expect
      .poll(async () => (await deploys()).find((d) => d.release.tag === tag)?.finished, bound)
      .toBe(true);
    return (await deploys()).find((d) => d.release.tag === tag)!;
  };
  return { memory, store, proxy, make, running, deploys, push, stallOnceRunning };
}

describe('a candidate its rollback could not remove', () => {
  it('is recorded in its deploy, shown, and removed once the target answers, with no later deploy', async () => {
    const w = world();
    const engine = w.make();
    await engine.start();
    await w.push(engine, 'dev-1');
    await expect.poll(w.running, bound).toEqual(['dev-1']);

    const failed = await w.stallOnceRunning(engine, 'dev-2');
    expect(failed.state).toBe('failed');
    expect(failed.error?.fault).toBe('infrastructure');
    expect(pendingLeftover(failed)).toMatchObject({ reason: expect.stringMatching(/did not finish/) });
    expect(failed.journal.some((e) => /could not remove the candidate/.test(e.note ?? ''))).toBe(true);
    expect(w.running()).toEqual(['dev-1', 'dev-2']);
    await expect.poll(() => engine.leftovers()[0]?.attempts ?? 0, bound).toBeGreaterThanOrEqual(1);
    expect(engine.leftovers()).toMatchObject([
      { project: 'web-app', stage: 'dev', deployId: failed.id, lastError: expect.any(String) },
    ]);

    w.memory.faults.clear();
    await expect.poll(w.running, bound).toEqual(['dev-1']);
    await expect.poll(() => engine.leftovers(), bound).toEqual([]);
    const record = await w.store.getDeploy({ id: failed.id });
    expect(pendingLeftover(record!)).toBeUndefined();
    expect((record!.data.leftover as { removedAt?: string }).removedAt).toEqual(expect.any(String));
    expect(record!.journal.at(-1)?.note).toMatch(/^removed the candidate the rollback left behind/);
    // The release that serves was never touched: its route still points at it.
    const served = w.memory.instances.find((i) => i.release.tag === 'dev-1')!;
    expect((await w.proxy.getRoute({ host: 'dev.test' }))?.upstream).toMatchObject(served.endpoint!);
  });

  it('is removed by the next engine on the store when the first stopped before the target answered', async () => {
    const w = world();
    const first = w.make();
    await first.start();
    await w.push(first, 'dev-1');
    await expect.poll(w.running, bound).toEqual(['dev-1']);
    const failed = await w.stallOnceRunning(first, 'dev-2');
    expect(pendingLeftover(failed)).toBeDefined();
    await first.stop();
    expect(w.running()).toEqual(['dev-1', 'dev-2']);

    w.memory.faults.clear();
    const second = w.make();
    await second.start();
    await expect.poll(w.running, bound).toEqual(['dev-1']);
    await expect
      .poll(async () => pendingLeftover((await w.store.getDeploy({ id: failed.id }))!), bound)
      .toBeUndefined();
  });

  it('is left while the route points at it, and removed once the route serves the running release again', async () => {
    const w = world();
    const engine = w.make();
    await engine.start();
    await w.push(engine, 'dev-1');
    await expect.poll(w.running, bound).toEqual(['dev-1']);
    const failed = await w.stallOnceRunning(engine, 'dev-2');
    const candidate = w.memory.instances.find((i) => i.deployId === failed.id)!;
    const served = w.memory.instances.find((i) => i.release.tag === 'dev-1')!;
    // As a rollback that failed after the switch would leave it.
    await w.proxy.ensureRoute({ route: { host: 'dev.test', upstream: candidate.endpoint! } });
    w.memory.faults.clear();
    const tried = engine.leftovers()[0]!.attempts;
    await expect.poll(() => engine.leftovers()[0]?.attempts ?? 0, bound).toBeGreaterThan(tried + 1);
    expect(engine.leftovers()[0]?.lastError).toMatch(/still takes the stage's traffic/);
    expect(w.running()).toEqual(['dev-1', 'dev-2']);

    await w.proxy.ensureRoute({ route: { host: 'dev.test', upstream: served.endpoint! } });
    await expect.poll(w.running, bound).toEqual(['dev-1']);
    await expect.poll(() => engine.leftovers(), bound).toEqual([]);
  });

  it('is not recorded when no candidate was started (a pull that stalled)', async () => {
    const w = world();
    const engine = w.make();
    await engine.start();
    await w.push(engine, 'dev-1');
    await expect.poll(w.running, bound).toEqual(['dev-1']);
    w.memory.faults.delay('pull', Number.POSITIVE_INFINITY);
    w.memory.faults.delay('list', Number.POSITIVE_INFINITY);
    await w.push(engine, 'dev-2');
    await expect
      .poll(async () => (await w.deploys()).find((d) => d.release.tag === 'dev-2')?.finished, bound)
      .toBe(true);
    const stalledPull = (await w.deploys()).find((d) => d.release.tag === 'dev-2')!;
    expect(stalledPull.error?.fault).toBe('infrastructure');
    expect(pendingLeftover(stalledPull)).toBeUndefined();
    expect(engine.leftovers()).toEqual([]);
  });
});
