import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { fixture } from '../test/support/fixtures.ts';
import {
  allocationHealth,
  autoPromotes,
  canariesReady,
  deadAllocations,
  deploymentHealth,
  groupsAwaitingPromotion,
  placementFailures,
  progressLine,
} from './_deployment.ts';
import {
  allocationsSchema,
  deploymentSchema,
  deploymentsSchema,
  evaluationSchema,
  latestDeploymentSchema,
  type NomadAllocation,
  type NomadDeployment,
} from './_nomad-types.ts';

// The docs' samples: the latest deployment has 2 of 2 canaries placed and healthy, not promoted.
const latest = (): NomadDeployment => v.parse(deploymentSchema, fixture('job-latest-deployment.json'));

describe('deployment samples', () => {
  it('parse with the schemas the target uses', () => {
    expect(v.parse(latestDeploymentSchema, null)).toBe(null);
    expect(v.parse(deploymentsSchema, fixture('job-deployments.json'))).toHaveLength(2);
    expect(v.parse(deploymentSchema, fixture('deployment.json')).Status).toBe('running');
    expect(v.parse(evaluationSchema, fixture('evaluation.json')).Status).toBe('blocked');
    expect(v.parse(allocationsSchema, fixture('deployment-allocations.json'))).toHaveLength(1);
    expect(v.parse(allocationsSchema, fixture('job-allocations.json'))).toHaveLength(1);
  });

  it('progressLine shows the counts of every group', () => {
    expect(progressLine(latest())).toBe(
      'deployment 85ee4a9a of version 1 running (Deployment is running): cache 2/3 healthy, canaries 2/2 placed',
    );
    const [, done] = v.parse(deploymentsSchema, fixture('job-deployments.json'));
    expect(progressLine(done!)).toBe(
      'deployment fb6070fb of version 0 successful (Deployment completed successfully): cache 3/3 healthy',
    );
  });

  it('tells canaries waiting for promotion, and whether they are ready', () => {
    const deployment = latest();
    expect(groupsAwaitingPromotion(deployment)).toEqual(['cache']);
    expect(canariesReady(deployment)).toBe(true);
    expect(autoPromotes(deployment)).toBe(false);
    const notYet = v.parse(deploymentSchema, fixture('deployment.json'));
    expect(groupsAwaitingPromotion(notYet)).toEqual(['cache']);
    expect(canariesReady(notYet)).toBe(false);
    deployment.TaskGroups!.cache!.Promoted = true;
    expect(groupsAwaitingPromotion(deployment)).toEqual([]);
  });
});

describe('deploymentHealth', () => {
  const facts = { current: true, currentVersion: 1 };

  it('maps successful to healthy, running to starting, failed and cancelled to unhealthy', () => {
    const deployment = latest();
    expect(deploymentHealth(deployment, facts)).toEqual({
      status: 'starting',
      detail: `${progressLine(deployment)}; canaries healthy, awaiting promotion`,
    });
    for (const status of ['pending', 'initializing', 'paused', 'blocked', 'unblocking']) {
      expect(deploymentHealth({ ...deployment, Status: status }, facts).status).toBe('starting');
    }
    expect(deploymentHealth({ ...deployment, Status: 'successful' }, facts).status).toBe('healthy');
    expect(deploymentHealth({ ...deployment, Status: 'failed' }, facts).status).toBe('unhealthy');
    expect(deploymentHealth({ ...deployment, Status: 'cancelled' }, facts).status).toBe('unhealthy');
  });

  it('says when the job moved on, and exited when every allocation died', () => {
    const failed = {
      ...latest(),
      Status: 'failed',
      StatusDescription: 'Failed due to unhealthy allocations',
    };
    expect(deploymentHealth(failed, { current: false, currentVersion: 2 }).detail).toMatch(
      /; the job is at version 2 now$/,
    );
    expect(deploymentHealth(failed, { ...facts, dead: '2 of 2 allocations failed' })).toMatchObject({
      status: 'exited',
    });
    expect(
      deploymentHealth({ ...latest(), Status: 'successful' }, { current: false, currentVersion: 4 }),
    ).toEqual({
      status: 'exited',
      detail: 'job version 1 was replaced by version 4',
    });
  });
});

describe('allocations', () => {
  const sample = (): NomadAllocation =>
    v.parse(allocationsSchema, fixture('deployment-allocations.json'))[0]!;

  it('deadAllocations explains a release whose allocations all failed', () => {
    const running = sample();
    expect(deadAllocations([running])).toBe(undefined);
    const failed = { ...sample(), ClientStatus: 'failed' };
    failed.TaskStates!.redis!.Events!.push({ Type: 'Terminated', ExitCode: 137 });
    expect(deadAllocations([failed, { ...failed, ClientStatus: 'complete' }])).toBe(
      '1 of 2 allocations failed (287b65cc failed: Terminated: exit code 137)',
    );
    expect(deadAllocations([])).toBe(undefined);
  });

  it('allocationHealth judges a version without deployment by its allocations', () => {
    expect(allocationHealth([], 3).status).toBe('starting');
    expect(allocationHealth([sample()], 3)).toEqual({
      status: 'healthy',
      detail: 'version 3 has no deployment: 1 allocations running',
    });
    expect(allocationHealth([sample(), { ...sample(), ClientStatus: 'pending' }], 3).status).toBe('starting');
    expect(allocationHealth([sample(), { ...sample(), ClientStatus: 'failed' }], 3).status).toBe('unhealthy');
  });
});

describe('placementFailures', () => {
  it('explains the sample evaluation and the sample plan', () => {
    const evaluation = v.parse(evaluationSchema, fixture('evaluation.json'));
    expect(placementFailures(evaluation.FailedTGAllocs ?? {})).toEqual([
      'group cache could not be placed: 0 nodes evaluated',
    ]);
    const plan = fixture<{ FailedTGAllocs: Record<string, never> }>('job-plan-response.json');
    expect(placementFailures(plan.FailedTGAllocs)).toEqual([
      'group cache could not be placed (4 allocations): exhausted cpu (1)',
    ]);
  });
});
