// What the engine tells about people and releases waiting for them: who started a deploy or changed
// a stage, approvals with their comment and deploy, releases a manual stage may take, the health
// gate's probes, one deploy per release however often it is asked for, and a refresh on demand.
import { afterEach, describe, expect, it } from 'vitest';
import type { DockerWatcherEvent, EventOf } from '../events.ts';
import {
  createMemoryDeployTarget,
  createMemoryRegistry,
  createMemoryReverseProxy,
  createMemoryStateStore,
} from '../memory/index.ts';
import { compileTagPolicy } from '../policy/index.ts';
import { createEngine, type Engine } from './engine.ts';
import type { EngineStage } from './engine-config.ts';

const repository = 'team/web-app';
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const settings = { image: `registry.example.com/${repository}`, port: 8080, strategy: 'blue-green' as const };
// The gate gives up after (retries + 1) × (interval + timeout): a probe timeout of 1 ms would end it
// after 4 ms, before its third probe on a busy machine.
const health = { path: '/health', intervalMs: 1, timeoutMs: 1_000, retries: 1, startPeriodMs: 0 };

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

function world() {
  const registry = createMemoryRegistry();
  const target = createMemoryDeployTarget({ startingProbes: 1 });
  const store = createMemoryStateStore();
  const stage = (overrides: Partial<EngineStage>): EngineStage => ({
    policy: compileTagPolicy({ pattern: 'v*' }),
    autoDeploy: true,
    deploy: { ...settings, health },
    ...overrides,
  });
  const engine = createEngine({
    projects: [
      {
        id: 'web-app',
        registry: 'main',
        repository,
        stages: {
          dev: stage({}),
          rel: stage({ autoDeploy: false }),
          prod: stage({ confirm: true, promoteFrom: 'rel' }),
        },
      },
    ],
    registries: { main: registry },
    target,
    proxy: createMemoryReverseProxy(),
    store,
    pollIntervalMs: 0,
    coalesceMs: 5,
  });
  engines.push(engine);
  const events: DockerWatcherEvent[] = [];
  engine.bus.onAny((event) => void events.push(event));
  const of = <N extends DockerWatcherEvent['type']>(type: N) =>
    events.filter((event): event is EventOf<N> => event.type === type);
  return { engine, registry, target, store, events, of };
}

