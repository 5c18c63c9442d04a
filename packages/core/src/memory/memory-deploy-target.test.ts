import { describe, expect, it } from 'vitest';
import type { InstanceSpec } from '../contracts/deploy-target.ts';
import { createMemoryDeployTarget } from './memory-deploy-target.ts';

const health = { path: '/health', intervalMs: 10, timeoutMs: 100, retries: 1, startPeriodMs: 0 };

const spec = (deployId: string, digestChar = 'a', stage = 'dev'): InstanceSpec => ({
  project: 'web',
  stage,
  deployId,
  image: 'registry.test/web',
  release: { tag: `v-${digestChar}`, digest: `sha256:${digestChar.repeat(64)}` },
});

describe('createMemoryDeployTarget', () => {
  it('gives each instance its own endpoint and logs its start', async () => {
    const target = createMemoryDeployTarget({ host: '10.0.0.1', basePort: 4000 });
    const lines: string[] = [];
    const a = await target.start({ spec: spec('d1'), onLog: (line) => lines.push(line) });
    const b = await target.start({ spec: spec('d2') });
    expect([a.endpoint, b.endpoint]).toEqual([
      { host: '10.0.0.1', port: 4000 },
      { host: '10.0.0.1', port: 4001 },
    ]);
    expect(lines).toEqual([`started registry.test/web@sha256:${'a'.repeat(64)} as ${a.id}`]);
    expect(await target.logs({ instance: a, tail: 10 })).toEqual(lines);
  });

  it('answers starting for the first probes, then the simulated health', async () => {
    const target = createMemoryDeployTarget({ startingProbes: 2 });
    const instance = await target.start({ spec: spec('d1') });
    const statuses = [];
    for (let probe = 0; probe < 3; probe++)
      statuses.push((await target.checkHealth({ instance, health })).status);
    expect(statuses).toEqual(['starting', 'starting', 'healthy']);
    target.simulate(instance.release.digest, 'unhealthy');
    expect(await target.checkHealth({ instance, health })).toEqual({
      status: 'unhealthy',
      detail: 'GET /health -> 503',
      httpStatus: 503,
    });
  });

  it('lets a crashing release start, then exit', async () => {
    const target = createMemoryDeployTarget();
    target.simulate(`sha256:${'c'.repeat(64)}`, 'crashing');
    const instance = await target.start({ spec: spec('d1', 'c') });
    expect(instance.state).toBe('running');
    expect((await target.list({ project: 'web' }))[0]?.state).toBe('exited');
    expect((await target.checkHealth({ instance, health })).status).toBe('exited');
  });

  it('crashes a running instance on demand', async () => {
    const target = createMemoryDeployTarget();
    const instance = await target.start({ spec: spec('d1') });
    target.crash(instance.id);
    expect(target.instances.map((item) => item.state)).toEqual(['exited']);
    expect((await target.checkHealth({ instance, health })).status).toBe('exited');
  });

  it('replaces the instances of a stage on start when it is not blue-green', async () => {
    const target = createMemoryDeployTarget({ blueGreen: false });
    expect(target.capabilities.blueGreen).toBe(false);
    await target.start({ spec: spec('d1') });
    await target.start({ spec: spec('other-stage', 'a', 'prod') });
    const second = await target.start({ spec: spec('d2', 'b') });
    expect(target.instances.map((item) => item.id).sort()).toEqual(
      [second.id, target.instances[0]?.id].sort(),
    );
    expect((await target.list({ project: 'web', stage: 'dev' })).map((item) => item.deployId)).toEqual([
      'd2',
    ]);
  });

  it('records pulls and injects faults that act before or after the effect', async () => {
    const target = createMemoryDeployTarget();
    await target.pull({ spec: spec('d1') });
    expect(target.pulled).toEqual([`registry.test/web@sha256:${'a'.repeat(64)}`]);
    target.faults.failNext('start', 'UNAVAILABLE');
    await expect(target.start({ spec: spec('d1') })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(target.instances).toEqual([]);
    target.faults.failNext('start', 'TIMEOUT', { after: true });
    await expect(target.start({ spec: spec('d1') })).rejects.toMatchObject({ code: 'TIMEOUT' });
    // The lost answer is recovered by the idempotent retry.
    const instance = await target.start({ spec: spec('d1') });
    expect(target.instances.map((item) => item.id)).toEqual([instance.id]);
    expect(target.faults.calls('start')).toBe(3);
  });

  it('reports logs of a gone instance as NOT_FOUND and throws after dispose', async () => {
    const target = createMemoryDeployTarget();
    const instance = await target.start({ spec: spec('d1') });
    await target.retire({ instance });
    await expect(target.logs({ instance, tail: 5 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await target.dispose();
    await expect(target.list({})).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
