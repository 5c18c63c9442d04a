// A canary target that asks for a confirmation: after the health gate the runner opens an approval,
// approving it (engine.approve, what the API calls) promotes the candidate and the deploy completes;
// rejecting it reverts the deploy.
import { afterEach, describe, expect, it } from 'vitest';
import type { DockerWatcherEvent } from '../events.ts';
import {
  createMemoryDeployTarget,
  createMemoryRegistry,
  createMemoryReverseProxy,
  createMemoryStateStore,
} from '../memory/index.ts';
import { compileTagPolicy } from '../policy/index.ts';
import { createEngine, type Engine } from './engine.ts';

const repository = 'team/web-app';
const project = 'web-app';
const ref = { project, stage: 'prod' };
const bound = { timeout: 60_000, interval: 20 };

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

async function world() {
  const registry = createMemoryRegistry();
  const target = createMemoryDeployTarget({ promotion: true });
  const store = createMemoryStateStore();
  const engine = createEngine({
    projects: [
      {
        id: project,
        registry: 'main',
        repository,
        stages: {
          prod: {
            policy: compileTagPolicy({ pattern: 'v*' }),
            autoDeploy: true,
            deploy: {
              image: `registry.test/${repository}`,
              strategy: 'blue-green',
              health: { path: '/health', intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 },
              host: 'prod.test',
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
  });
  engines.push(engine);
  const events: DockerWatcherEvent[] = [];
  engine.bus.onAny((event) => void events.push(event));
  /** The promotion approval the running deploy waits for, once it is open. */
  const waiting = async () => {
    await expect
      .poll(async () => (await store.listApprovals({ ...ref, status: 'pending' })).length, bound)
      .toBe(1);
    return (await store.listApprovals({ ...ref, status: 'pending' }))[0]!;
  };
  const finished = async (deployId: string) => {
    await expect.poll(async () => (await store.getDeploy({ id: deployId }))?.finished, bound).toBe(true);
    return (await store.getDeploy({ id: deployId }))!;
  };
  return { registry, target, store, engine, events, waiting, finished };
}

describe('a canary promotion with a confirmation', () => {
  it('opens an approval after the gate; approving it promotes the candidate and the deploy succeeds', async () => {
    const w = await world();
    w.registry.push(repository, 'v1.0.0');
    await w.engine.start();
    const approval = await w.waiting();
    expect(approval).toMatchObject({ kind: 'promotion', release: { tag: 'v1.0.0' } });
    const running = await w.store.getDeploy({ id: approval.deployId! });
    expect(running).toMatchObject({ state: 'health-checking', finished: false });
    expect(w.target.promoted).toEqual([]);
    expect(w.events.find((event) => event.type === 'deploy:awaiting-confirmation')).toMatchObject({
      ...ref,
      approvalId: approval.id,
      release: { tag: 'v1.0.0' },
    });

    const deploy = await w.engine.approve({ id: approval.id, by: 'alice', comment: 'canaries look fine' });
    expect(deploy.id).toBe(approval.deployId);
    const done = await w.finished(deploy.id);
    expect(done.state).toBe('succeeded');
    expect(w.target.promoted).toEqual([(done.data.candidate as { id: string }).id]);
    expect(w.target.instances.map((instance) => instance.awaitingPromotion)).toEqual([undefined]);
    expect(await w.store.getApproval({ id: approval.id })).toMatchObject({
      status: 'approved',
      decidedBy: 'alice',
      deployId: deploy.id,
    });
    expect((await w.store.getStage(ref))?.actual).toMatchObject({ tag: 'v1.0.0' });
    // Deciding it again is refused, like any decided approval.
    await expect(w.engine.approve({ id: approval.id, by: 'bob' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('reverts the candidate when the promotion is rejected, and deploys nothing else for it', async () => {
    const w = await world();
    w.registry.push(repository, 'v1.0.0');
    await w.engine.start();
    const approval = await w.waiting();
    await w.engine.reject({ id: approval.id, by: 'bob', comment: 'error rate is up' });
    const done = await w.finished(approval.deployId!);
    expect(done.state).toBe('rolled-back');
    expect(done.error).toMatchObject({
      code: 'ABORTED',
      message: 'bob rejected the promotion of v1.0.0: error rate is up',
      fault: 'release',
    });
    expect(w.target.promoted).toEqual([]);
    expect(w.target.reverted).toEqual([(done.data.candidate as { id: string }).id]);
    expect(w.target.instances).toEqual([]);
  });

  it('closes the approval when its deploy is cancelled while it waits; approving it then is refused', async () => {
    const w = await world();
    w.registry.push(repository, 'v1.0.0');
    await w.engine.start();
    const approval = await w.waiting();
    await w.engine.cancel({ id: approval.deployId!, by: 'carol' });
    const done = await w.finished(approval.deployId!);
    expect(done.state).toBe('rolled-back');
    await expect
      .poll(async () => (await w.store.getApproval({ id: approval.id }))?.status, bound)
      .toBe('closed');
    await expect(w.engine.approve({ id: approval.id, by: 'alice' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect(w.target.promoted).toEqual([]);
  });

  it('refuses a promotion approval whose deploy has ended (a crash left it pending), and deploys nothing', async () => {
    const w = await world();
    w.registry.push(repository, 'v1.0.0');
    await w.engine.start();
    const approval = await w.waiting();
    await w.engine.cancel({ id: approval.deployId!, by: 'carol' });
    await w.finished(approval.deployId!);
    // As if the process had stopped before the rollback could close it.
    await w.store.putApproval({ approval: { ...approval, status: 'pending' } });
    await expect(w.engine.approve({ id: approval.id, by: 'alice' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: `The deploy approval ${approval.id} was waiting for has ended`,
    });
    expect(await w.store.listDeploys({ project })).toHaveLength(1);
    expect(w.target.promoted).toEqual([]);
  });
});
