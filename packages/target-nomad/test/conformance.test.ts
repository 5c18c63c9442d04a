import { describeDeployTarget } from '@docker-watcher/core/testing/vitest';
import { createNomadTarget, type NomadTargetOptions } from '../src/index.ts';
import { type FakeJobSeed, startFakeNomad } from './support/fake-nomad.ts';
import { image, releases } from './support/fixtures.ts';

// The kit names its projects `conformance-<unique>`: the fake creates a job for each on first use,
// as if the platform team had registered them, version 0 stable and serving an older release.
function harness(seed: Omit<FakeJobSeed, 'id' | 'image'>, options: Partial<NomadTargetOptions> = {}) {
  return async () => {
    const token = 'conformance-token-3f1e';
    const nomad = await startFakeNomad({
      tokens: { [token]: 'write' },
      jobTemplate: (id) =>
        id.startsWith('conformance-') ? { id, image: `${image}:0.9.0`, ...seed } : undefined,
    });
    nomad.behave(releases.unhealthy.digest, 'unhealthy');
    nomad.behave(releases.crashing.digest, 'crashing');
    const target = createNomadTarget({
      address: nomad.url,
      token,
      jobs: {
        '*': { job: '{project}-{stage}', endpoint: { host: '{project}-{stage}.service.consul', port: 8080 } },
      },
      blockingQueryWaitMs: 2_000,
      deploymentTimeoutMs: 10_000,
      ...options,
    });
    return {
      target,
      image,
      releases: { good: releases.v1, unhealthy: releases.unhealthy, crashing: releases.crashing },
      health: { intervalMs: 10, timeoutMs: 1_000, retries: 2, startPeriodMs: 0 },
      settleTimeoutMs: 5_000,
      dispose: () => nomad.close(),
    };
  };
}

describeDeployTarget({
  name: 'target:nomad (rolling update, auto_revert)',
  create: harness({ autoRevert: true }),
});

describeDeployTarget({
  name: 'target:nomad (canaries promoted by the target, no auto_revert, namespace)',
  create: harness({ canary: 1, namespace: 'apps' }, { namespace: 'apps', promote: 'auto' }),
});

describeDeployTarget({
  name: 'target:nomad (canaries promoted after a confirmation, no auto_revert)',
  create: async () => ({
    ...(await harness({ canary: 1 }, { promote: 'confirm' })()),
    awaitsPromotion: true,
  }),
});
