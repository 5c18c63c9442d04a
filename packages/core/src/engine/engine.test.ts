import { afterEach, describe, expect, it } from 'vitest';
import { CoreError } from '../errors.ts';
import type { DockerWatcherEvent } from '../events.ts';
import {
  createMemoryDeployTarget,
  createMemoryNotifier,
  createMemoryRegistry,
  createMemoryReverseProxy,
  createMemoryStateStore,
  type MemoryStateStore,
} from '../memory/index.ts';
import { compileTagPolicy, fromRegistryWatcherPin } from '../policy/index.ts';
import { createEngine, type Engine, type EngineOptions } from './engine.ts';
import type { EngineStage } from './engine-config.ts';

const repository = 'team/web-app';
const health = { path: '/health', intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 };
const deploySettings = (stage: string) => ({
  image: `registry.example.com/${repository}`,
  port: 8080,
  strategy: 'blue-green' as const,
  health,
  host: `stage-${stage}-web-app.example.com`,
});

function stages(overrides: Record<string, Partial<EngineStage>> = {}): Record<string, EngineStage> {
  return {
    dev: {
      policy: compileTagPolicy({ pattern: 'dev-*' }),
      autoDeploy: true,
      deploy: deploySettings('dev'),
      ...overrides.dev,
    },
    rel: {
      policy: compileTagPolicy(fromRegistryWatcherPin('')),
      autoDeploy: false,
      deploy: deploySettings('rel'),
      ...overrides.rel,
    },
    prod: {
      policy: compileTagPolicy({ pattern: 'v*' }),
      autoDeploy: true,
      confirm: true,
      promoteFrom: 'rel',
      deploy: deploySettings('prod'),
      ...overrides.prod,
    },
  };
}

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

function world(
  options: { store?: MemoryStateStore; stageOverrides?: Record<string, Partial<EngineStage>> } = {},
) {
  const registry = createMemoryRegistry({ webhookSecret: 'webhook-secret' });
  const target = createMemoryDeployTarget();
  const proxy = createMemoryReverseProxy();
  const store = options.store ?? createMemoryStateStore();
  const events: DockerWatcherEvent[] = [];
  const make = (extra: Partial<EngineOptions> = {}) => {
    const engine = createEngine({
      projects: [{ id: 'web-app', registry: 'main', repository, stages: stages(options.stageOverrides) }],
      registries: { main: registry },
      target,
      proxy,
      store,
      pollIntervalMs: 0,
      coalesceMs: 5,
      ...extra,
    });
    engine.bus.onAny((event) => void events.push(event));
    engines.push(engine);
    return engine;
  };
  const running = (stage: string) =>
    target.instances.filter((i) => i.state === 'running' && i.stage === stage).map((i) => i.release.tag);
  const actual = async (stage: string) => (await store.getStage({ project: 'web-app', stage }))?.actual;
  return { registry, target, proxy, store, events, make, running, actual };
}

