import {
  createEventBus,
  createMemoryStateStore,
  defaultHealthCheck,
  type Release,
} from '@docker-watcher/core';
import { runDeploy } from '@docker-watcher/core/testing';
import { appFixture, dockerClient, pushImage, startRegistry, testkitLabel } from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdoptedContainerTarget } from '../src/index.ts';
import { type EngineInterposer, startEngineInterposer } from './support/engine-interposer.ts';
import { testRun } from './support/fixtures.ts';

// A CI job on the same engine removes its tag right after the push, while label mode updates a
// container from that tag: the create finds no image, so the image is pulled and tagged again and
// the create tried once more. Both ways of replacing a container, through an HTTP proxy in front of
// the engine's socket that removes the tag right before the first create.
const run = testRun('label-gone');
const docker = dockerClient();
const repository = `label-gone/${run.id}`;
const own = { [testkitLabel]: 'false', [run.label]: run.id, 'docker-watcher.scope': run.id };
let registry: Awaited<ReturnType<typeof startRegistry>>;
let image: string;
let v1: Release;
let v2: Release;

beforeAll(async () => {
  registry = await startRegistry();
  image = `${registry.host}/${repository}`;
  v2 = {
    tag: 'latest',
    digest: (await pushImage(registry, { source: appFixture('v2').ref, repository, tag: 'v2' })).digest,
  };
  v1 = {
    tag: 'latest',
    digest: (await pushImage(registry, { source: appFixture('v1').ref, repository, tag: 'latest' })).digest,
  };
  await docker.createNetwork({ Name: run.network, Labels: own });
}, 120_000);

afterAll(async () => {
  await run.cleanup();
  await run.removeImages(image, () => true);
  await registry?.stop();
});

const pull = (reference: string) =>
  new Promise<void>((resolve, reject) =>
    docker.pull(reference, (error: unknown, stream: NodeJS.ReadableStream) =>
      error ? reject(error) : docker.modem.followProgress(stream, (e) => (e ? reject(e) : resolve())),
    ),
  );

/** A user's container on v1 (`image:latest`), opted in, replaced `update`-wise. */
async function userContainer(name: string, update: 'in-place' | 'side-by-side') {
  await pull(`${image}:latest`);
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
  const engine: EngineInterposer = await startEngineInterposer({
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
    const store = createMemoryStateStore();
    const deployId = `${name}-v2`;
    await store.createDeploy({
      deploy: {
        id: deployId,
        project: name,
        stage: 'live',
        release: v2,
        previous: v1,
        trigger: 'auto',
        state: 'pending',
        data: {},
      },
    });
    const record = await runDeploy(
      { store, target, bus: createEventBus() },
      { deployId, settings: { image, strategy: 'blue-green', health: defaultHealthCheck } },
    );
    const log = (await store.readLog({ deployId })).map((line) => line.line);
    return { record, log, engine };
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
    });
  }
});
