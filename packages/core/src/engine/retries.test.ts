// A short infrastructure failure never poisons a good release: only the release's own failure holds
// it back; ours (a target fault, a stalled step, a restart, a cancel) is tried again with backoff.
import { afterEach, describe, expect, it } from 'vitest';
import type { DeployTarget } from '../contracts/deploy-target.ts';
import type { Release } from '../contracts/release.ts';
import type { DeployRecord } from '../contracts/state-store.ts';
import {
  createMemoryDeployTarget,
  createMemoryRegistry,
  createMemoryReverseProxy,
  createMemoryStateStore,
} from '../memory/index.ts';
import { compileTagPolicy } from '../policy/index.ts';
import { decide } from './decide/decide.ts';
import { createEngine, type Engine } from './engine.ts';

const repository = 'team/web-app';
const health = { path: '/health', intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 };
const bound = { timeout: 5_000, interval: 10 };

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

function world() {
  const registry = createMemoryRegistry({ webhookSecret: 'webhook-secret' });
  const memory = createMemoryDeployTarget();
  const store = createMemoryStateStore();
  let target: DeployTarget = memory;
  /** `unset` leaves the engine's pause to its default. */
  const make = (deployRetryBaseMs: number | 'unset' = 50, stagePause?: number) => {
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
              ...(stagePause === undefined ? {} : { deployRetryBaseMs: stagePause }),
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
      ...(deployRetryBaseMs === 'unset' ? {} : { deployRetryBaseMs }),
      deadlines: { pullMs: 100, rollbackMs: 1_000 },
    });
    engines.push(engine);
    return engine;
  };
  const running = () => memory.instances.filter((i) => i.state === 'running').map((i) => i.release.tag);
  const deploys = () => store.listDeploys({ project: 'web-app', stage: 'dev' });
  const notify = (engine: Engine, tag: string, eventId: string) =>
    engine.ingestWebhook({
      registry: 'main',
      request: registry.webhookRequest([{ repository, tag, action: 'pushed', eventId }]),
    });
  return {
    registry,
    memory,
    store,
    make,
    running,
    deploys,
    notify,
    wrap: (change: (t: DeployTarget) => DeployTarget) => {
      target = change(memory);
    },
  };
}

describe('a deploy that failed for reasons of ours', () => {
  it('is tried again on its own after a pause, polling off, and then serves', async () => {
    const w = world();
    const engine = w.make();
    await engine.start();
    w.registry.push(repository, 'dev-1');
    w.memory.faults.failNext('start', 'UNAVAILABLE', { times: 2 });
    await w.notify(engine, 'dev-1', 'e-1');
    await expect.poll(w.running, bound).toEqual(['dev-1']);
    const states = (await w.deploys()).map((d) => d.state);
    expect(states).toEqual(['succeeded', 'rolled-back', 'rolled-back']);
  });

  it('waits twice as long after each failure in a row, and the plan says when it retries', async () => {
    const w = world();
    const engine = w.make(60_000);
    await engine.start();
    w.registry.push(repository, 'dev-1');
    w.memory.faults.failNext('start', 'UNAVAILABLE');
    await w.notify(engine, 'dev-1', 'e-1');
    await expect.poll(async () => (await w.deploys())[0]?.finished, bound).toBe(true);
    const [decision] = await engine.plan({ stage: 'dev' });
    expect(decision?.decision).toMatchObject({
      action: 'none',
      reason: expect.stringMatching(
        /^dev-1 failed for reasons of ours \(Injected fault in start\); retrying at /,
      ),
    });
    const failedAt = Date.parse((await w.deploys())[0]!.updatedAt);
    const retryAt = Date.parse((decision!.decision as { retryAt: string }).retryAt);
    expect(retryAt - failedAt).toBe(60_000);
  });

  it("waits the stage's own pause when it sets one, not the engine's", async () => {
    const w = world();
    const engine = w.make(60_000, 90_000);
    await engine.start();
    w.registry.push(repository, 'dev-1');
    w.memory.faults.failNext('start', 'UNAVAILABLE');
    await w.notify(engine, 'dev-1', 'e-1');
    await expect.poll(async () => (await w.deploys())[0]?.finished, bound).toBe(true);
    const [decision] = await engine.plan({ stage: 'dev' });
    const failedAt = Date.parse((await w.deploys())[0]!.updatedAt);
    const retryAt = Date.parse((decision!.decision as { retryAt: string }).retryAt);
    expect(retryAt - failedAt).toBe(90_000);
  });

  it('without a pause given, waits 30 s before the first retry', async () => {
    const w = world();
    const engine = w.make('unset');
    await engine.start();
    w.registry.push(repository, 'dev-1');
    w.memory.faults.failNext('start', 'UNAVAILABLE');
    await w.notify(engine, 'dev-1', 'e-1');
    await expect.poll(async () => (await w.deploys())[0]?.finished, bound).toBe(true);
    const [decision] = await engine.plan({ stage: 'dev' });
    const failedAt = Date.parse((await w.deploys())[0]!.updatedAt);
    const retryAt = Date.parse((decision!.decision as { retryAt: string }).retryAt);
    expect(retryAt - failedAt).toBe(30_000);
  });

  it('refuses a pause that is not a duration, naming where it was given', () => {
    const w = world();
    expect(() => w.make(-1)).toThrow(/^deployRetryBaseMs: must be a number of milliseconds, 0 or more/);
    expect(() => w.make(10, Number.NaN)).toThrow(
      /^projects\.web-app\.stages\.dev\.deployRetryBaseMs: must be a number of milliseconds/,
    );
  });

  it('a cancel answers at once while the engine never answers a pull, and the release is tried again', async () => {
    const w = world();
    w.wrap((t) => ({ ...t, pull: () => new Promise<never>(() => undefined) }));
    const engine = w.make(100);
    await engine.start();
    w.registry.push(repository, 'dev-1');
    await w.notify(engine, 'dev-1', 'e-1');
    await expect.poll(async () => (await w.deploys())[0]?.state, bound).toBe('pulling');
    const started = Date.now();
    const answer = await engine.cancel({ id: (await w.deploys())[0]!.id, by: 'ops' });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(['rolling-back', 'rolled-back']).toContain(answer.state);
    // Each retry meets the stalled pull and its deadline; none of them marks dev-1 as bad.
    await expect.poll(async () => (await w.deploys()).length, bound).toBeGreaterThanOrEqual(3);
    await engine.idle();
    for (const record of await w.deploys()) expect(record.error?.fault).toBe('infrastructure');
  });

  it('a restart mid-deploy does not hold the release back: the next engine deploys it', async () => {
    const w = world();
    w.wrap((t) => ({ ...t, pull: () => new Promise<never>(() => undefined) }));
    const first = w.make();
    await first.start();
    w.registry.push(repository, 'dev-1');
    await w.notify(first, 'dev-1', 'e-1');
    await expect.poll(async () => (await w.deploys())[0]?.state, bound).toBe('pulling');
    await first.stop();
    w.wrap((t) => t);
    const second = w.make(0);
    await second.start();
    await expect.poll(w.running, bound).toEqual(['dev-1']);
  });
});