describe('engine: people and what waits for them', () => {
  it('records who asked for a deploy, on the record and its queued and started events', async () => {
    const { engine, registry, of } = world();
    registry.push(repository, 'v1.0.0', digest(1));
    await engine.start();
    const deploy = await engine.deploy({ project: 'web-app', stage: 'rel', tag: 'v1.0.0', by: 'alice' });
    await engine.idle();
    expect(deploy.by).toBe('alice');
    expect(of('deploy:queued').find((e) => e.deployId === deploy.id)?.by).toBe('alice');
    expect(of('deploy:started').find((e) => e.deployId === deploy.id)?.by).toBe('alice');
    // The engine's own deploys name nobody.
    expect(of('deploy:queued').find((e) => e.stage === 'dev')).not.toHaveProperty('by');
  });

  it('answers a deploy request for a release already queued or running with that deploy', async () => {
    const { engine, registry, store } = world();
    registry.push(repository, 'v1.0.0', digest(1));
    await engine.start();
    const ref = { project: 'web-app', stage: 'rel' };
    const [first, second] = await Promise.all([
      engine.deploy({ ...ref, tag: 'v1.0.0', by: 'alice' }),
      (async () => {
        await new Promise((resolve) => setImmediate(resolve));
        return engine.deploy({ ...ref, tag: 'v1.0.0', by: 'bob' });
      })(),
    ]);
    expect(second.id).toBe(first.id);
    await engine.idle();
    expect(await store.listDeploys(ref)).toHaveLength(1);
    // Once it runs, asking again is a no-op that says so.
    await expect(engine.deploy({ ...ref, tag: 'v1.0.0' })).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { noop: 'already-running' },
    });
    expect(await store.listDeploys(ref)).toHaveLength(1);
  });

  it('tells once that a manual stage has a newer allowed release, and holds it as desired', async () => {
    const { engine, registry, store, of } = world();
    registry.push(repository, 'v1.0.0', digest(1));
    await engine.start();
    await engine.deploy({ project: 'web-app', stage: 'rel', tag: 'v1.0.0' });
    await engine.idle();
    registry.push(repository, 'v1.1.0', digest(2));
    await engine.pollOnce();
    await engine.pollOnce();
    // v1.0.0 was available when the engine started; v1.1.0 is said once, however many cycles see it.
    expect(of('release:available').filter((e) => e.stage === 'rel')[0]?.release.tag).toBe('v1.0.0');
    const available = of('release:available').filter((e) => e.stage === 'rel' && e.release.tag === 'v1.1.0');
    expect(available).toHaveLength(1);
    expect(available[0]).toMatchObject({
      release: { tag: 'v1.1.0', digest: digest(2) },
      current: { tag: 'v1.0.0', digest: digest(1) },
    });
    expect((await store.getStage({ project: 'web-app', stage: 'rel' }))?.desired).toMatchObject({
      tag: 'v1.1.0',
    });
    // The automatic stage deployed it instead.
    expect(of('release:available').filter((e) => e.stage === 'dev')).toEqual([]);
  });

  it('announces pins and auto-deploy switches with who, and a rollback pausing auto-deploy', async () => {
    const { engine, registry, of } = world();
    registry.push(repository, 'v1.0.0', digest(1));
    registry.push(repository, 'v1.1.0', digest(2));
    await engine.start();
    await engine.pin({ project: 'web-app', stage: 'dev', tag: 'v1.0.0', by: 'alice' });
    await engine.idle();
    await engine.pin({ project: 'web-app', stage: 'dev', tag: undefined, by: 'alice' });
    await engine.idle();
    await engine.rollback({ project: 'web-app', stage: 'dev', by: 'bob' });
    await engine.idle();
    await engine.setAutoDeploy({ project: 'web-app', stage: 'dev', enabled: true, by: 'carol' });
    expect(of('stage:updated').map((e) => [e.change, e.by, e.autoDeploy, e.pin])).toEqual([
      ['pin', 'alice', true, 'v1.0.0'],
      ['unpin', 'alice', true, undefined],
      ['auto-deploy', 'bob', false, undefined],
      ['auto-deploy', 'carol', true, undefined],
    ]);
  });

  it('keeps the comment and the deploy of an approval, and says who decided', async () => {
    const { engine, registry, store, of } = world();
    registry.push(repository, 'v1.0.0', digest(1));
    await engine.start();
    await engine.deploy({ project: 'web-app', stage: 'rel', tag: 'v1.0.0' });
    await engine.idle();
    const [pending] = await store.listApprovals({ project: 'web-app', stage: 'prod', status: 'pending' });
    const deploy = await engine.approve({ id: pending!.id, by: 'alice', comment: 'looks good on rel' });
    expect(await store.getApproval({ id: pending!.id })).toMatchObject({
      status: 'approved',
      decidedBy: 'alice',
      comment: 'looks good on rel',
      deployId: deploy.id,
    });
    expect(deploy.by).toBe('alice');
    expect(of('approval:decided')).toEqual([
      expect.objectContaining({
        approvalId: pending!.id,
        status: 'approved',
        by: 'alice',
        deployId: deploy.id,
      }),
    ]);
    await engine.idle();
    registry.push(repository, 'v1.1.0', digest(2));
    await engine.deploy({ project: 'web-app', stage: 'rel', tag: 'v1.1.0' });
    await engine.idle();
    const [next] = await store.listApprovals({ project: 'web-app', stage: 'prod', status: 'pending' });
    const rejected = await engine.reject({ id: next!.id, by: 'bob', comment: 'not on a Friday' });
    expect(rejected).toMatchObject({ status: 'rejected', decidedBy: 'bob', comment: 'not on a Friday' });
    expect(of('approval:decided').at(-1)).toMatchObject({
      status: 'rejected',
      by: 'bob',
      comment: 'not on a Friday',
    });
  });

  it('reports each probe of the health gate as an event and a log line', async () => {
    const { engine, registry, target, store, of } = world();
    registry.push(repository, 'v1.0.0', digest(1));
    await engine.start();
    await engine.idle();
    registry.push(repository, 'v2.0.0', digest(2));
    target.simulate(digest(2), 'unhealthy');
    const probes = of('deploy:health-checked');
    const good = probes.filter((e) => e.stage === 'dev' && e.healthy);
    expect(good).toHaveLength(1);
    expect(good[0]).toMatchObject({ attempt: 2, status: 200, failures: 0 });
    const bad = await engine.deploy({ project: 'web-app', stage: 'rel', tag: 'v2.0.0' });
    await engine.idle();
    const failing = of('deploy:health-checked').filter((e) => e.deployId === bad.id);
    expect(failing.map((e) => [e.attempt, e.healthy, e.status, e.failures])).toEqual([
      [1, false, undefined, 0],
      [2, false, 503, 1],
      [3, false, 503, 2],
    ]);
    expect(failing[1]?.error).toBe('GET /health -> 503');
    expect(Date.parse(failing[0]!.deadline)).toBeGreaterThan(Date.parse(failing[0]!.at) - 1);
    const lines = (await store.readLog({ deployId: bad.id })).map((line) => line.line);
    expect(lines).toContain('health probe 2 unhealthy: GET /health -> 503 (1 failed so far)');
  });

  it('refreshes one stage or a project on demand, past the poll cycle, and says what each stage does', async () => {
    const { engine, registry, store } = world();
    await engine.start();
    registry.push(repository, 'v1.0.0', digest(1));
    const refreshed = await engine.refresh({ project: 'web-app', stage: 'dev' });
    expect(refreshed).toEqual([
      { project: 'web-app', stage: 'dev', decision: expect.objectContaining({ action: 'deploy' }) },
    ]);
    await engine.idle();
    expect((await store.getStage({ project: 'web-app', stage: 'dev' }))?.actual?.tag).toBe('v1.0.0');
    const all = await engine.refresh({ project: 'web-app' });
    expect(all.map((entry) => [entry.stage, entry.decision.action])).toEqual([
      ['dev', 'none'],
      ['rel', 'hold'],
      ['prod', 'none'],
    ]);
    await expect(engine.refresh({ project: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('answers a refresh that was asking the registry when a draining stop came (a reload)', async () => {
    const { engine, registry } = world();
    await engine.start();
    registry.push(repository, 'v1.0.0', digest(1));
    // The registry holds the refresh's listing until the stop has begun.
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let asked = 0;
    const listTags = registry.listTags.bind(registry);
    registry.listTags = async (params) => {
      asked++;
      await released;
      return listTags(params);
    };
    const refreshed = engine.refresh({ project: 'web-app', stage: 'dev' });
    await expect.poll(() => asked).toBe(1);
    const stopped = engine.stop({ drain: true });
    // Long enough for a stop that does not wait for the refresh to have aborted it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    expect(await refreshed).toEqual([
      { project: 'web-app', stage: 'dev', decision: expect.objectContaining({ action: 'deploy' }) },
    ]);
    await stopped;
  });
});
