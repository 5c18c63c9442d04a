// The target driven by core's deploy runner, the way the engine drives it, against the fake Nomad.
import { describe, expect, it } from 'vitest';
import { releases } from './support/fixtures.ts';
import { endpoint, host, jobId, ref, setup } from './support/setup.ts';

const states = (record: { journal: ReadonlyArray<{ state: string }> }) =>
  record.journal.map((entry) => entry.state);

describe('runDeploy with target:nomad', () => {
  it('deploys two releases by digest, routes to the endpoint and keeps one job version per deploy', async () => {
    const { deploy, currentImage, proxy, nomad, store, log } = await setup();
    const first = await deploy(releases.v1);
    expect(first.state).toBe('succeeded');
    expect(currentImage()).toBe(ref(releases.v1));
    const second = await deploy(releases.v2, releases.v1);
    expect(second.state).toBe('succeeded');
    expect(states(second)).toEqual([
      'pending',
      'pulling',
      'starting',
      'health-checking',
      'switching-traffic',
      'succeeded',
    ]);
    expect(currentImage()).toBe(ref(releases.v2));
    // An in-place target: the runner stopped nothing before the start, Nomad's rolling update
    // replaced the serving release, and nothing was retired after the switch.
    expect(nomad.versions(jobId).map((version) => version.Version)).toEqual([0, 1, 2]);
    expect(nomad.requestsTo('POST', /\/revert$/)).toHaveLength(0);
    expect(proxy.routes.find((route) => route.host === host)?.upstream).toEqual(endpoint);
    expect((await store.getStage({ project: 'web-app', stage: 'dev' }))?.actual).toEqual(releases.v2);
    const lines = await log(second);
    expect(lines).toContain(`setting task web/app of job ${jobId} to ${ref(releases.v2)}`);
    expect(lines.some((line) => line.startsWith(`registered job ${jobId} version 2 (evaluation `))).toBe(
      true,
    );
    expect(
      lines.some((line) => /deployment \w{8} of version 2 successful.*web 2\/2 healthy/.test(line)),
    ).toBe(true);
    expect(
      lines.some((line) => /^health gate passed: deployment \w{8} of version 2 successful/.test(line)),
    ).toBe(true);
    // The job was registered check-and-set at the modify index it was read with.
    const registrations = nomad.requestsTo('POST', new RegExp(`/v1/job/${jobId}$`));
    expect(registrations.map((request) => (request.body as { EnforceIndex: boolean }).EnforceIndex)).toEqual([
      true,
      true,
    ]);
  });

  it('rolls back when the release is unhealthy and Nomad’s auto_revert reverted the job already', async () => {
    const { deploy, currentImage, nomad, events, log } = await setup({ seed: { autoRevert: true } });
    await deploy(releases.v1);
    const failed = await deploy(releases.unhealthy, releases.v1);
    expect(failed.state).toBe('rolled-back');
    expect(failed.error?.code).toBe('UNAVAILABLE');
    expect(failed.error?.message).toMatch(
      /failed its health check.*Failed due to unhealthy allocations - rolling back to job version 1/,
    );
    expect(currentImage()).toBe(ref(releases.v1));
    // Nomad reverted (version 3 is a copy of 1); the target did not revert a second time.
    expect(nomad.versions(jobId).map((version) => version.Version)).toEqual([0, 1, 2, 3]);
    expect(nomad.requestsTo('POST', /\/revert$/)).toHaveLength(0);
    expect(events.find((event) => event.type === 'deploy:rolled-back')).toMatchObject({
      restored: releases.v1,
    });
    expect((await log(failed)).some((line) => line.includes('web 0/2 healthy, 2 unhealthy'))).toBe(true);
  });

  it('rolls back an unhealthy release without auto_revert by reverting to the last stable version', async () => {
    const { deploy, currentImage, nomad } = await setup({ seed: { autoRevert: false } });
    await deploy(releases.v1);
    const failed = await deploy(releases.unhealthy, releases.v1);
    expect(failed.state).toBe('rolled-back');
    expect(currentImage()).toBe(ref(releases.v1));
    const reverts = nomad.requestsTo('POST', /\/revert$/);
    expect(reverts.map((request) => request.body)).toEqual([
      { JobID: jobId, JobVersion: 1, EnforcePriorVersion: 2 },
    ]);
    expect(nomad.job(jobId)?.Version).toBe(3);
  });

  it('reports a crashing release as exited, with the task’s last event', async () => {
    const { deploy, currentImage } = await setup({ seed: { autoRevert: true } });
    await deploy(releases.v1);
    const failed = await deploy(releases.crashing, releases.v1);
    expect(failed.state).toBe('rolled-back');
    expect(failed.error?.message).toMatch(
      /The candidate exited: .*2 of 2 allocations failed .*Not Restarting/,
    );
    expect(currentImage()).toBe(ref(releases.v1));
  });

  it('fails a deployment that never finishes at deploymentTimeoutMs and reverts the job', async () => {
    const { deploy, currentImage, nomad, log } = await setup({ target: { deploymentTimeoutMs: 1_000 } });
    await deploy(releases.v1);
    const failed = await deploy(releases.stuck, releases.v1);
    expect(failed.state).toBe('rolled-back');
    expect(failed.error?.code).toBe('TIMEOUT');
    expect(failed.error?.message).toMatch(
      /did not finish deploying within 1000 ms .*failed deployment \w{8}; reverted job web-app-dev to version 1 \(v1\.0\.0\)/,
    );
    expect(nomad.requestsTo('POST', /^\/v1\/deployment\/fail\//)).toHaveLength(1);
    expect(currentImage()).toBe(ref(releases.v1));
    expect((await log(failed)).some((line) => line.startsWith('gave up after 1000 ms'))).toBe(true);
  });

  it('logs why a blocked placement waits, times out and lets auto_revert take the job back', async () => {
    const { deploy, currentImage, nomad, log } = await setup({
      seed: { autoRevert: true },
      target: { deploymentTimeoutMs: 1_000 },
    });
    await deploy(releases.v1);
    const failed = await deploy(releases.blocked, releases.v1);
    expect(failed.state).toBe('rolled-back');
    expect(failed.error?.code).toBe('TIMEOUT');
    expect(failed.error?.message).toMatch(/Nomad reverted job web-app-dev to version 1 \(auto_revert\)/);
    const lines = await log(failed);
    expect(lines).toContain(
      'group web could not be placed (2 allocations): exhausted memory (1); a blocked evaluation waits for capacity',
    );
    expect(nomad.requestsTo('POST', /\/revert$/)).toHaveLength(0);
    expect(currentImage()).toBe(ref(releases.v1));
  });

  it('promotes healthy canaries itself with promote: auto', async () => {
    const { deploy, nomad, log } = await setup({ seed: { canary: 1 } });
    await deploy(releases.v1);
    const record = await deploy(releases.v2, releases.v1);
    expect(record.state).toBe('succeeded');
    expect(nomad.requestsTo('POST', /^\/v1\/deployment\/promote\//).map((request) => request.body)).toEqual([
      { DeploymentID: expect.any(String), All: true },
      { DeploymentID: expect.any(String), All: true },
    ]);
    const lines = await log(record);
    expect(lines.some((line) => line.includes('canaries 1/1 placed'))).toBe(true);
    expect(lines).toContain('promoted the canaries of web');
    expect(lines.some((line) => line.includes('1 canaries promoted'))).toBe(true);
  });

  it('leaves canaries with auto_promote to Nomad', async () => {
    const { deploy, nomad } = await setup({ seed: { canary: 1, autoPromote: true } });
    expect((await deploy(releases.v1)).state).toBe('succeeded');
    expect(nomad.requestsTo('POST', /^\/v1\/deployment\/promote\//)).toHaveLength(0);
  });

  it('opens an approval after the gate with promote: confirm; approving it promotes the canaries and the deploy completes', async () => {
    const { deploy, store, events, nomad, currentImage, decidePromotions, log } = await setup({
      seed: { canary: 1 },
      target: { promote: 'confirm' },
    });
    decidePromotions('approved');
    const record = await deploy(releases.v1);
    expect(record.state).toBe('succeeded');
    expect(states(record)).toEqual([
      'pending',
      'pulling',
      'starting',
      'health-checking',
      'switching-traffic',
      'succeeded',
    ]);
    expect(currentImage()).toBe(ref(releases.v1));
    expect(nomad.requestsTo('POST', /^\/v1\/deployment\/promote\//)).toHaveLength(1);
    const asked = events.find((event) => event.type === 'deploy:awaiting-confirmation');
    const approvalId = asked?.type === 'deploy:awaiting-confirmation' ? asked.approvalId : '';
    expect(await store.getApproval({ id: approvalId })).toMatchObject({
      kind: 'promotion',
      deployId: record.id,
      status: 'approved',
      release: releases.v1,
    });
    const lines = await log(record);
    expect(lines).toContain('the canaries of version 1 are healthy and wait for their promotion');
    expect(lines).toContain(`v1.0.0 passed its gate and waits for its promotion: approval ${approvalId}`);
    expect(
      lines.some((line) => /^health gate passed: .*canaries healthy, awaiting promotion/.test(line)),
    ).toBe(true);
  });

  it('reverts the canaries when the promotion is rejected', async () => {
    const { deploy, currentImage, nomad, decidePromotions } = await setup({
      seed: { canary: 1 },
      target: { promote: 'confirm' },
    });
    decidePromotions('rejected', 'the error rate is up');
    const failed = await deploy(releases.v1);
    expect(failed.state).toBe('rolled-back');
    expect(failed.error).toMatchObject({
      code: 'ABORTED',
      message: 'ops rejected the promotion of v1.0.0: the error rate is up',
      fault: 'release',
    });
    expect(nomad.requestsTo('POST', /^\/v1\/deployment\/promote\//)).toHaveLength(0);
    expect(nomad.requestsTo('POST', /^\/v1\/deployment\/fail\//)).toHaveLength(1);
    expect(currentImage()).toBe('registry.test/team/web-app:0.9.0');
  });

  it('reverts when nobody decides the promotion in time, and closes its approval', async () => {
    const { deploy, currentImage, nomad, store } = await setup({
      seed: { canary: 1 },
      target: { promote: 'confirm' },
      deadlines: { promotionMs: 300 },
    });
    const failed = await deploy(releases.v1);
    expect(failed.state).toBe('rolled-back');
    expect(failed.error?.code).toBe('TIMEOUT');
    expect(nomad.requestsTo('POST', /^\/v1\/deployment\/promote\//)).toHaveLength(0);
    expect(currentImage()).toBe('registry.test/team/web-app:0.9.0');
    expect(await store.listApprovals({})).toMatchObject([
      {
        kind: 'promotion',
        status: 'closed',
        reason: expect.stringMatching(/^the deploy rolled back: Nobody decided/),
      },
    ]);
  });

  it('makes a new job version for a tag pushed again with the same digest', async () => {
    const { deploy, nomad, log } = await setup();
    await deploy(releases.v1);
    const again = await deploy(releases.v1, releases.v1);
    expect(again.state).toBe('succeeded');
    const versions = nomad.versions(jobId);
    expect(versions.map((version) => version.Version)).toEqual([0, 1, 2]);
    const metas = versions.slice(1).map((version) => version.TaskGroups[0]?.Tasks[0]?.Meta);
    expect(metas.map((meta) => meta?.['docker_watcher.deploy_id'])).toEqual(['deploy-1', 'deploy-2']);
    expect(
      (await log(again)).some(
        (line) => line.includes('runs registry.test/team/web-app@sha256:') && line.includes('already'),
      ),
    ).toBe(true);
  });

  it('brings the proven release back when the proxy switch fails after a healthy deploy', async () => {
    const { deploy, currentImage, proxy, nomad } = await setup();
    await deploy(releases.v1);
    proxy.faults.failNext('ensureRoute', 'UNAVAILABLE');
    const failed = await deploy(releases.v2, releases.v1);
    expect(failed.state).toBe('rolled-back');
    // The healthy candidate was reverted (before the commit point): Nomad's own rollback to v1.
    expect(currentImage()).toBe(ref(releases.v1));
    expect(nomad.requestsTo('POST', /\/revert$/).map((request) => request.body)).toEqual([
      { JobID: jobId, JobVersion: 1, EnforcePriorVersion: 2 },
    ]);
    expect(proxy.routes.find((route) => route.host === host)?.upstream).toEqual(endpoint);
  });

  it('records the plan of each registration with plan: true', async () => {
    const { deploy, log } = await setup({ target: { plan: true } });
    const record = await deploy(releases.v1);
    const lines = await log(record);
    expect(lines).toContain(
      `plan: group web task app.Config.image: "registry.test/team/web-app:0.9.0" → "${ref(releases.v1)}"`,
    );
    expect(lines).toContain('plan: job.Meta.docker_watcher.project: + "web-app"');
    expect(lines).toContain('plan: group web: 2 destructive update');
    expect(lines.indexOf(lines.find((line) => line.startsWith('plan:')) ?? '')).toBeLessThan(
      lines.indexOf(lines.find((line) => line.startsWith('registered job')) ?? ''),
    );
  });
});