describe('a release that failed on its own merits', () => {
  it('is not tried again on its own: a new push moves on', async () => {
    const w = world();
    const engine = w.make(10);
    await engine.start();
    const broken = w.registry.push(repository, 'dev-1');
    w.memory.simulate(broken, 'unhealthy');
    await w.notify(engine, 'dev-1', 'e-1');
    await expect.poll(async () => (await w.deploys())[0]?.finished, bound).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await w.deploys()).map((d) => d.state)).toEqual(['rolled-back']);
    expect((await engine.plan({ stage: 'dev' }))[0]?.decision.reason).toMatch(/failed here before/);
    w.registry.push(repository, 'dev-2');
    await w.notify(engine, 'dev-2', 'e-2');
    await expect.poll(w.running, bound).toEqual(['dev-2']);
  });
});

describe('decide', () => {
  const stage = {
    policy: compileTagPolicy({ pattern: 'dev-*' }),
    autoDeploy: true,
    deploy: { image: 'x' },
  };
  const release: Release = { tag: 'dev-1', digest: `sha256:${'1'.repeat(64)}` };
  const failed = (id: string, at: string, fault?: 'release' | 'infrastructure'): DeployRecord => ({
    id,
    project: 'p',
    stage: 'dev',
    revision: 3,
    release,
    trigger: 'auto',
    state: 'rolled-back',
    finished: true,
    error: { code: 'UNAVAILABLE', message: 'down', ...(fault ? { fault } : {}) },
    journal: [],
    data: {},
    createdAt: at,
    updatedAt: at,
  });
  const input = (recentDeploys: DeployRecord[], now: string) => ({
    stage,
    state: undefined,
    candidate: release,
    recentDeploys,
    approvals: [],
    now: Date.parse(now),
    retryBaseMs: 1_000,
  });

  it('retries after 1 s, 2 s, 4 s for failures of ours in a row', () => {
    const one = [failed('a', '2030-01-01T00:00:00.000Z', 'infrastructure')];
    expect(decide(input(one, '2030-01-01T00:00:00.500Z'))).toMatchObject({
      action: 'none',
      retryAt: '2030-01-01T00:00:01.000Z',
    });
    expect(decide(input(one, '2030-01-01T00:00:01.000Z')).action).toBe('deploy');
    const three = [
      failed('c', '2030-01-01T00:00:10.000Z', 'infrastructure'),
      failed('b', '2030-01-01T00:00:05.000Z', 'infrastructure'),
      ...one,
    ];
    expect(decide(input(three, '2030-01-01T00:00:11.000Z'))).toMatchObject({
      retryAt: '2030-01-01T00:00:14.000Z',
    });
  });

  it("takes the stage's own pause over the engine's, and never waits over 30 min", () => {
    const one = [failed('a', '2030-01-01T00:00:00.000Z', 'infrastructure')];
    expect(
      decide({ ...input(one, '2030-01-01T00:00:00.500Z'), stage: { ...stage, deployRetryBaseMs: 5_000 } }),
    ).toMatchObject({ retryAt: '2030-01-01T00:00:05.000Z' });
    expect(
      decide({
        ...input(one, '2030-01-01T00:00:00.500Z'),
        stage: { ...stage, deployRetryBaseMs: 7_200_000 },
      }),
    ).toMatchObject({ retryAt: '2030-01-01T00:30:00.000Z' });
  });

  it('holds a release back for good once it failed on its own, or in a record that does not say whose fault', () => {
    for (const fault of ['release', undefined] as const) {
      const recent = [
        failed('b', '2030-01-01T00:00:05.000Z', 'infrastructure'),
        failed('a', '2030-01-01T00:00:00.000Z', fault),
      ];
      const decision = decide(input(recent, '2030-01-02T00:00:00.000Z'));
      expect(decision).toMatchObject({
        action: 'none',
        reason: expect.stringMatching(/failed here before \(a\)/),
      });
      expect('retryAt' in decision).toBe(false);
    }
  });
});
