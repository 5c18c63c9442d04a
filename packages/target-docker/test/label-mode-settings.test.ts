import { createEngine, createMemoryStateStore, type Engine, type StateStore } from '@docker-watcher/core';
import { createOciRegistry } from '@docker-watcher/registry-oci';
import { appFixture, dockerClient, pushImage, startRegistry, testkitLabel } from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adoptedDeployId,
  createAdoptedContainerTarget,
  discoverLabelledContainers,
  labelledProjects,
  seedLabelledStage,
} from '../src/index.ts';
import { testRun } from './support/fixtures.ts';
import { pullImage } from './support/label-deploys.ts';

// What the engine shows of label mode's stage settings: the old container is stopped with
// `docker-watcher.stop-timeout`, over the container's own stop timeout; the image it ran stays for
// the grace period (a rollback then needs no registry), and is removed after it.
const run = testRun('label-settings');
const docker = dockerClient();
const repository = `label-settings/${run.id}`;
const name = `dw-label-${run.id}-slow-stop`;
const scope = run.id;
let registry: Awaited<ReturnType<typeof startRegistry>>;
let image: string;
let store: StateStore;
let engine: Engine | undefined;
/** The image the slow-stopping container ran before its update. */
let firstImage = '';
// The target's own default would be short too: only the label can give the old container its time.
// The previous image is kept for the default 10 min.
const target = createAdoptedContainerTarget({ runningGraceMs: 1_000, stopTimeoutSeconds: 1, scope });
const own = { [testkitLabel]: 'false', [run.label]: run.id };

// A second stage, in its own scope and repository, whose target keeps no previous image.
const quick = {
  scope: `${run.id}-quick`,
  repository: `label-settings/${run.id}-quick`,
  name: `dw-label-${run.id}-quick`,
  target: createAdoptedContainerTarget({
    runningGraceMs: 1_000,
    stopTimeoutSeconds: 1,
    scope: `${run.id}-quick`,
    keepPreviousImage: 0,
  }),
  store: createMemoryStateStore(),
  engine: undefined as Engine | undefined,
};

const push = (release: 'v1' | 'v2', to = repository) =>
  pushImage(registry, { source: appFixture(release).ref, repository: to, tag: 'latest' });

/**
 * Pushes an image of its own as `latest` of `to`: the fixture's v1 plus a label, so that no other
 * test's container runs it, and nothing but this file's containers keeps it in use.
 */
async function pushOwnImage(to: string) {
  const base = await docker.createContainer({ Image: appFixture('v1').ref, Labels: own });
  const local = `dw-test-${run.id}/${to.replaceAll('/', '-')}`;
  await base.commit({ repo: local, tag: 'v1', changes: [`LABEL ${run.label}.image=${to}`] });
  await base.remove({ force: true });
  await pushImage(registry, { source: `${local}:v1`, repository: to, tag: 'latest' });
  await docker.getImage(`${local}:v1`).remove();
}

const pull = (reference: string) => pullImage(docker, reference);

/** An engine over the labelled stages of one scope, each seeded with what its container runs. */
async function engineFor(
  adopted: ReturnType<typeof createAdoptedContainerTarget>,
  stateStore: StateStore,
  inScope: string,
) {
  const discovery = await discoverLabelledContainers({ docker, options: { scope: inScope } });
  for (const stage of discovery.stages) {
    const running = (await adopted.list({ project: stage.project, stage: stage.stage })).find(
      (instance) => instance.deployId === adoptedDeployId,
    );
    await seedLabelledStage(stateStore, stage, running!.release);
  }
  const made = createEngine({
    projects: labelledProjects(discovery.stages, () => 'local', {
      intervalMs: 500,
      timeoutMs: 20_000,
      retries: 2,
    }),
    registries: { local: createOciRegistry({ url: registry.url }) },
    target: adopted,
    store: stateStore,
    pollIntervalMs: 0,
  });
  await made.start();
  return made;
}

/** The references of `repo` the engine has to an image (none when the image is gone). */
const referencesOf = async (imageId: string, repo: string) => {
  const info = await docker
    .getImage(imageId)
    .inspect()
    .catch(() => undefined);
  return [...(info?.RepoTags ?? []), ...(info?.RepoDigests ?? [])].filter((ref) =>
    ref.startsWith(`${registry.host}/${repo}`),
  );
};

