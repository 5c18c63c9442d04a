// Approvals close when their release is deployed by any route; a deploy of the release that runs
// (or is being deployed) already is a no-op that says so.
import { afterEach, describe, expect, it } from 'vitest';
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
const health = { path: '/health', intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 };
const deploySettings = (stage: string) => ({
  image: `registry.test/${repository}`,
  strategy: 'blue-green' as const,
  health,
  host: `${stage}.test`,
});

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

async function world() {
  const registry = createMemoryRegistry();
  const target = createMemoryDeployTarget();
  const store = createMemoryStateStore();
  const engine = createEngine({
    projects: [
      {
        id: project,
        registry: 'main',
        repository,
        stages: {
          rel: {
            policy: compileTagPolicy({ pattern: 'v*' }),
            autoDeploy: true,
            confirm: true,
            deploy: deploySettings('rel'),
          },
          prod: {
            policy: compileTagPolicy({ pattern: 'v*' }),
            autoDeploy: true,
            confirm: true,
            promoteFrom: 'rel',
            deploy: deploySettings('prod'),
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
  const approvals = (stage: string) => store.listApprovals({ project, stage });
  const deploys = (stage: string) => store.listDeploys({ project, stage });
  return { registry, target, store, engine, approvals, deploys };
}

describe('an approval', () => {
  it('closes when its release is deployed by hand; approving it later deploys nothing again', async () => {
    const w = await world();
    w.registry.push(repository, 'v1.0.0');
    await w.engine.start();
    const [pending] = await w.approvals('rel');
    expect(pending).toMatchObject({ status: 'pending', release: { tag: 'v1.0.0' } });

    const deploy = await w.engine.deploy({ project, stage: 'rel', tag: 'v1.0.0' });
    await w.engine.idle();
    expect(await w.approvals('rel')).toEqual([
      expect.objectContaining({
        id: pending!.id,
        status: 'closed',
        reason: `deployed by deploy ${deploy.id}`,
      }),
    ]);
    await expect(w.engine.approve({ id: pending!.id, by: 'alice' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: `Approval ${pending!.id} is closed already`,
    });
    expect((await w.deploys('rel')).map((d) => d.id)).toEqual([deploy.id]);
  });

  it('closes when its release is promoted by hand', async () => {
    const w = await world();
    w.registry.push(repository, 'v1.0.0');
    await w.engine.start();
    const [relApproval] = await w.approvals('rel');
    await w.engine.approve({ id: relApproval!.id, by: 'alice' });
    await w.engine.idle();
    const [prodApproval] = await w.approvals('prod');
    expect(prodApproval).toMatchObject({ status: 'pending' });
    await w.engine.promote({ project, stage: 'prod' });
    await w.engine.idle();
    expect((await w.approvals('prod'))[0]).toMatchObject({ id: prodApproval!.id, status: 'closed' });
    expect(await w.deploys('prod')).toHaveLength(1);
  });

  it('of a release being deployed by hand is a no-op that says so', async () => {
    const w = await world();
    w.registry.push(repository, 'v1.0.0');
    await w.engine.start();
    const [pending] = await w.approvals('rel');
    w.target.faults.delay('pull', 200);
    const deploy = await w.engine.deploy({ project, stage: 'rel', tag: 'v1.0.0' });
    await expect(w.engine.approve({ id: pending!.id, by: 'alice' })).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { noop: 'being-deployed', deployId: deploy.id },
    });
    await w.engine.idle();
    expect(await w.deploys('rel')).toHaveLength(1);
    expect((await w.approvals('rel'))[0]?.status).toBe('closed');
  });
});

describe('a deploy of the release that runs already', () => {
  it('is a no-op that says so, by hand and by promotion', async () => {
    const w = await world();
    w.registry.push(repository, 'v1.0.0');
    await w.engine.start();
    await w.engine.approve({ id: (await w.approvals('rel'))[0]!.id, by: 'alice' });
    await w.engine.idle();
    await w.engine.approve({ id: (await w.approvals('prod'))[0]!.id, by: 'alice' });
    await w.engine.idle();
    const before = [...(await w.deploys('rel')), ...(await w.deploys('prod'))];
    await expect(w.engine.deploy({ project, stage: 'rel', tag: 'v1.0.0' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(
        /^v1\.0\.0 \(sha256:.*\) runs in web-app\/rel already: nothing to deploy$/,
      ),
      details: { noop: 'already-running' },
    });
    await expect(w.engine.promote({ project, stage: 'prod' })).rejects.toMatchObject({
      details: { noop: 'already-running' },
    });
    expect([...(await w.deploys('rel')), ...(await w.deploys('prod'))]).toEqual(before);
  });
});
