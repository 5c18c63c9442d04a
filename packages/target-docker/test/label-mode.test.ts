import {
  createEngine,
  createMemoryStateStore,
  type DeployRecord,
  type Engine,
  type StateStore,
} from '@docker-watcher/core';
import { createOciRegistry } from '@docker-watcher/registry-oci';
import {
  appFixture,
  dockerClient,
  pushImage,
  startRegistry,
  startSocketFaultProxy,
  testkitLabel,
} from '@docker-watcher/testkit';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adoptedDeployId,
  createAdoptedContainerTarget,
  discoverLabelledContainers,
  labelledProjects,
  seedLabelledStage,
  watchLabelledContainers,
} from '../src/index.ts';
import { fetchText, testRun } from './support/fixtures.ts';
import { pullImage } from './support/label-deploys.ts';

// Label mode end to end on the real engine and a real registry: a container started by hand with
// `docker-watcher.enable=true` is discovered, updated in place when its tag is re-pushed, and
// restored exactly when the new image fails its own HEALTHCHECK; unlabelled containers stay as they were.
const run = testRun('label-mode');
const docker = dockerClient();
const repository = `label-mode/${run.id}`;
const name = `dw-label-${run.id}-web`;
let registry: Awaited<ReturnType<typeof startRegistry>>;
let image: string;
let store: StateStore;
let engine: Engine | undefined;
const target = createAdoptedContainerTarget({ runningGraceMs: 1_000, stopTimeoutSeconds: 1 });
const bystanders: Record<string, Docker.ContainerInspectInfo> = {};

const push = (release: 'v1' | 'v2' | 'unhealthy') =>
  pushImage(registry, { source: appFixture(release).ref, repository, tag: 'latest' });

const own = { [testkitLabel]: 'false', [run.label]: run.id };
const userLabels = {
  'docker-watcher.enable': 'true',
  // The in-place path and its exact restore; `label-mode-side-by-side.test.ts` has the other one.
  'docker-watcher.update': 'in-place',
  'com.docker.compose.project': 'demo',
  'com.docker.compose.service': 'web',
};

async function runContainer(
  containerName: string,
  labels: Record<string, string>,
  extra: Docker.ContainerCreateOptions = {},
) {
  const container = await docker.createContainer({
    name: containerName,
    Image: `${image}:latest`,
    Labels: { ...own, ...labels },
    HostConfig: { NetworkMode: run.network, ...extra.HostConfig },
    ...extra,
    ...(extra.HostConfig ? { HostConfig: { NetworkMode: run.network, ...extra.HostConfig } } : {}),
  });
  await container.start();
  return container.inspect();
}

const inspect = (id: string) => docker.getContainer(id).inspect();
const hostPort = (info: Docker.ContainerInspectInfo) =>
  Number(info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort);

/** The inspected configuration: what a restore must give back unchanged. */
const configOf = (info: Docker.ContainerInspectInfo) => ({
  Id: info.Id,
  Name: info.Name,
  Image: info.Image,
  Config: info.Config,
  HostConfig: info.HostConfig,
  Mounts: info.Mounts,
  Networks: Object.fromEntries(
    Object.entries(info.NetworkSettings.Networks).map(([network, endpoint]) => [network, endpoint.Aliases]),
  ),
});

async function pollAndSettle(): Promise<DeployRecord[]> {
  await engine!.pollOnce();
  await engine!.idle();
  return store.listDeploys({});
}

beforeAll(async () => {
  registry = await startRegistry();
  image = `${registry.host}/${repository}`;
  await push('v1');
  await pullImage(docker, `${image}:latest`);
  await docker.createNetwork({ Name: run.network, Labels: own });
  await runContainer(name, userLabels, {
    Env: ['GREETING=hello from the user'],
    Cmd: undefined,
    StopTimeout: 1,
    HostConfig: {
      RestartPolicy: { Name: 'unless-stopped' },
      PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
      Memory: 64 * 1024 * 1024,
      Tmpfs: { '/scratch': 'size=1m' },
    },
    NetworkingConfig: { EndpointsConfig: { [run.network]: { Aliases: ['web-alias'] } } },
  });
  for (const [suffix, labels] of [
    ['plain', {}],
    ['watchtower-off', { 'com.centurylinklabs.watchtower.enable': 'false' }],
    ['opted-out', { 'docker-watcher.enable': 'false' }],
  ] as const) {
    const info = await runContainer(`dw-label-${run.id}-${suffix}`, labels);
    bystanders[info.Id] = info;
  }
}, 120_000);

afterAll(async () => {
  await engine?.stop();
  await target.dispose();
  await run.cleanup();
  await run.removeImages(image, () => true);
  await registry?.stop();
});

