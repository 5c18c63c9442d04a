import { afterEach, describe, expect, it } from 'vitest';
import type { StateStore } from '../contracts/state-store.ts';
import type { DockerWatcherEvent } from '../events.ts';
import {
  createMemoryDeployTarget,
  createMemoryRegistry,
  createMemoryReverseProxy,
  createMemoryStateStore,
} from '../memory/index.ts';
import { devStageProject } from '../testing/replicas-case.ts';
import { createEngine, type Engine, type EngineOptions } from './engine.ts';

const repository = 'team/web-app';
const project = 'web-app';

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Replicas of one server: one registry, one Docker host, one store whose leases every replica sees. */
function cluster() {
  const registry = createMemoryRegistry({ webhookSecret: 'webhook-secret' });
  const target = createMemoryDeployTarget();
  const proxy = createMemoryReverseProxy();
  const memory = createMemoryStateStore();
  // The memory store keeps leases in one process; here every replica is in this process, so they hold.
  const store: StateStore = { ...memory, capabilities: { sharedLeases: true, durable: false } };
  const events: Array<DockerWatcherEvent & { replica: string }> = [];
  const replica = (holder: string, extra: Partial<EngineOptions> = {}) => {
    const engine = createEngine({
      projects: [devStageProject(project, repository, 'stage-dev-web-app.example.com')],
      registries: { main: registry },
      target,
      proxy,
      store,
      pollIntervalMs: 0,
      coalesceMs: 5,
      replica: { holder, leaseTtlMs: 300 },
      ...extra,
    });
    engine.bus.onAny((event) => void events.push({ ...event, replica: holder }));
    engines.push(engine);
    return engine;
  };
  const deploys = async () => store.listDeploys({ project, stage: 'dev', limit: 1000 });
  const running = () =>
    target.instances.filter((i) => i.state === 'running' && i.stage === 'dev').map((i) => i.release.tag);
  return { registry, target, store, memory, events, replica, deploys, running };
}

describe('engine: replicas on one store', () => {
  it('one push heard by two replicas makes exactly one deploy', async () => {
    const c = cluster();
    const a = c.replica('a');
    const b = c.replica('b');
    await Promise.all([a.start(), b.start()]);
    // A store as slow as a network database: both replicas decide before either has written.
    c.memory.faults.delay('createDeploy', 20);
    for (let i = 1; i <= 5; i++) {
      const tag = `dev-${i}`;
      const digest = c.registry.push(repository, tag);
      // Each replica gets its own delivery (the registry notifies every endpoint).
      await Promise.all(
        [a, b].map((engine, n) =>
          engine.ingestWebhook({
            registry: 'main',
            request: c.registry.webhookRequest([
              { repository, tag, digest, action: 'pushed', eventId: `${tag}-${n}` },
            ]),
          }),
        ),
      );
      await until(async () => (await c.deploys()).some((d) => d.release.tag === tag && d.finished), tag);
      await Promise.all([a.idle(), b.idle()]);
    }
    const records = await c.deploys();
    expect(records.map((d) => d.release.tag).sort()).toEqual(['dev-1', 'dev-2', 'dev-3', 'dev-4', 'dev-5']);
    expect(records.every((d) => d.state === 'succeeded')).toBe(true);
    expect(c.running()).toEqual(['dev-5']);
  });

  it('exactly one replica leads and polls; when it stops, another takes over', async () => {
    const c = cluster();
    c.registry.push(repository, 'dev-1');
    const a = c.replica('a');
    await a.start();
    const b = c.replica('b');
    await b.start();
    expect(a.leadership()).toEqual({ leader: true, holder: 'a' });
    expect(b.leadership()).toEqual({ leader: false, holder: 'b' });

    const listings = c.registry.faults.calls('listTags');
    await b.pollOnce();
    expect(c.registry.faults.calls('listTags')).toBe(listings);
    await a.pollOnce();
    expect(c.registry.faults.calls('listTags')).toBe(listings + 1);

    await a.stop();
    await until(() => b.leadership().leader, 'b to lead');
    expect(
      c.events
        .filter((e) => e.type === 'engine:leadership')
        .map((e) => `${e.replica}:${'leader' in e && e.leader}`),
    ).toEqual(['a:true', 'b:false', 'a:false', 'b:true']);
  });

  it('a deploy left by a replica that died is taken over once its lease runs out, without polling', async () => {
    const c = cluster();
    c.registry.push(repository, 'dev-1');
    const a = c.replica('a');
    await a.start();
    await a.idle();
    expect(c.running()).toEqual(['dev-1']);
    const digest = c.registry.push(repository, 'dev-2');
    // A replica that died mid-way: its deploy record is unfinished and it still holds the stage.
    const orphan = await c.store.createDeploy({
      deploy: {
        id: 'orphan',
        project,
        stage: 'dev',
        release: { tag: 'dev-2', digest },
        trigger: 'auto',
        state: 'pending',
        data: {},
      },
    });
    await c.store.acquireLease({ name: `stage:${project}/dev`, holder: 'dead', ttlMs: 200 });

    const b = c.replica('b');
    await b.start();
    expect((await c.store.getDeploy({ id: orphan.id }))?.finished).toBe(false);
    // No polling here (pollIntervalMs 0): the lease renewals look for orphans.
    await until(
      async () => (await c.store.getDeploy({ id: orphan.id }))?.finished === true,
      'the orphan to be taken over',
    );
    await b.idle();
    expect((await c.store.getDeploy({ id: orphan.id }))?.state).toBe('succeeded');
    expect(c.running()).toEqual(['dev-2']);
  });

  it('a manual deploy while another replica works on the stage is refused, and nothing changes', async () => {
    const c = cluster();
    const first = c.registry.push(repository, 'dev-1');
    const a = c.replica('a');
    await a.start();
    await a.idle();
    await c.store.acquireLease({ name: `stage:${project}/dev`, holder: 'other', ttlMs: 60_000 });
    c.registry.push(repository, 'dev-2');
    const before = await c.deploys();
    await expect(a.deploy({ project, stage: 'dev', tag: 'dev-2' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('Another replica is working on web-app/dev'),
    });
    expect(await c.deploys()).toEqual(before);
    expect((await c.store.getStage({ project, stage: 'dev' }))?.actual?.digest).toBe(first);
  });

  it('a replica that loses its stage to another stops its deploy there', async () => {
    const c = cluster();
    c.registry.push(repository, 'dev-1');
    const a = c.replica('a');
    await a.start();
    await a.idle();
    c.target.faults.delay('start', 5_000);
    c.registry.push(repository, 'dev-2');
    const deploying = a.deploy({ project, stage: 'dev', tag: 'dev-2' });
    await deploying;
    // Another holder takes the stage (this replica's renewals did not reach the store in time).
    c.memory.faults.failAlways('acquireLease', 'UNAVAILABLE');
    await new Promise((resolve) => setTimeout(resolve, 350));
    c.memory.faults.clear();
    expect(
      await c.store.acquireLease({ name: `stage:${project}/dev`, holder: 'other', ttlMs: 60_000 }),
    ).toBeDefined();
    await until(async () => (await c.deploys())[0]?.finished === true, 'the deploy to stop');
    const [record] = await c.deploys();
    expect(record?.state).not.toBe('succeeded');
    expect(c.running()).toEqual(['dev-1']);
  });
});
