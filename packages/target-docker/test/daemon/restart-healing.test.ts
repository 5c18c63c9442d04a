import { compileTagPolicy, createEngine, createMemoryStateStore, type Engine } from '@docker-watcher/core';
import { createCaddyProxy } from '@docker-watcher/proxy-caddy';
import { createOciRegistry } from '@docker-watcher/registry-oci';
import {
  appPort,
  type CaddyInstance,
  type PrivateEngine,
  startCaddy,
  startPrivateEngine,
} from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerTarget } from '../../src/index.ts';
import { type FixtureRegistry, startFixtureRegistry, versionThroughCaddy } from '../support/fixtures.ts';

// The Docker daemon itself restarting under a webhook-only server: a private dockerd (the shared one
// must never restart) stops its containers and starts them again (`unless-stopped`), on other host
// ports. The target's event stream breaks with the daemon, reconnects once it is back and reports the
// gap; the engine, with polling off and a heal timer that never fires within the test, re-points the
// real Caddy's route from that report alone.
let daemon: PrivateEngine;
let fixtures: FixtureRegistry;
let caddy: CaddyInstance;
let engine: Engine | undefined;
const repository = 'daemon-healing/app';
const host = 'daemon-healing.caddy.test';
const project = 'daemon-healing';

beforeAll(async () => {
  [daemon, fixtures, caddy] = await Promise.all([
    startPrivateEngine(),
    startFixtureRegistry({ tags: ['v1'], repository }),
    startCaddy(),
  ]);
  await daemon.forwardLoopback(Number(new URL(fixtures.registry.url).port));
}, 120_000);

afterAll(async () => {
  await engine?.stop();
  await daemon?.dispose();
  await fixtures?.registry.stop();
  await caddy?.stop();
});

const throughCaddy = () => versionThroughCaddy(caddy.httpPort, host);

/**
 * Takes the engine's first free host port and gives it back: a fresh daemon hands out ports from the
 * start of its range, so the release deployed next gets the second one, and after the daemon's
 * restart it gets the first one: another port, as after any restart that reshuffles ports.
 */
async function takeFirstHostPort() {
  const image = `${fixtures.image}@${fixtures.releases.v1.digest}`;
  const placeholder = await daemon.docker.createContainer({
    Image: image,
    HostConfig: { PortBindings: { [`${appPort}/tcp`]: [{ HostIp: daemon.publishHost, HostPort: '' }] } },
  });
  await placeholder.start();
  await placeholder.remove({ force: true });
}

describe('the Docker daemon restarting under a webhook-only server', () => {
  it('gets the route back from the reported gap, with polling off and long before the heal timer', async () => {
    const target = createDockerTarget({
      socketPath: daemon.socketPath,
      network: 'dw-daemon-healing',
      publish: true,
      publishHost: daemon.publishHost,
      stopTimeoutSeconds: 1,
    });
    const spec = {
      project,
      stage: 'dev',
      deployId: 'prepull',
      image: fixtures.image,
      release: fixtures.releases.v1,
    };
    await target.pull({ spec });
    await takeFirstHostPort();
    const proxy = createCaddyProxy({ adminUrl: caddy.adminUrl, server: caddy.serverName, tls: 'off' });
    engine = createEngine({
      projects: [
        {
          id: project,
          registry: 'local',
          repository,
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
      // Only the reported gap can heal within this test.
      healIntervalMs: 3_600_000,
    });
    // `start` looks at the registry once and deploys v1.
    await engine.start();
    await engine.idle();
    await expect.poll(throughCaddy, { timeout: 60_000, interval: 500 }).toBe('200 v1');
    const [before] = await target.list({ project, stage: 'dev' });
    expect(before?.state).toBe('running');

    await daemon.stop();
    await daemon.start();
    // The daemon starts its `unless-stopped` container again, on another host port.
    await expect
      .poll(async () => (await target.list({ project, stage: 'dev' }))[0]?.state, { timeout: 60_000 })
      .toBe('running');
    const [after] = await target.list({ project, stage: 'dev' });
    expect(after?.id).toBe(before?.id);
    expect(after?.endpoint?.port).not.toBe(before?.endpoint?.port);

    await expect.poll(throughCaddy, { timeout: 60_000, interval: 500 }).toBe('200 v1');
    expect((await proxy.getRoute({ host }))?.upstream).toMatchObject(after!.endpoint!);
  }, 240_000);
});