describe('label mode on a real engine', () => {
  it('discovers exactly the labelled container, as a stage watching its running tag', async () => {
    const discovery = await discoverLabelledContainers({ docker });
    const mine = discovery.stages.filter((stage) => stage.container.name.includes(run.id));
    expect(mine.map((stage) => [stage.project, stage.stage, stage.policy])).toEqual([
      [name, 'live', { pin: 'latest' }],
    ]);

    store = createMemoryStateStore();
    for (const stage of mine) {
      const [running] = (await target.list({ project: stage.project, stage: stage.stage })).filter(
        (instance) => instance.deployId === adoptedDeployId,
      );
      expect(running?.release.tag).toBe('latest');
      await seedLabelledStage(store, stage, running!.release);
    }
    engine = createEngine({
      projects: labelledProjects(mine, () => 'local', { intervalMs: 500, timeoutMs: 20_000, retries: 2 }),
      registries: { local: createOciRegistry({ url: registry.url }) },
      target,
      store,
      pollIntervalMs: 0,
    });
    await engine.start();
    // What runs is what the registry has: nothing to do.
    expect(await pollAndSettle()).toEqual([]);
  });

  it('updates the container in place when its tag is re-pushed, keeping its configuration', async () => {
    const before = await inspect(name);
    const pushed = await push('v2');
    const deploys = await pollAndSettle();
    expect(deploys.map((d) => [d.state, d.release.digest])).toEqual([['succeeded', pushed.digest]]);

    const after = await inspect(name);
    expect(after.Id).not.toBe(before.Id);
    expect(after.State.Running).toBe(true);
    const served = () => fetchText({ host: '127.0.0.1', port: hostPort(after) }, '/version').catch(() => '');
    await expect.poll(served, { timeout: 60_000 }).toBe('v2');
    expect(after.Config.Env).toContain('GREETING=hello from the user');
    // The user's labels (compose's too) stay; the image's own labels are the new image's.
    const newImage = await docker.getImage(after.Image).inspect();
    expect(after.Config.Labels).toEqual({ ...newImage.Config.Labels, ...userLabels, ...own });
    expect(after.Config.Labels['docker-watcher.fixture.release']).toBe('v2');
    expect(after.Config.Image).toBe(before.Config.Image);
    const { PortBindings, RestartPolicy, Memory, Tmpfs, NetworkMode } = before.HostConfig as Record<
      string,
      unknown
    >;
    expect(after.HostConfig).toMatchObject({ PortBindings, RestartPolicy, Memory, Tmpfs, NetworkMode });
    expect(after.NetworkSettings.Networks[run.network]?.Aliases).toContain('web-alias');
    // The old container is retired once the new one passed its gate: one container of that name.
    const left = await docker.listContainers({ all: true, filters: { name: [name] } });
    expect(left.map((c) => c.Names[0])).toEqual([`/${name}`]);
  });

  it('restores the old container exactly when the new image fails its own HEALTHCHECK', async () => {
    const before = await inspect(name);
    await push('unhealthy');
    const deploys = await pollAndSettle();
    expect(deploys[0]?.state).toBe('rolled-back');

    const after = await inspect(name);
    expect(configOf(after)).toEqual(configOf(before));
    expect(after.State.Running).toBe(true);
    // Started again just now: it serves once its process listens.
    const served = () => fetchText({ host: '127.0.0.1', port: hostPort(after) }, '/version').catch(() => '');
    await expect.poll(served, { timeout: 60_000 }).toBe('v2');
    // The local tag the container names points at its image again, as before the deploy.
    expect((await docker.getImage(`${image}:latest`).inspect()).Id).toBe(before.Image);
    const left = await docker.listContainers({ all: true, filters: { name: [name] } });
    expect(left.map((c) => c.Id)).toEqual([before.Id]);
  });

  it('follows labelled containers live: one started appears, one removed disappears', async () => {
    const seen: string[][] = [];
    const watcher = watchLabelledContainers({
      docker,
      resyncMs: 60_000,
      debounceMs: 100,
      onChange: (discovery) => {
        seen.push(discovery.stages.map((s) => s.container.name).filter((n) => n.includes(run.id)));
      },
    });
    try {
      await watcher.ready;
      expect(seen.at(-1)).toEqual([name]);
      const extra = `dw-label-${run.id}-late`;
      const info = await runContainer(extra, { 'docker-watcher.enable': 'true' });
      // The events stream, not the resync (a minute away), brings it.
      await expect.poll(() => seen.at(-1), { timeout: 30_000 }).toEqual([extra, name].sort());
      await docker.getContainer(info.Id).remove({ force: true });
      await expect.poll(() => seen.at(-1), { timeout: 30_000 }).toEqual([name]);
    } finally {
      watcher.close();
    }
  });

  it('looks again as soon as a broken events stream is back, not at the next resync', async () => {
    const link = await startSocketFaultProxy();
    const linked = new Docker({ host: '127.0.0.1', port: Number(new URL(link.url).port) });
    const seen: string[][] = [];
    const watcher = watchLabelledContainers({
      docker: linked,
      resyncMs: 3_600_000,
      debounceMs: 100,
      onChange: (discovery) => {
        seen.push(discovery.stages.map((s) => s.container.name).filter((n) => n.includes(run.id)));
      },
    });
    const extra = `dw-label-${run.id}-while-cut`;
    try {
      await watcher.ready;
      expect(seen.at(-1)).toEqual([name]);
      link.set('reset');
      await expect.poll(() => link.faulted.get('reset') ?? 0, { timeout: 30_000 }).toBeGreaterThan(0);
      const info = await runContainer(extra, { 'docker-watcher.enable': 'true' });
      link.set('pass');
      // Only the follower's reconnect can bring it: the resync is an hour away.
      await expect.poll(() => seen.at(-1), { timeout: 60_000 }).toEqual([extra, name].sort());
      await docker.getContainer(info.Id).remove({ force: true });
    } finally {
      watcher.close();
      await link.stop();
    }
  }, 120_000);

  it('never touches a container without the label', async () => {
    const seen = new Set((await target.list({})).map((instance) => instance.id));
    for (const id of Object.keys(bystanders)) expect(seen.has(id)).toBe(false);
    for (const [id, was] of Object.entries(bystanders)) {
      const now = await inspect(id);
      expect(now.State.Running).toBe(true);
      expect(now.State.StartedAt).toBe(was.State.StartedAt);
      expect(now.Image).toBe(was.Image);
      expect(now.Name).toBe(was.Name);
    }
  });
});
