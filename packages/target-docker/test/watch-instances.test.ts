import type { InstanceChange } from '@docker-watcher/core';
import {
  appFixture,
  appPort,
  dockerClient,
  type SocketFaultProxy,
  startSocketFaultProxy,
  testkitLabel,
} from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureRegistry, startFixtureRegistry, testRun } from './support/fixtures.ts';

// How a route survives a container restart: with `endpoint: name` it never moves; otherwise the
// target reports the restart. The engine's event stream breaks whenever the daemon restarts, which
// is when containers restart: a restart while the stream is down must still be reported once it is back.
const run = testRun('watch-instances');
const docker = dockerClient();
let fixtures: FixtureRegistry;
let engineLink: SocketFaultProxy;

beforeAll(async () => {
  fixtures = await startFixtureRegistry({ tags: ['v1'], repository: 'watch-instances/app' });
  engineLink = await startSocketFaultProxy();
}, 120_000);

afterAll(async () => {
  await run.cleanup();
  await run.removeImages(fixtures.image, () => true);
  await fixtures?.registry.stop();
  await engineLink?.stop();
});

describe('watchInstances', () => {
  it('reports a restart that happened while the event stream was cut, once the engine answers again', async () => {
    const target = run.target({ dockerHost: engineLink.url });
    const instance = await target.start({
      spec: {
        project: `watch-${run.id}`,
        stage: 'dev',
        deployId: `deploy-${run.id}`,
        image: fixtures.image,
        release: fixtures.releases.v1,
      },
    });
    const changes: InstanceChange[] = [];
    const watching = new AbortController();
    try {
      await target.watchInstances({ signal: watching.signal, onChange: (change) => changes.push(change) });
      engineLink.set('reset');
      await expect.poll(() => engineLink.faulted.get('reset') ?? 0, { timeout: 30_000 }).toBeGreaterThan(0);
      await docker.getContainer(instance.id).restart({ t: 1 });
      expect(changes.filter((change) => change.id === instance.id)).toEqual([]);
      engineLink.set('pass');
      await expect
        .poll(() => changes.filter((change) => change.id === instance.id && change.state === 'running'), {
          timeout: 60_000,
        })
        .not.toEqual([]);
      // Other test runs' managed containers on the shared engine may be reported too.
      expect(changes.find((change) => change.id === instance.id)).toMatchObject({
        project: instance.project,
        stage: 'dev',
      });
    } finally {
      watching.abort();
    }
  }, 180_000);
});

describe('endpoint: name', () => {
  it("is the container's name, which another container on the network reaches through Docker's DNS", async () => {
    const target = run.target({ endpoint: 'name' });
    const spec = {
      project: `name-${run.id}`,
      stage: 'dev',
      deployId: `deploy-name-${run.id}`,
      image: fixtures.image,
      release: fixtures.releases.v1,
      port: appPort,
    };
    const instance = await target.start({ spec });
    const name = (await docker.getContainer(instance.id).inspect()).Name.replace(/^\//, '');
    expect(instance.endpoint).toEqual({ host: name, port: appPort });
    const [listed] = await target.list({ project: spec.project });
    expect(listed?.endpoint).toEqual(instance.endpoint);
    // A proxy in a container on the same network, as Caddy or NPM in a compose project.
    const client = await docker.createContainer({
      Image: appFixture('v1').ref,
      Entrypoint: ['/bin/busybox', 'wget', '-q', '-O', '-', `http://${name}:${appPort}/version`],
      Labels: { [testkitLabel]: 'false', [run.label]: run.id },
      HostConfig: { NetworkMode: run.network },
    });
    await client.start();
    const { StatusCode } = (await client.wait()) as { StatusCode: number };
    const output = (await client.logs({ stdout: true, stderr: true })).toString('utf8');
    expect({ StatusCode, served: output.includes('v1') }).toEqual({ StatusCode: 0, served: true });
  }, 120_000);
});
