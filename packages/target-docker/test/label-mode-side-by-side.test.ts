import type { DeployState, DeployTarget, Release } from '@docker-watcher/core';
import { appFixture, appPort, dockerClient, type LocalRegistry, testkitLabel } from '@docker-watcher/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { takeOver } from '../src/adopt/side-by-side.ts';
import { asideName, createAdoptedContainerTarget, nextName } from '../src/index.ts';
import { testRun } from './support/fixtures.ts';
import { pullImage, pushAsLatest, runLabelDeploy, startLabelRegistry } from './support/label-deploys.ts';

// A labelled container reached by an alias on a user-defined network, with no fixed host port, is
// updated side by side on the real engine: the new container runs its gate beside the old one,
// which keeps serving; then the new one takes the aliases and the name. A failed gate, or a server
// killed before the commit point, leaves the old one as it was (same container, never restarted);
// killed during the switch, the next start finishes it: one container of that name, on the new image.
const run = testRun('label-sbs');
const docker = dockerClient();
const repository = `label-sbs/${run.id}`;
const name = `dw-label-${run.id}-web`;
const alias = `web-${run.id}`;
const own = { [testkitLabel]: 'false', [run.label]: run.id, 'docker-watcher.scope': run.id };
const composeLabels = { 'com.docker.compose.project': `p-${run.id}`, 'com.docker.compose.service': 'web' };
const target = createAdoptedContainerTarget({ scope: run.id, runningGraceMs: 1_000, stopTimeoutSeconds: 1 });
let registry: LocalRegistry;
let image: string;
let v1: Release;
let v2: Release;
let unhealthy: Release;
let original: Awaited<ReturnType<ReturnType<typeof docker.getContainer>['inspect']>>;

const pull = (reference: string) => pullImage(docker, reference);

beforeAll(async () => {
  ({ registry, image, v1, v2 } = await startLabelRegistry(repository));
  unhealthy = await pushAsLatest(registry, {
    source: appFixture('unhealthy').ref,
    repository,
    tag: 'unhealthy',
  });
  await pull(`${image}:latest`);
  await docker.createNetwork({ Name: run.network, Labels: own });
}, 120_000);

