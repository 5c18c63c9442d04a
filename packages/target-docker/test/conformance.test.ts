import { describeDeployTarget } from '@docker-watcher/core/testing/vitest';
import { appPort } from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe } from 'vitest';
import { type FixtureRegistry, startFixtureRegistry, testRun } from './support/fixtures.ts';

// The real engine and the testkit's fixture app, pulled by digest from a local registry.
const run = testRun('conformance');
let fixtures: FixtureRegistry;

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
    }),
  });

  describeDeployTarget({
    name: "target:docker (image's own HEALTHCHECK, port from EXPOSE)",
    create: () => ({
      target: run.target(),
      image: fixtures.image,
      releases: {
        good: fixtures.releases.v1,
        unhealthy: fixtures.releases.unhealthy,
        crashing: fixtures.releases.crash,
      },
      health: { intervalMs: 250, timeoutMs: 1_000, retries: 3, startPeriodMs: 0 },
      settleTimeoutMs: 20_000,
    }),
  });
});
