import { compileTagPolicy, createEngine, createMemoryStateStore, type Engine } from '@docker-watcher/core';
import { createCaddyProxy } from '@docker-watcher/proxy-caddy';
import { createOciRegistry } from '@docker-watcher/registry-oci';
import { appPort, type CaddyInstance, dockerClient, startCaddy } from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FixtureRegistry,
  startFixtureRegistry,
  testRun,
  versionThroughCaddy,
} from './support/fixtures.ts';

// A container the daemon restarts comes back on a new published port (`endpoint: address`). The
// target reports the restart from the engine's event stream, and a webhook-only engine whose heal
// timer never fires within the test re-points the real Caddy's route at once.
const run = testRun('restart-healing');
const docker = dockerClient();
const host = 'restart-healing.caddy.test';
// Unique on the shared engine: the target lists every managed container of a project.
const project = `web-${run.id}`;
let fixtures: FixtureRegistry;
let caddy: CaddyInstance;
let engine: Engine | undefined;

beforeAll(async () => {
  fixtures = await startFixtureRegistry({ tags: ['v1'], repository: 'restart-healing/app' });
  caddy = await startCaddy();
}, 120_000);

afterAll(async () => {
  await engine?.stop();
  await run.cleanup();
  await run.removeImages(fixtures.image, () => true);
  await fixtures?.registry.stop();
  await caddy?.stop();
});

const throughCaddy = () => versionThroughCaddy(caddy.httpPort, host);

describe('a container the daemon restarts', () => {
  it('gets its route back at once from a webhook-only engine, long before the heal timer', async () => {
    const target = run.target();
    const proxy = createCaddyProxy({ adminUrl: caddy.adminUrl, server: caddy.serverName, tls: 'off' });
    engine = createEngine({
      projects: [
        {
          id: project,
          registry: 'local',
          repository: 'restart-healing/app',
          stages: {
            dev: {
              policy: compileTagPolicy({ pattern: 'v*' }),
              autoDeploy: true,
              deploy: {
                image: fixtures.image,
                port: appPort,
                host,
                health: { path: '/health', intervalMs: 300, timeoutMs: 2_000, retries: 5, startPeriodMs: 0 },
              },
            },
          },
        },
      ],
      registries: { local: createOciRegistry({ url: fixtures.registry.url }) },
      target,
      proxy,
      store: createMemoryStateStore(),
      pollIntervalMs: 0,
      // Only the reported restart can heal within this test.
      healIntervalMs: 3_600_000,
    });
    // `start` looks at the registry once and deploys v1.
    await engine.start();
    await engine.idle();
    await expect.poll(throughCaddy, { timeout: 60_000, interval: 500 }).toBe('200 v1');
    const [instance] = (await target.list({ project, stage: 'dev' })).filter(
      (item) => item.state === 'running',
    );
    const before = instance!.endpoint!;

    await docker.getContainer(instance!.id).restart({ t: 1 });
    const moved = await target.list({ project, stage: 'dev' });
    expect(moved[0]?.endpoint?.port).not.toBe(before.port);

    await expect.poll(throughCaddy, { timeout: 60_000, interval: 500 }).toBe('200 v1');
    expect((await proxy.getRoute({ host }))?.upstream).toMatchObject(moved[0]!.endpoint!);
  }, 180_000);
});