beforeEach(async () => {
  for (const info of await docker.listContainers({
    all: true,
    filters: { label: [`${run.label}=${run.id}`] },
  }))
    await docker.getContainer(info.Id).remove({ force: true });
  // `latest` names v1 again, as a user's `docker compose pull` would have left it.
  await pull(`${image}:latest`);
  await docker.getImage(`${image}@${v1.digest}`).tag({ repo: image, tag: 'latest' });
  const container = await docker.createContainer({
    name,
    Image: `${image}:latest`,
    Labels: { ...own, ...composeLabels, 'docker-watcher.enable': 'true' },
    HostConfig: {
      NetworkMode: run.network,
      RestartPolicy: { Name: 'unless-stopped' },
      PortBindings: { [`${appPort}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '' }] },
    },
    NetworkingConfig: { EndpointsConfig: { [run.network]: { Aliases: [alias] } } },
  });
  await container.start();
  original = await container.inspect();
});

afterAll(async () => {
  await target.dispose();
  await run.cleanup();
  await run.removeImages(image, () => true);
  await registry?.stop();
});

/** Runs a deploy record from `state` (a new deploy from `pending`, or as a killed server left it). */
async function deploy(
  deployId: string,
  release: Release,
  state: DeployState = 'pending',
  data = {},
  using: DeployTarget = target,
) {
  const { record } = await runLabelDeploy({
    target: using,
    project: name,
    image,
    deployId,
    release,
    previous: v1,
    state,
    data,
  });
  return record;
}

/** This run's containers, by name, with their state. */
const containers = async () =>
  (await docker.listContainers({ all: true, filters: { label: [`${run.label}=${run.id}`] } }))
    .map((c) => [c.Names[0], c.State])
    .sort();

/** The addresses `alias` resolves to on the network, as Docker's DNS answers a container there (busybox's nslookup). */
async function resolveAlias(): Promise<string[]> {
  const client = await docker.createContainer({
    Image: appFixture('v1').ref,
    Labels: { [testkitLabel]: 'false', 'docker-watcher-test.client': run.id },
    Entrypoint: ['/bin/busybox', 'nslookup', alias, '127.0.0.11'],
    // A terminal: the log is the plain output, without the multiplexing frames.
    Tty: true,
    HostConfig: { NetworkMode: run.network },
  });
  try {
    await client.start();
    await client.wait();
    const text = ((await client.logs({ stdout: true, stderr: true })) as Buffer).toString('utf8');
    const answer = text.slice(text.indexOf(`Name:\t${alias}`));
    return [...answer.matchAll(/^Address: (\S+)/gm)].map((m) => m[1]!).sort();
  } finally {
    await client.remove({ force: true });
  }
}

const addressOf = (info: Awaited<ReturnType<ReturnType<typeof docker.getContainer>['inspect']>>) =>
  info.NetworkSettings.Networks[run.network]?.IPAddress;

async function expectOldOneUntouched() {
  expect(await containers()).toEqual([[`/${name}`, 'running']]);
  const info = await docker.getContainer(name).inspect();
  expect(info.Id).toBe(original.Id);
  expect(info.State.StartedAt).toBe(original.State.StartedAt);
  expect(info.Image).toBe(original.Image);
}

describe('a side-by-side update', () => {
  it('gates the new container while the old one serves, then hands it the aliases and the name', async () => {
    const during: Array<{ oldRunning: boolean; oldName: string }> = [];
    // The gate's probes also look at the old container: it must still run under its name.
    const watching: DeployTarget = {
      ...target,
      checkHealth: async (params) => {
        const old = await docker.getContainer(original.Id).inspect();
        during.push({ oldRunning: old.State.Running, oldName: old.Name });
        return target.checkHealth(params);
      },
    };
    const record = await deploy('sbs-update', v2, 'pending', {}, watching);
    expect(record.state, record.error?.message).toBe('succeeded');
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((d) => d.oldRunning && d.oldName === `/${name}`)).toBe(true);

    expect(await containers()).toEqual([[`/${name}`, 'running']]);
    const info = await docker.getContainer(name).inspect();
    expect(info.Id).not.toBe(original.Id);
    expect(info.Config.Image).toBe(`${image}:latest`);
    expect(info.NetworkSettings.Networks[run.network]?.Aliases).toContain(alias);
    expect(info.Config.Labels).toMatchObject(composeLabels);
    expect(info.HostConfig.RestartPolicy).toEqual(original.HostConfig.RestartPolicy);
    expect(await resolveAlias()).toEqual([addressOf(info)]);
    expect(
      await docker
        .getContainer(original.Id)
        .inspect()
        .catch(() => 'gone'),
    ).toBe('gone');
  }, 120_000);

  it('removes a new container that fails its gate; the old one served all along, untouched', async () => {
    const record = await deploy('sbs-unhealthy', unhealthy);
    expect(record.state).toBe('rolled-back');
    await expectOldOneUntouched();
    // The user's tag names the old image again, as before the update.
    expect((await docker.getImage(`${image}:latest`).inspect()).Id).toBe(original.Image);
    expect(await resolveAlias()).toEqual([addressOf(original)]);
  }, 120_000);
});

describe('a server killed during a side-by-side update', () => {
  it('while the new container ran its gate: the restart removes it, the old one is untouched', async () => {
    const deployId = 'sbs-crash-in-gate';
    const candidate = await target.start({
      spec: { project: name, stage: 'live', deployId, image, release: v2 },
    });
    expect((await docker.getContainer(candidate.id).inspect()).Name).toBe(`/${nextName(name, deployId)}`);
    const record = await deploy(deployId, v2, 'health-checking', { candidate });
    expect(record.state).toBe('rolled-back');
    await expectOldOneUntouched();
  }, 120_000);

  it.each([
    ['after the old one was set aside', false],
    ['after the new one took the name', true],
  ])(
    'during the switch, %s: the restart finishes it',
    async (_when, renamed) => {
      const deployId = `sbs-crash-switch-${renamed ? 'b' : 'a'}`;
      const candidate = await target.start({
        spec: { project: name, stage: 'live', deployId, image, release: v2 },
      });
      // The switch as a killed server left it: aliases handed over, the old one set aside.
      await takeOver(docker, {
        old: await docker.getContainer(original.Id).inspect(),
        next: await docker.getContainer(candidate.id).inspect(),
        name,
      });
      await docker.getContainer(original.Id).rename({ name: asideName(name, deployId) });
      if (renamed) await docker.getContainer(candidate.id).rename({ name });
      const record = await deploy(deployId, v2, 'retiring-old', { candidate });
      expect(record.state, record.error?.message).toBe('succeeded');
      expect(await containers()).toEqual([[`/${name}`, 'running']]);
      const info = await docker.getContainer(name).inspect();
      expect(info.Id).toBe(candidate.id);
      expect(info.NetworkSettings.Networks[run.network]?.Aliases).toContain(alias);
      expect(
        await docker
          .getContainer(original.Id)
          .inspect()
          .catch(() => 'gone'),
      ).toBe('gone');
    },
    120_000,
  );
});

describe('a server killed while it re-created a container that depends on the updated one', () => {
  const sidecar = `${name}-sidecar`;
  /** A busybox in the labelled container's network namespace (`--network container:<it>`). */
  const startSidecar = async () => {
    const created = await docker.createContainer({
      name: sidecar,
      Image: appFixture('v1').ref,
      Entrypoint: ['/bin/busybox', 'sh', '-c', "trap 'exit 0' TERM INT; /bin/busybox sleep 3600 & wait"],
      Labels: own,
      HostConfig: { NetworkMode: `container:${original.Id}` },
    });
    await created.start();
    return created.inspect();
  };

  it.each([
    ['after it set the old sidecar aside', false],
    ['after it created the new sidecar, before starting it', true],
  ])(
    '%s: the restart finishes it, one sidecar in the new container',
    async (_when, halfMade) => {
      const old = await startSidecar();
      const deployId = `sbs-crash-dependent-${halfMade ? 'b' : 'a'}`;
      const candidate = await target.start({
        spec: { project: name, stage: 'live', deployId, image, release: v2 },
      });
      // The switch as a killed server left it: the new container holds the name, the old one set aside,
      // and the sidecar's re-creation under way.
      await takeOver(docker, {
        old: await docker.getContainer(original.Id).inspect(),
        next: await docker.getContainer(candidate.id).inspect(),
        name,
      });
      await docker.getContainer(original.Id).rename({ name: asideName(name, deployId) });
      await docker.getContainer(candidate.id).rename({ name });
      await docker.getContainer(old.Id).rename({ name: `${sidecar}.dw-replaced.${old.Id.slice(0, 12)}` });
      if (halfMade) {
        await docker.getContainer(old.Id).stop({ t: 1 });
        await docker.createContainer({
          name: sidecar,
          Image: appFixture('v1').ref,
          Labels: own,
          HostConfig: { NetworkMode: `container:${candidate.id}` },
        });
      }

      const record = await deploy(deployId, v2, 'retiring-old', { candidate });
      expect(record.state, record.error?.message).toBe('succeeded');
      expect(await containers()).toEqual([
        [`/${name}`, 'running'],
        [`/${sidecar}`, 'running'],
      ]);
      const now = await docker.getContainer(sidecar).inspect();
      expect(now.HostConfig.NetworkMode).toBe(`container:${candidate.id}`);
      expect(now.Config.Entrypoint).toEqual(old.Config.Entrypoint);
    },
    120_000,
  );
});