describe('engine: watching and deciding', () => {
  it('a release held for a click costs no request per cycle until the repository changes', async () => {
    const w = world();
    w.registry.push(repository, 'dev-1');
    w.registry.push(repository, 'v1.0.0');
    const engine = w.make();
    await engine.start();
    await engine.idle();
    const held = async () => (await w.store.getStage({ project: 'web-app', stage: 'rel' }))?.desired?.digest;
    const first = await held();
    expect(first).toBeDefined();
    const resolves = w.registry.faults.calls('resolveReference');
    const listings = w.registry.faults.calls('listTags');
    for (let i = 0; i < 3; i++) await engine.pollOnce();
    expect(w.registry.faults.calls('listTags') - listings).toBe(3);
    expect(w.registry.faults.calls('resolveReference')).toBe(resolves);

    // A re-push of the held tag, announced by a webhook, is resolved again and held instead.
    const again = w.registry.push(repository, 'v1.0.0', 'rebuilt');
    await engine.ingestWebhook({
      registry: 'main',
      request: w.registry.webhookRequest([
        { repository, tag: 'v1.0.0', digest: again, action: 'pushed', eventId: 'repush' },
      ]),
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    await engine.idle();
    expect(await held()).toBe(again);
    expect(again).not.toBe(first);
  });

  it('deploys every new dev-* tag automatically and leaves rel waiting for a click', async () => {
    const w = world();
    w.registry.push(repository, 'dev-1');
    w.registry.push(repository, 'v1.0.0');
    const engine = w.make();
    await engine.start();
    await engine.idle();
    expect(w.running('dev')).toEqual(['dev-1']);
    expect(w.running('rel')).toEqual([]);
    const rel = (await engine.plan({ stage: 'rel' }))[0]?.decision;
    expect(rel).toMatchObject({ action: 'hold', release: { tag: 'v1.0.0' } });

    w.registry.push(repository, 'dev-2');
    await engine.pollOnce();
    await engine.idle();
    expect(w.running('dev')).toEqual(['dev-2']);
  });

  it('never loses an update made while auto-deploy was off', async () => {
    const w = world();
    w.registry.push(repository, 'dev-1');
    const engine = w.make();
    await engine.start();
    await engine.idle();
    await engine.setAutoDeploy({ project: 'web-app', stage: 'dev', enabled: false });
    w.registry.push(repository, 'dev-2');
    w.registry.push(repository, 'dev-3');
    await engine.pollOnce();
    await engine.idle();
    expect(w.running('dev')).toEqual(['dev-1']);
    await engine.setAutoDeploy({ project: 'web-app', stage: 'dev', enabled: true });
    await engine.idle();
    expect(w.running('dev')).toEqual(['dev-3']);
  });

  it('redeploys a pinned tag when its digest changes, and converges to the newest release when unpinned', async () => {
    const w = world({ stageOverrides: { rel: { autoDeploy: true } } });
    w.registry.push(repository, 'v1.0.0');
    w.registry.push(repository, 'v1.1.0');
    const engine = w.make();
    await engine.start();
    await engine.idle();
    expect(w.running('rel')).toEqual(['v1.1.0']);
    await engine.pin({ project: 'web-app', stage: 'rel', tag: 'v1.0.0' });
    await engine.idle();
    expect(w.running('rel')).toEqual(['v1.0.0']);
    const first = await w.actual('rel');
    w.registry.push(repository, 'v1.0.0', 'rebuilt');
    await engine.pollOnce();
    await engine.idle();
    const second = await w.actual('rel');
    expect(second?.tag).toBe('v1.0.0');
    expect(second?.digest).not.toBe(first?.digest);
    await engine.pin({ project: 'web-app', stage: 'rel', tag: undefined });
    await engine.idle();
    expect(w.running('rel')).toEqual(['v1.1.0']);
  });

  it('redeploys a tag pinned by its policy when the tag is re-pushed, found by polling alone', async () => {
    const w = world({
      stageOverrides: { rel: { autoDeploy: true, policy: compileTagPolicy({ pin: 'stable' }) } },
    });
    w.registry.push(repository, 'stable');
    const engine = w.make();
    await engine.start();
    await engine.idle();
    const first = await w.actual('rel');
    expect(first?.tag).toBe('stable');
    // No webhook: the poll cycle alone has to notice that the pinned tag names another image now.
    const rebuilt = w.registry.push(repository, 'stable', 'rebuilt');
    await engine.pollOnce();
    await engine.idle();
    expect(await w.actual('rel')).toEqual({ tag: 'stable', digest: rebuilt });
    expect(rebuilt).not.toBe(first?.digest);
  });

  it('converges after a restart on the same store', async () => {
    const store = createMemoryStateStore();
    const w = world({ store });
    w.registry.push(repository, 'dev-1');
    const first = w.make();
    await first.start();
    await first.idle();
    await first.stop();
    w.registry.push(repository, 'dev-2');
    const second = w.make();
    await second.start();
    await second.idle();
    expect(w.running('dev')).toEqual(['dev-2']);
  });

  it('does not retry a release that failed, until a newer one arrives', async () => {
    const w = world();
    w.registry.push(repository, 'dev-1');
    const engine = w.make();
    await engine.start();
    await engine.idle();
    const broken = w.registry.push(repository, 'dev-2');
    w.target.simulate(broken, 'unhealthy');
    await engine.pollOnce();
    await engine.idle();
    await engine.pollOnce();
    await engine.idle();
    expect(w.running('dev')).toEqual(['dev-1']);
    const deploys = await w.store.listDeploys({ project: 'web-app', stage: 'dev' });
    expect(deploys.filter((d) => d.release.tag === 'dev-2')).toHaveLength(1);
    expect(deploys[0]?.state).toBe('rolled-back');
    w.registry.push(repository, 'dev-3');
    await engine.pollOnce();
    await engine.idle();
    expect(w.running('dev')).toEqual(['dev-3']);
  });
});

describe('engine: confirmation and promotion', () => {
  it('promotes to prod exactly the digest proven in rel, after a confirmation', async () => {
    const w = world();
    w.registry.push(repository, 'v1.0.0');
    const engine = w.make();
    await engine.start();
    await engine.deploy({ project: 'web-app', stage: 'rel' });
    await engine.idle();
    const proven = await w.actual('rel');
    expect(proven?.tag).toBe('v1.0.0');
    // Someone re-pushes v1.0.0: prod must still get the digest that was proven.
    w.registry.push(repository, 'v1.0.0', 'sneaky rebuild');
    const pending = await w.store.listApprovals({ project: 'web-app', stage: 'prod', status: 'pending' });
    expect(pending.map((a) => a.release)).toEqual([proven]);
    const awaiting = w.events.find((e) => e.type === 'deploy:awaiting-confirmation');
    // The event names the approval, so a notification or a page can link to it.
    expect(awaiting).toMatchObject({ approvalId: pending[0]!.id, release: proven });
    expect(w.running('prod')).toEqual([]);
    await engine.approve({ id: pending[0]!.id, by: 'alice' });
    await engine.idle();
    expect(await w.actual('prod')).toEqual(proven);
  });

  it('refuses to promote a digest that never succeeded in the source stage', async () => {
    const w = world();
    w.registry.push(repository, 'v1.0.0');
    const engine = w.make();
    await engine.start();
    await expect(engine.promote({ project: 'web-app', stage: 'prod' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(
      engine.promote({ project: 'web-app', stage: 'prod', digest: `sha256:${'f'.repeat(64)}` }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    w.target.simulate(w.registry.push(repository, 'v2.0.0'), 'unhealthy');
    await engine.deploy({ project: 'web-app', stage: 'rel', tag: 'v2.0.0' });
    await engine.idle();
    await expect(engine.promote({ project: 'web-app', stage: 'prod' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('rejecting a release keeps it out of the stage', async () => {
    const w = world();
    w.registry.push(repository, 'v1.0.0');
    const engine = w.make();
    await engine.start();
    await engine.deploy({ project: 'web-app', stage: 'rel' });
    await engine.idle();
    const [approval] = await w.store.listApprovals({ project: 'web-app', stage: 'prod', status: 'pending' });
    await engine.reject({ id: approval!.id, by: 'bob' });
    await engine.pollOnce();
    await engine.idle();
    expect(w.running('prod')).toEqual([]);
    expect((await engine.plan({ stage: 'prod' }))[0]?.decision.action).toBe('none');
  });

  it('deploys by hand only tags the policy allows, and rolls back to the previous release', async () => {
    const w = world();
    w.registry.push(repository, 'v1.0.0');
    w.registry.push(repository, 'v1.1.0');
    w.registry.push(repository, 'dev-1');
    const engine = w.make();
    await engine.start();
    await expect(engine.deploy({ project: 'web-app', stage: 'rel', tag: 'dev-1' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(engine.deploy({ project: 'web-app', stage: 'rel', tag: 'v9.9.9' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await engine.deploy({ project: 'web-app', stage: 'rel', tag: 'v1.0.0' });
    await engine.idle();
    await engine.deploy({ project: 'web-app', stage: 'rel', tag: 'v1.1.0' });
    await engine.idle();
    await engine.rollback({ project: 'web-app', stage: 'rel' });
    await engine.idle();
    expect(w.running('rel')).toEqual(['v1.0.0']);
    expect((await w.store.getStage({ project: 'web-app', stage: 'rel' }))?.autoDeploy).toBe(false);
  });
});

describe('engine: queueing', () => {
  it('runs one deploy at a time per stage; a newer release supersedes a queued one', async () => {
    const w = world();
    w.registry.push(repository, 'dev-1');
    const engine = w.make();
    await engine.start();
    await engine.idle();
    w.target.faults.delay('pull', 30);
    for (const tag of ['dev-2', 'dev-3', 'dev-4']) w.registry.push(repository, tag);
    const second = await engine.deploy({ project: 'web-app', stage: 'dev', tag: 'dev-2' });
    const third = await engine.deploy({ project: 'web-app', stage: 'dev', tag: 'dev-3' });
    const fourth = await engine.deploy({ project: 'web-app', stage: 'dev', tag: 'dev-4' });
    await engine.idle();
    const state = async (id: string) => (await w.store.getDeploy({ id }))?.state;
    expect(await state(second.id)).toBe('succeeded');
    expect(await state(third.id)).toBe('cancelled');
    expect(await state(fourth.id)).toBe('succeeded');
    expect(w.running('dev')).toEqual(['dev-4']);
  });
});

describe('engine: cancelling', () => {
  it('cancels a queued deploy before it starts, and a running one back to the old release', async () => {
    const w = world();
    w.registry.push(repository, 'dev-1');
    const engine = w.make();
    await engine.start();
    await engine.idle();
    for (const tag of ['dev-2', 'dev-3']) w.registry.push(repository, tag);
    w.target.faults.delay('pull', 50);
    const running = await engine.deploy({ project: 'web-app', stage: 'dev', tag: 'dev-2' });
    const queued = await engine.deploy({ project: 'web-app', stage: 'dev', tag: 'dev-3' });
    expect((await engine.cancel({ id: queued.id, by: 'alice' })).state).toBe('cancelled');
    // The answer comes once the deploy left its step; the rollback ends in the background.
    const cancelled = await engine.cancel({ id: running.id, by: 'alice' });
    expect(['rolling-back', 'rolled-back']).toContain(cancelled.state);
    await engine.idle();
    expect((await w.store.getDeploy({ id: running.id }))?.journal.at(-1)?.state).toBe('rolled-back');
    expect(w.running('dev')).toEqual(['dev-1']);
    // What the stage should run is what runs again, not the cancelled tag.
    expect((await w.store.getStage({ project: 'web-app', stage: 'dev' }))?.desired).toMatchObject({
      tag: 'dev-1',
      reason: 'dev-3 was cancelled by alice',
    });
    await expect(engine.cancel({ id: running.id, by: 'alice' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(engine.cancel({ id: 'nope', by: 'alice' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('engine: a crash mid-deploy', () => {
  it('a new engine on the same store finishes or rolls back what the old one left, with no orphan', async () => {
    const store = createMemoryStateStore();
    const w = world({ store });
    w.registry.push(repository, 'dev-1');
    const first = w.make();
    await first.start();
    await first.idle();
    // The first engine is dropped while dev-2's candidate is being health-checked: it never
    // finishes, as if the process had been killed.
    w.registry.push(repository, 'dev-2');
    w.target.faults.delay('checkHealth', Number.POSITIVE_INFINITY);
    void first.pollOnce();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [unfinished] = await store.listDeploys({ unfinished: true });
    expect(unfinished?.state).toBe('health-checking');
    w.target.faults.clear('checkHealth');
    const second = w.make();
    await second.start();
    await second.idle();
    const record = await store.getDeploy({ id: unfinished!.id });
    expect(record?.state).toBe('rolled-back');
    // The candidate is gone, the old release serves, and the next cycle may try dev-2 again only by hand.
    expect(w.running('dev')).toEqual(['dev-1']);
    expect(w.proxy.routes.find((r) => r.host.startsWith('stage-dev'))?.upstream).toEqual(
      w.target.instances.find((i) => i.state === 'running' && i.stage === 'dev')?.endpoint,
    );
  });
});

describe('engine: webhooks and faults', () => {
  it('honours RATE_LIMITED retry-after and reports it', async () => {
    const w = world();
    w.registry.push(repository, 'dev-1');
    const engine = w.make({ backoffBaseMs: 1 });
    w.registry.faults.failNext(
      'listTags',
      new CoreError('RATE_LIMITED', 'slow down', { retryAfterMs: 60_000 }),
    );
    await engine.start();
    const errors = w.events.filter((e) => e.type === 'adapter:error');
    expect(errors[0]).toMatchObject({ operation: 'listTags', error: { code: 'RATE_LIMITED' } });
    const calls = w.registry.faults.calls('listTags');
    await engine.pollOnce();
    // The registry asked for a minute: no request before then, although our own backoff is 1 ms.
    expect(w.registry.faults.calls('listTags')).toBe(calls);
    expect(w.running('dev')).toEqual([]);
  });

  it('acts on a verified webhook at once, drops replays, and coalesces a burst into one listing', async () => {
    const w = world();
    const engine = w.make();
    await engine.start();
    const before = w.registry.faults.calls('listTags');
    const digest = w.registry.push(repository, 'dev-7');
    const request = w.registry.webhookRequest([
      { repository, tag: 'dev-7', digest, action: 'pushed', eventId: 'evt-1' },
      { repository, tag: 'dev-7', digest, action: 'pushed', eventId: 'evt-2' },
    ]);
    expect(await engine.ingestWebhook({ registry: 'main', request })).toHaveLength(2);
    expect(await engine.ingestWebhook({ registry: 'main', request })).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await engine.idle();
    expect(w.running('dev')).toEqual(['dev-7']);
    expect(w.registry.faults.calls('listTags') - before).toBe(1);
  });

  it('looks at a lone notification at once, whatever the coalescing window', async () => {
    const w = world();
    const engine = w.make({ coalesceMs: 600_000 });
    await engine.start();
    const digest = w.registry.push(repository, 'dev-8');
    const request = w.registry.webhookRequest([
      { repository, tag: 'dev-8', digest, action: 'pushed', eventId: 'evt-lone' },
    ]);
    expect(await engine.ingestWebhook({ registry: 'main', request })).toHaveLength(1);
    await expect.poll(() => w.running('dev'), { timeout: 30_000 }).toEqual(['dev-8']);
    await engine.stop();
  });

  it('acts on a notification that came before the registry listed its tag', async () => {
    // Distribution notifies of a tagged push before it links the tag: the first listing lacks it.
    const w = world();
    w.registry.push(repository, 'dev-1');
    const engine = w.make({ coalesceMs: 0 });
    await engine.start();
    await engine.idle();
    const digest = `sha256:${'e'.repeat(64)}`;
    const realListTags = w.registry.listTags.bind(w.registry);
    let listings = 0;
    w.registry.listTags = async (input) => {
      const tags = await realListTags(input);
      if (++listings === 1) w.registry.push(repository, 'dev-2');
      return tags;
    };
    const request = w.registry.webhookRequest([
      { repository, tag: 'dev-2', digest, action: 'pushed', eventId: 'evt-early' },
    ]);
    expect(await engine.ingestWebhook({ registry: 'main', request })).toHaveLength(1);
    // No polling: only the notification can bring dev-2.
    await expect.poll(() => w.running('dev'), { timeout: 30_000 }).toEqual(['dev-2']);
    expect(listings).toBeGreaterThanOrEqual(2);
  });

  it('acts on a notified tag the registry lists before its manifest resolves', async () => {
    // Distribution writes the tag's folder before its link: listed, but no manifest by that tag yet.
    const w = world();
    w.registry.push(repository, 'dev-1');
    const engine = w.make({ coalesceMs: 0 });
    await engine.start();
    await engine.idle();
    const digest = w.registry.push(repository, 'dev-2');
    const realResolve = w.registry.resolveReference.bind(w.registry);
    let early = 0;
    w.registry.resolveReference = async (input) =>
      input.reference === 'dev-2' && ++early <= 2 ? undefined : realResolve(input);
    const request = w.registry.webhookRequest([
      { repository, tag: 'dev-2', digest, action: 'pushed', eventId: 'evt-unlinked' },
    ]);
    expect(await engine.ingestWebhook({ registry: 'main', request })).toHaveLength(1);
    await expect.poll(() => w.running('dev'), { timeout: 30_000 }).toEqual(['dev-2']);
    expect(early).toBeGreaterThan(2);
  });

  it('a poll that lists a tag before its manifest resolves deploys it at the next cycle, without backing off', async () => {
    const w = world();
    w.registry.push(repository, 'dev-1');
    const engine = w.make();
    await engine.start();
    await engine.idle();
    w.registry.push(repository, 'dev-2');
    const realResolve = w.registry.resolveReference.bind(w.registry);
    let early = true;
    w.registry.resolveReference = async (input) =>
      input.reference === 'dev-2' && early ? undefined : realResolve(input);
    await engine.pollOnce();
    await engine.idle();
    expect(w.running('dev')).toEqual(['dev-1']);
    // Same listing, same stage: only a decision that was not remembered can see dev-2 now.
    early = false;
    await engine.pollOnce();
    await engine.idle();
    expect(w.running('dev')).toEqual(['dev-2']);
  });

  it('a manual deploy looks at the registry now, even while the cycle backs off', async () => {
    const w = world();
    const engine = w.make({ backoffBaseMs: 60_000 });
    w.registry.faults.failNext('listTags', 'NOT_FOUND');
    await engine.start();
    w.registry.push(repository, 'v1.0.0');
    const record = await engine.deploy({ project: 'web-app', stage: 'rel' });
    await engine.idle();
    expect(record.release.tag).toBe('v1.0.0');
    expect(w.running('rel')).toEqual(['v1.0.0']);
  });

  it('rejects a forged webhook and observes nothing', async () => {
    const w = world();
    const engine = w.make();
    await engine.start();
    const request = w.registry.webhookRequest([{ repository, tag: 'dev-9', action: 'pushed', eventId: 'x' }]);
    const forged = {
      ...request,
      body: new TextEncoder().encode(
        '{"events":[{"action":"pushed","repository":"team/web-app","tag":"evil"}]}',
      ),
    };
    await expect(engine.ingestWebhook({ registry: 'main', request: forged })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    expect(w.events.filter((e) => e.type === 'registry:observed')).toEqual([]);
  });

  it('survives a registry that is down or rate-limits, reports it, and backs off', async () => {
    const w = world();
    w.registry.push(repository, 'dev-1');
    const engine = w.make({ backoffBaseMs: 60_000 });
    w.registry.faults.failAlways('listTags', 'UNAVAILABLE');
    await engine.start();
    await engine.pollOnce();
    expect(w.events.filter((e) => e.type === 'adapter:error').length).toBeGreaterThan(0);
    const calls = w.registry.faults.calls('listTags');
    await engine.pollOnce();
    // Backing off: after a failure the repository waits before the next try.
    expect(w.registry.faults.calls('listTags')).toBe(calls);
    w.registry.faults.clear();
    await engine.ingestWebhook({
      registry: 'main',
      request: w.registry.webhookRequest([{ repository, tag: 'dev-1', action: 'pushed', eventId: 'e' }]),
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    await engine.idle();
    expect(w.running('dev')).toEqual(['dev-1']);
  });

  it('notifies about outcomes without blocking deploys, and delivers before stop() resolves', async () => {
    const w = world();
    const notifier = createMemoryNotifier({ events: ['deploy:started', 'deploy:succeeded'] });
    notifier.faults.delay('notify', 20);
    w.registry.push(repository, 'dev-1');
    const engine = w.make({ notifiers: [notifier] });
    await engine.start();
    await engine.idle();
    expect(w.running('dev')).toEqual(['dev-1']);
    await engine.stop();
    expect(notifier.delivered.map((event) => event.type)).toEqual(['deploy:started', 'deploy:succeeded']);
  });

  it("points a drifted route back at the instance that runs the stage's release", async () => {
    const w = world();
    w.registry.push(repository, 'dev-1');
    const engine = w.make();
    await engine.start();
    await engine.idle();
    const host = 'stage-dev-web-app.example.com';
    const serving = w.target.instances.find((i) => i.state === 'running' && i.stage === 'dev')!;
    // As after an engine restart that gave the container a new address, or a hand edit in the proxy.
    await w.proxy.ensureRoute({ route: { host, upstream: { host: '127.0.0.1', port: 1 } } });
    await engine.healRoutesOnce();
    expect(w.proxy.routes.find((r) => r.host === host)?.upstream).toEqual(serving.endpoint);
    const changes = w.proxy.changes.length;
    await engine.healRoutesOnce();
    // Nothing drifted: no write.
    expect(w.proxy.changes.length).toBe(changes);
  });

  it('heals a drifted route on its own timer, with polling off (a webhook-only server)', async () => {
    const w = world();
    w.registry.push(repository, 'dev-1');
    const engine = w.make({ pollIntervalMs: 0, healIntervalMs: 20 });
    await engine.start();
    await engine.idle();
    const host = 'stage-dev-web-app.example.com';
    const serving = w.target.instances.find((i) => i.state === 'running' && i.stage === 'dev')!;
    await w.proxy.ensureRoute({ route: { host, upstream: { host: '127.0.0.1', port: 1 } } });
    await expect
      .poll(() => w.proxy.routes.find((r) => r.host === host)?.upstream, { timeout: 30_000 })
      .toEqual(serving.endpoint);
  });

  it('heals the route of a stage at once when the target reports its instance restarted on a new endpoint', async () => {
    const w = world();
    w.registry.push(repository, 'dev-1');
    // Webhook-only, and a heal timer that never fires within the test: only the report can heal.
    const engine = w.make({ pollIntervalMs: 0, healIntervalMs: 3_600_000 });
    await engine.start();
    await engine.idle();
    const host = 'stage-dev-web-app.example.com';
    const serving = w.target.instances.find((i) => i.state === 'running' && i.stage === 'dev')!;
    expect(w.proxy.routes.find((r) => r.host === host)?.upstream).toMatchObject(serving.endpoint!);
    w.target.restart(serving.id, { moveEndpoint: true });
    const moved = w.target.instances.find((i) => i.id === serving.id)!.endpoint!;
    expect(moved).not.toEqual(serving.endpoint);
    await expect
      .poll(() => w.proxy.routes.find((r) => r.host === host)?.upstream, { timeout: 30_000 })
      .toMatchObject(moved);
    await engine.stop();
  });

  it('does not heal on reported restarts with healRoutes off', async () => {
    const w = world();
    w.registry.push(repository, 'dev-1');
    const engine = w.make({ pollIntervalMs: 0, healRoutes: false });
    await engine.start();
    await engine.idle();
    const host = 'stage-dev-web-app.example.com';
    const serving = w.target.instances.find((i) => i.state === 'running' && i.stage === 'dev')!;
    w.target.restart(serving.id, { moveEndpoint: true });
    await engine.idle();
    expect(w.proxy.routes.find((r) => r.host === host)?.upstream).toMatchObject(serving.endpoint!);
    await engine.stop();
  });

  it('stop() resolves with nothing left running: no further registry calls', async () => {
    const w = world();
    w.registry.push(repository, 'dev-1');
    const engine = w.make({ pollIntervalMs: 5, jitter: 0 });
    await engine.start();
    await engine.stop();
    const calls = w.registry.faults.calls();
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(w.registry.faults.calls()).toBe(calls);
  });
});

describe("engine: the plan's gates (auto_deploy: false, confirm: true)", () => {
  it('announces a release waiting for a click once, with what runs now', async () => {
    const w = world();
    w.registry.push(repository, 'v1.0.0');
    const engine = w.make();
    await engine.start();
    await engine.idle();
    const available = () => w.events.filter((e) => e.type === 'release:available');
    expect(available()).toMatchObject([
      {
        project: 'web-app',
        stage: 'rel',
        release: { tag: 'v1.0.0' },
        reason: 'v1.0.0 is available; auto-deploy is off',
      },
    ]);
    await engine.pollOnce();
    expect(available()).toHaveLength(1);
    await engine.deploy({ project: 'web-app', stage: 'rel' });
    await engine.idle();
    w.registry.push(repository, 'v1.1.0');
    await engine.pollOnce();
    await engine.idle();
    expect(available()[1]).toMatchObject({ release: { tag: 'v1.1.0' }, current: { tag: 'v1.0.0' } });
  });

  it('asks prod for a confirmation when rel succeeds, even with auto-deploy off; the confirmation deploys', async () => {
    const w = world({ stageOverrides: { prod: { autoDeploy: false } } });
    w.registry.push(repository, 'v1.0.0');
    const engine = w.make();
    await engine.start();
    await engine.deploy({ project: 'web-app', stage: 'rel' });
    await engine.idle();
    const pending = await w.store.listApprovals({ project: 'web-app', stage: 'prod', status: 'pending' });
    expect(pending.map((a) => a.release.tag)).toEqual(['v1.0.0']);
    expect(w.running('prod')).toEqual([]);
    await engine.approve({ id: pending[0]!.id, by: 'alice' });
    await engine.idle();
    expect((await w.actual('prod'))?.tag).toBe('v1.0.0');
  });

  it('after a rollback, a release confirmed before is held, not deployed or asked for again', async () => {
    const w = world({ stageOverrides: { prod: { autoDeploy: false } } });
    w.registry.push(repository, 'v1.0.0');
    const engine = w.make();
    await engine.start();
    const confirmRel = async () => {
      await engine.deploy({ project: 'web-app', stage: 'rel' });
      await engine.idle();
      const [approval] = await w.store.listApprovals({
        project: 'web-app',
        stage: 'prod',
        status: 'pending',
      });
      await engine.approve({ id: approval!.id, by: 'alice' });
      await engine.idle();
    };
    await confirmRel();
    w.registry.push(repository, 'v2.0.0');
    await engine.pollOnce();
    await confirmRel();
    expect((await w.actual('prod'))?.tag).toBe('v2.0.0');
    await engine.rollback({ project: 'web-app', stage: 'prod' });
    await engine.idle();
    expect((await w.actual('prod'))?.tag).toBe('v1.0.0');
    const plan = (await engine.plan({ stage: 'prod' }))[0]?.decision;
    expect(plan).toMatchObject({ action: 'hold', release: { tag: 'v2.0.0' } });
    expect(await w.store.listApprovals({ project: 'web-app', stage: 'prod', status: 'pending' })).toEqual([]);
  });
});
