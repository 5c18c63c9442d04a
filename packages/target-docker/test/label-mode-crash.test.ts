import type { DeployState, Release } from '@docker-watcher/core';
import { dockerClient, type LocalRegistry, testkitLabel } from '@docker-watcher/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { asideName, createAdoptedContainerTarget } from '../src/index.ts';
import { testRun } from './support/fixtures.ts';
import { pullImage, runLabelDeploy, startLabelRegistry } from './support/label-deploys.ts';

// A server killed in the middle of an in-place update: its journal says where the deploy was; the
// next start rolls it back, and exactly one container of that name runs, the old one, on its image.
const run = testRun('label-crash');
const docker = dockerClient();
const repository = `label-crash/${run.id}`;
const name = `dw-label-${run.id}-web`;
const own = { [testkitLabel]: 'false', [run.label]: run.id, 'docker-watcher.scope': run.id };
const target = createAdoptedContainerTarget({ scope: run.id, runningGraceMs: 1_000, stopTimeoutSeconds: 1 });
let registry: LocalRegistry;
let image: string;
let v1: Release;
let v2: Release;
let original: { id: string; image: string };

beforeAll(async () => {
  ({ registry, image, v1, v2 } = await startLabelRegistry(repository));
  await pullImage(docker, `${image}:latest`);
  await docker.createNetwork({ Name: run.network, Labels: own });
}, 120_000);

beforeEach(async () => {
  for (const info of await docker.listContainers({
    all: true,
    filters: { label: [`${run.label}=${run.id}`] },
  }))
    await docker.getContainer(info.Id).remove({ force: true });
  const container = await docker.createContainer({
    name,
    Image: `${image}:latest`,
    Labels: { ...own, 'docker-watcher.enable': 'true', 'docker-watcher.update': 'in-place' },
    HostConfig: { NetworkMode: run.network, RestartPolicy: { Name: 'unless-stopped' } },
  });
  await container.start();
  const info = await container.inspect();
  original = { id: info.Id, image: info.Image };
});

afterAll(async () => {
  await target.dispose();
  await run.cleanup();
  await run.removeImages(image, () => true);
  await registry?.stop();
});

/** A deploy record as the killed server left it, then what the next start does with it. */
async function resume(deployId: string, state: DeployState, data: Record<string, unknown> = {}) {
  const { record } = await runLabelDeploy({
    target,
    project: name,
    image,
    deployId,
    release: v2,
    previous: v1,
    state,
    data,
  });
  return record;
}

async function expectOldOneBack() {
  const named = await docker.listContainers({ all: true, filters: { label: [`${run.label}=${run.id}`] } });
  expect(named.map((c) => c.Names[0])).toEqual([`/${name}`]);
  const info = await docker.getContainer(name).inspect();
  expect(info.Id).toBe(original.id);
  expect(info.Image).toBe(original.image);
  expect(info.State.Running).toBe(true);
}

describe('a server killed mid-update', () => {
  it('after the old container was set aside, before the new one existed', async () => {
    const deployId = 'crash-after-aside';
    await docker.getContainer(original.id).rename({ name: asideName(name, deployId) });
    await docker.getContainer(original.id).stop({ t: 1 });
    const record = await resume(deployId, 'starting');
    expect(record.state).toBe('rolled-back');
    await expectOldOneBack();
  });

  it('while the new container ran its health gate', async () => {
    const deployId = 'crash-in-gate';
    const candidate = await target.start({
      spec: { project: name, stage: 'live', deployId, image, release: v2 },
    });
    expect(candidate.id).not.toBe(original.id);
    const record = await resume(deployId, 'health-checking', { candidate });
    expect(record.state).toBe('rolled-back');
    await expectOldOneBack();
    expect(
      await docker
        .getContainer(candidate.id)
        .inspect()
        .catch(() => undefined),
    ).toBeUndefined();
  });
});