beforeAll(async () => {
  registry = await startRegistry();
  image = `${registry.host}/${repository}`;
  await pushOwnImage(repository);
  await pushOwnImage(quick.repository);
  await pull(`${image}:latest`);
  await pull(`${registry.host}/${quick.repository}:latest`);
  await docker.createNetwork({ Name: run.network, Labels: own });
  const quickContainer = await docker.createContainer({
    name: quick.name,
    Image: `${registry.host}/${quick.repository}:latest`,
    Labels: { ...own, 'docker-watcher.scope': quick.scope, 'docker-watcher.enable': 'true' },
    HostConfig: { NetworkMode: run.network },
  });
  await quickContainer.start();
  const container = await docker.createContainer({
    name,
    Image: `${image}:latest`,
    // Shutting down takes 3 s here (it exits 0 after); its own stop timeout allows 1 s only.
    Entrypoint: [
      '/bin/busybox',
      'sh',
      '-c',
      "trap '/bin/busybox sleep 3; exit 0' TERM; /bin/busybox httpd -f -p 8080 -h /www & wait",
    ],
    StopTimeout: 1,
    Labels: {
      ...own,
      'docker-watcher.scope': scope,
      'docker-watcher.enable': 'true',
      'docker-watcher.stop-timeout': '60',
    },
    HostConfig: { NetworkMode: run.network },
  });
  await container.start();
  store = createMemoryStateStore();
  engine = await engineFor(target, store, scope);
  quick.engine = await engineFor(quick.target, quick.store, quick.scope);
}, 120_000);

afterAll(async () => {
  await engine?.stop();
  await quick.engine?.stop();
  await target.dispose();
  await quick.target.dispose();
  // Its images carry this run's labels, so the containers updated onto an image without them lost
  // them (labels equal to the old image's are the image's): removed by name as well.
  for (const container of [name, quick.name])
    await docker
      .getContainer(container)
      .remove({ force: true, v: true })
      .catch(() => undefined);
  await run.cleanup();
  await run.removeImages(image, () => true);
  await run.removeImages(`${registry.host}/${quick.repository}`, () => true);
  await registry?.stop();
});

describe('stage settings from labels, on a real engine', () => {
  it('gives the old container the stop timeout of its label', async () => {
    const old = await docker.getContainer(name).inspect();
    firstImage = old.Image;
    expect(old.Config.Labels['docker-watcher.stop-timeout']).toBe('60');
    await push('v2');
    await engine!.pollOnce();
    await engine!.idle();
    expect((await store.listDeploys({})).map((d) => d.state)).toEqual(['succeeded']);
    // The engine's record of how the old container ended: its own 1 s would have killed it (137).
    const since = Math.floor(Date.parse(old.State.StartedAt) / 1000);
    const events = await new Promise<string>((resolve, reject) => {
      docker.getEvents(
        {
          since,
          until: Math.ceil(Date.now() / 1000) + 1,
          filters: { container: [old.Id], event: ['die'] },
        },
        (error, stream) => {
          if (error || !stream) return reject(error ?? new Error('no events stream'));
          let text = '';
          stream.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          stream.on('end', () => resolve(text));
          stream.on('error', reject);
        },
      );
    });
    const died = events
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { Actor: { Attributes: Record<string, string> } });
    expect(died.map((event) => event.Actor.Attributes.exitCode)).toEqual(['0']);
  });

  it('removes the previous image once the grace period is over (here: none)', async () => {
    const old = await docker.getContainer(quick.name).inspect();
    expect(await referencesOf(old.Image, quick.repository)).not.toEqual([]);
    await push('v2', quick.repository);
    await quick.engine!.pollOnce();
    await quick.engine!.idle();
    expect((await quick.store.listDeploys({})).map((d) => d.state)).toEqual(['succeeded']);
    // Nothing else named it: the image is gone.
    const present = () =>
      docker
        .getImage(old.Image)
        .inspect()
        .then(() => true)
        .catch(() => false);
    await expect.poll(present, { timeout: 60_000 }).toBe(false);
  });

  it('keeps the previous image for the grace period: a rollback in it needs no registry', async () => {
    expect(await referencesOf(firstImage, repository)).not.toEqual([]);
    await registry.stop();
    const rollback = await engine!.rollback({ project: name, stage: 'live' });
    await engine!.idle();
    expect((await store.getDeploy({ id: rollback.id }))?.state).toBe('succeeded');
    const after = await docker.getContainer(name).inspect();
    expect(after.State.Running).toBe(true);
    expect(after.Config.Labels['docker-watcher.fixture.release']).toBe('v1');
  });
});
