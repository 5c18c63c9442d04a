import type { Instance } from '@docker-watcher/core';
import { describeDeployTarget } from '@docker-watcher/core/testing/vitest';
import { appPort, dockerClient } from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe } from 'vitest';
import { type FixtureRegistry, startFixtureRegistry, testRun } from './support/fixtures.ts';

// The real engine and the testkit's fixture app, pulled by digest from a local registry.
const run = testRun('conformance');
let fixtures: FixtureRegistry;
const docker = dockerClient();

/** What a restart policy or `docker restart` does behind the target's back. */
const restart = async (instance: Instance) => {
  await docker.getContainer(instance.id).restart({ t: 1 });
};

beforeAll(async () => {
  fixtures = await startFixtureRegistry({ tags: ['v1', 'unhealthy', 'crash'] });
});

afterAll(async () => {
  await run.cleanup();
  // The kit names projects `conformance-<unique>`; their pull markers go too.
  await run.removeImages(fixtures.image, (reference) =>
    reference.startsWith('docker-watcher-pulled/conformance-'),
  );
  await fixtures?.registry.stop();
});

describe('target:docker on Docker Engine', () => {
  describeDeployTarget({
    name: 'target:docker (published on loopback)',
    create: () => ({
      target: run.target(),
      image: fixtures.image,
      releases: {
        good: fixtures.releases.v1,
        unhealthy: fixtures.releases.unhealthy,
        crashing: fixtures.releases.crash,
      },
      port: appPort,
      health: { path: '/health', intervalMs: 200, timeoutMs: 1_000, retries: 3, startPeriodMs: 0 },
      settleTimeoutMs: 20_000,
      restart,
    }),
    skip: {
      'endpoint-stable-across-restart':
        'with `endpoint: address` a restarted container gets a new published port: the `endpoint: name` harness below runs the case, and test/restart-healing.test.ts proves the engine re-points such a route at once',
    },
  });

  describeDeployTarget({
    name: "target:docker (endpoint: name, image's own HEALTHCHECK, port from EXPOSE)",
    create: () => ({
      target: run.target({ endpoint: 'name' }),
      image: fixtures.image,
      releases: {
        good: fixtures.releases.v1,
        unhealthy: fixtures.releases.unhealthy,
        crashing: fixtures.releases.crash,
      },
      health: { intervalMs: 250, timeoutMs: 1_000, retries: 3, startPeriodMs: 0 },
      settleTimeoutMs: 20_000,
      restart,
    }),
  });
});
