import type { Release } from '@docker-watcher/core';
import {
  appFixture,
  buildFixtureImage,
  dockerClient,
  type LocalRegistry,
  testkitLabel,
} from '@docker-watcher/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAdoptedContainerTarget } from '../src/index.ts';
import { keepRepository } from '../src/labels/previous-images.ts';
import { testRun } from './support/fixtures.ts';
import { pullImage, runLabelDeploy, startLabelRegistry } from './support/label-deploys.ts';

// The image a labelled container ran before an update is kept for a grace period, then removed:
// also when the server stopped within that period. Its waiting removal is marked on the engine, so
// a target created afterwards (the restarted server) removes the image when it is due.
const run = testRun('label-keep');
const docker = dockerClient();
const repository = `label-keep/${run.id}`;
// A name too long to be spelled out in the mark's repository (255 characters): it is marked by its hash.
const name = `dw-label-${run.id}-web-${'long'.repeat(30)}`;
/** A project name may have 63 characters: this one is given by label. */
const project = `keep-${run.id}`;
const own = { [testkitLabel]: 'false', [run.label]: run.id, 'docker-watcher.scope': run.id };
const options = { scope: run.id, runningGraceMs: 1_000, stopTimeoutSeconds: 1, keepPreviousImage: 3_000 };
/** This container's marks; other runs' containers may mark the same fixture image. */
const mark = `${keepRepository(name)}:`;
const ownV1 = {
  ref: `dw-test/label-keep:${run.id}`,
  dockerfile: `FROM ${appFixture('v1').ref}\nLABEL docker-watcher-test.keep="${run.id}"\n`,
  files: {},
};
const targets: Array<ReturnType<typeof createAdoptedContainerTarget>> = [];
let registry: LocalRegistry;
let image: string;
let v1: Release;
let v2: Release;

beforeAll(async () => {
  // v1 as an image of this run's own: the fixture's is used by other runs' containers, which keeps it.
  await buildFixtureImage(docker, ownV1);
  ({ registry, image, v1, v2 } = await startLabelRegistry(repository, { v1Source: ownV1.ref }));
  await pullImage(docker, `${image}:latest`);
  await docker.createNetwork({ Name: run.network, Labels: own });
  const container = await docker.createContainer({
    name,
    Image: `${image}:latest`,
    Labels: { ...own, 'docker-watcher.enable': 'true', 'docker-watcher.project': project },
    HostConfig: { NetworkMode: run.network },
  });
  await container.start();
}, 120_000);

afterAll(async () => {
  for (const target of targets) await target.dispose();
  await run.cleanup();
  await run.removeImages(image, () => true);
  await docker
    .getImage(ownV1.ref)
    .remove()
    .catch(() => undefined);
  await registry?.stop();
});

it('removes the previous image when its grace period ends after a restart', async () => {
  const before = await docker.getContainer(name).inspect();
  const first = createAdoptedContainerTarget(options);
  targets.push(first);
  const { record } = await runLabelDeploy({
    target: first,
    project,
    image,
    deployId: 'keep-1',
    release: v2,
    previous: v1,
  });
  expect(record.state, record.error?.message).toBe('succeeded');
  // Marked on the engine, then the server stops within the grace period: its timer goes with it.
  const references = async () => {
    const info = await docker
      .getImage(before.Image)
      .inspect()
      .catch(() => undefined);
    return [...(info?.RepoTags ?? []), ...(info?.RepoDigests ?? [])].filter(
      (ref) => ref.startsWith(`${image}`) || ref.startsWith(mark),
    );
  };
  expect((await references()).some((ref) => ref.startsWith(mark))).toBe(true);
  await first.dispose();
  expect(await references()).not.toEqual([]);

  // Nothing else of this stage names it (the testkit's fixture tag may): its references go.
  targets.push(createAdoptedContainerTarget(options));
  await expect.poll(references, { timeout: 60_000, interval: 500 }).toEqual([]);
}, 180_000);
