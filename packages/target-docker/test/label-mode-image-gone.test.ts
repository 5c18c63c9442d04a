import type { Release } from '@docker-watcher/core';
import { dockerClient, type LocalRegistry, testkitLabel } from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdoptedContainerTarget } from '../src/index.ts';
import { startEngineInterposer } from './support/engine-interposer.ts';
import { testRun } from './support/fixtures.ts';
import { pullImage, runLabelDeploy, startLabelRegistry } from './support/label-deploys.ts';

// A CI job on the same engine removes its tag right after the push, while label mode updates a
// container from that tag: the create finds no image, so the image is pulled and tagged again and
// the create tried once more. Both ways of replacing a container, through an HTTP proxy in front of
// the engine's socket that removes the tag right before the first create.
const run = testRun('label-gone');
const docker = dockerClient();
const repository = `label-gone/${run.id}`;
const own = { [testkitLabel]: 'false', [run.label]: run.id, 'docker-watcher.scope': run.id };
let registry: LocalRegistry;
let image: string;
let v1: Release;
let v2: Release;

beforeAll(async () => {
  ({ registry, image, v1, v2 } = await startLabelRegistry(repository));
  await docker.createNetwork({ Name: run.network, Labels: own });
}, 120_000);

afterAll(async () => {
  await run.cleanup();
  await run.removeImages(image);
  await registry?.stop();
});

/** A user's container on v1 (`image:latest`), opted in, replaced `update`-wise. */
async function userContainer(name: string, update: 'in-place' | 'side-by-side') {
  await pullImage(docker, `${image}:latest`);
  const container = await docker.createContainer({
    name,
    Image: `${image}:latest`,
    Labels: { ...own, 'docker-watcher.enable': 'true', 'docker-watcher.update': update },
    HostConfig: { NetworkMode: run.network, RestartPolicy: { Name: 'unless-stopped' } },
  });
  await container.start();
}

/** Updates `name` to v2 while the interposer removes `image:latest` before the first create. */
async function updateWhileTheTagGoes(name: string) {
  let removed = false;
  const engine = await startEngineInterposer({
    matches: (method, path) => method === 'POST' && path === '/containers/create' && !removed,
    before: async () => {
      removed = true;
      await docker.getImage(`${image}:latest`).remove();
    },
  });
  const target = createAdoptedContainerTarget({
    scope: run.id,
    runningGraceMs: 500,
    stopTimeoutSeconds: 1,
    docker: { socketPath: engine.socketPath },
  });
  try {
    const deploy = await runLabelDeploy({
      target,
      project: name,
      image,
      deployId: `${name}-v2`,
      release: v2,
      previous: v1,
    });
    return { ...deploy, engine };
  } finally {
    await target.dispose();
    await engine.stop();
  }
}

describe('label mode, the tag removed between the pull and the create', () => {
  for (const update of ['in-place', 'side-by-side'] as const) {
    it(`${update}: tags the pulled image again, creates once more, and the update succeeds`, async () => {
      const name = `dw-label-${run.id}-${update}`;
      await userContainer(name, update);
      const { record, log, engine } = await updateWhileTheTagGoes(name);
      expect(engine.hookFailures).toEqual([]);
      expect(record.state, log.join('\n')).toBe('succeeded');
      expect(engine.actedBefore).toEqual(['POST /containers/create']);
      expect(log).toContain('the image went away before the container was created: ensuring it again');
      const after = await docker.getContainer(name).inspect();
      expect(after.State.Running).toBe(true);
      expect(after.Config.Image).toBe(`${image}:latest`);
      expect(after.Config.Labels['docker-watcher.fixture.release']).toBe('v2');
      const beside = log.some((line) => line.includes('beside the old one'));
      expect(beside, log.join('\n')).toBe(update === 'side-by-side');
    }, 120_000);
  }
});
