import { PassThrough } from 'node:stream';
import {
  createEngine,
  createMemoryStateStore,
  type DeployRecord,
  type Engine,
  type StateStore,
} from '@docker-watcher/core';
import { createOciRegistry } from '@docker-watcher/registry-oci';
import { appFixture, dockerClient, pushImage, startRegistry, testkitLabel } from '@docker-watcher/testkit';
import type Docker from 'dockerode';
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

// Containers that depend on a labelled one follow it when it is replaced, on the real engine: a
// sidecar in its network namespace (`--network container:<it>`) and one with a legacy link to it
// (`--link <it>:app`) are created again pointing at the new container after an update, and at the
// old one again after a rollback. Each proves it by asking, from inside, what the labelled one serves.
const run = testRun('label-dependents');
const docker = dockerClient();
const repository = `label-dependents/${run.id}`;
const name = `dw-label-${run.id}-web`;
const sidecar = `${name}-sidecar`;
const linker = `${name}-linker`;
const own = { [testkitLabel]: 'false', [run.label]: run.id, 'docker-watcher.scope': run.id };
const target = createAdoptedContainerTarget({ scope: run.id, runningGraceMs: 1_000, stopTimeoutSeconds: 1 });
let registry: Awaited<ReturnType<typeof startRegistry>>;
let image: string;
let store: StateStore;
let engine: Engine | undefined;

const push = (release: 'v1' | 'v2' | 'unhealthy') =>
  pushImage(registry, { source: appFixture(release).ref, repository, tag: 'latest' });

/** A busybox that waits, in the fixture image (not the labelled repository: its tag never moves). */
const waiting = {
  Image: appFixture('v1').ref,
  Entrypoint: ['/bin/busybox', 'sh', '-c', "trap 'exit 0' TERM INT; /bin/busybox sleep 3600 & wait"],
  Labels: own,
};

/** What `wget` inside `container` reads at `url`, or '' when it cannot (no network, not running). */
async function readInside(container: string, url: string): Promise<string> {
  try {
    const exec = await docker.getContainer(container).exec({
      // busybox's own `wget -T` crashes in this build: `timeout` bounds it instead.
      Cmd: ['/bin/busybox', 'timeout', '5', '/bin/busybox', 'wget', '-q', '-O', '-', url],
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await exec.start({ hijack: true, stdin: false });
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (chunk: Buffer) => chunks.push(chunk));
    docker.modem.demuxStream(stream, out, new PassThrough());
    await new Promise((resolve, reject) => stream.on('end', resolve).on('error', reject));
    return Buffer.concat(chunks).toString().trim();
  } catch {
    return '';
  }
}

const fromSidecar = () => readInside(sidecar, 'http://127.0.0.1:8080/version');
const fromLinker = () => readInside(linker, 'http://app:8080/version');
const inspect = (id: string) => docker.getContainer(id).inspect();
const names = async () =>
  (await docker.listContainers({ all: true, filters: { label: [`${run.label}=${run.id}`] } }))
    .map((c) => c.Names[0])
    .sort();

async function pollAndSettle(): Promise<DeployRecord[]> {
  await engine!.pollOnce();
  await engine!.idle();
  return store.listDeploys({});
}

/** Both dependents run, point at `web`, and reach it from inside. */
async function expectFollowing(web: Docker.ContainerInspectInfo, version: string) {
  const side = await inspect(sidecar);
  expect(side.State.Running).toBe(true);
  expect(side.HostConfig.NetworkMode).toBe(`container:${web.Id}`);
  await expect.poll(fromSidecar, { timeout: 60_000 }).toBe(version);
  const linked = await inspect(linker);
  expect(linked.State.Running).toBe(true);
  expect(linked.HostConfig.Links).toEqual([`/${name}:/${linker}/app`]);
  await expect.poll(fromLinker, { timeout: 60_000 }).toBe(version);
  expect(await names()).toEqual([`/${name}`, `/${linker}`, `/${sidecar}`].sort());
}

beforeAll(async () => {
  registry = await startRegistry();
  image = `${registry.host}/${repository}`;
  await push('v1');
  await pullImage(docker, `${image}:latest`);
  // Legacy links work on the default bridge network only: the labelled container is on it.
  const web = await docker.createContainer({
    name,
    Image: `${image}:latest`,
    Labels: { ...own, 'docker-watcher.enable': 'true' },
    StopTimeout: 1,
    HostConfig: { NetworkMode: 'bridge' },
  });
  await web.start();
  const side = await docker.createContainer({
    ...waiting,
    name: sidecar,
    HostConfig: { NetworkMode: `container:${web.id}` },
  });
  await side.start();
  const linked = await docker.createContainer({
    ...waiting,
    name: linker,
    HostConfig: { NetworkMode: 'bridge', Links: [`${name}:app`] },
  });
  await linked.start();
}, 120_000);

afterAll(async () => {
  await engine?.stop();
  await target.dispose();
  await run.cleanup();
  await run.removeImages(image, () => true);
  await registry?.stop();
});

describe('containers that depend on a labelled one', () => {
  it('reach it before any update', async () => {
    await expectFollowing(await inspect(name), 'v1');
    const discovery = await discoverLabelledContainers({ docker, options: { scope: run.id } });
    expect(discovery.stages.map((stage) => stage.container.name)).toEqual([name]);
    store = createMemoryStateStore();
    const [stage] = discovery.stages;
    const [running] = (await target.list({ project: stage!.project })).filter(
      (instance) => instance.deployId === adoptedDeployId,
    );
    await seedLabelledStage(store, stage!, running!.release);
    engine = createEngine({
      projects: labelledProjects(discovery.stages, () => 'local', {
        intervalMs: 500,
        timeoutMs: 20_000,
        retries: 2,
      }),
      registries: { local: createOciRegistry({ url: registry.url }) },
      target,
      store,
      pollIntervalMs: 0,
    });
    await engine.start();
  }, 180_000);

  it('follow the new container after an update', async () => {
    const before = await inspect(name);
    const pushed = await push('v2');
    const deploys = await pollAndSettle();
    expect(deploys.map((d) => [d.state, d.release.digest])).toEqual([['succeeded', pushed.digest]]);
    const after = await inspect(name);
    expect(after.Id).not.toBe(before.Id);
    await expectFollowing(after, 'v2');
  }, 180_000);

  it('follow the restored container after a rollback', async () => {
    const before = await inspect(name);
    await push('unhealthy');
    const deploys = await pollAndSettle();
    expect(deploys[0]).toMatchObject({ state: 'rolled-back' });
    const after = await inspect(name);
    expect(after.Id).toBe(before.Id);
    await expectFollowing(after, 'v2');
  }, 180_000);
});
