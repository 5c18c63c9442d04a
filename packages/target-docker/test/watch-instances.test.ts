import type { InstanceChange } from '@docker-watcher/core';
import { dockerClient, type SocketFaultProxy, startSocketFaultProxy } from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureRegistry, startFixtureRegistry, testRun } from './support/fixtures.ts';

// The engine's event stream breaks whenever the daemon restarts, which is when containers restart:
// a restart while the stream is down must still be reported once it is back.
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
      expect(changes).toEqual([]);
      engineLink.set('pass');
      await expect
        .poll(() => changes.filter((change) => change.id === instance.id && change.state === 'running'), {
          timeout: 60_000,
        })
        .not.toEqual([]);
      expect(changes[0]).toMatchObject({ project: instance.project, stage: 'dev' });
    } finally {
      watching.abort();
    }
  }, 180_000);
});
