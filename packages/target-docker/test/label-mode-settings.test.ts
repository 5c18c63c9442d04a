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

// The stage settings labels carry beyond the policy, where the engine is what shows them: the old
// container is stopped with `docker-watcher.stop-timeout`, over the container's own stop timeout.
const run = testRun('label-settings');
const docker = dockerClient();
const repository = `label-settings/${run.id}`;
const name = `dw-label-${run.id}-slow-stop`;
const scope = run.id;
let registry: Awaited<ReturnType<typeof startRegistry>>;
let image: string;
let store: StateStore;
let engine: Engine | undefined;
// The target's own default would be short too: only the label can give the old container its time.
const target = createAdoptedContainerTarget({ runningGraceMs: 1_000, stopTimeoutSeconds: 1, scope });
const own = { [testkitLabel]: 'false', [run.label]: run.id, 'docker-watcher.scope': scope };

const push = (release: 'v1' | 'v2') =>
  pushImage(registry, { source: appFixture(release).ref, repository, tag: 'latest' });

beforeAll(async () => {
  registry = await startRegistry();
  image = `${registry.host}/${repository}`;
  await push('v1');
  await new Promise<void>((resolve, reject) =>
    docker.pull(`${image}:latest`, (error: unknown, stream: NodeJS.ReadableStream) =>
      error ? reject(error) : docker.modem.followProgress(stream, (e) => (e ? reject(e) : resolve())),
    ),
  );
  await docker.createNetwork({ Name: run.network, Labels: own });
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
    Labels: { ...own, 'docker-watcher.enable': 'true', 'docker-watcher.stop-timeout': '60' },
    HostConfig: { NetworkMode: run.network },
  });
  await container.start();
  store = createMemoryStateStore();
  const discovery = await discoverLabelledContainers({ docker, options: { scope } });
  for (const stage of discovery.stages) {
    const running = (await target.list({ project: stage.project, stage: stage.stage })).find(
      (instance) => instance.deployId === adoptedDeployId,
    );
    await seedLabelledStage(store, stage, running!.release);
  }
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
}, 120_000);

afterAll(async () => {
  await engine?.stop();
  await target.dispose();
  await run.cleanup();
  await run.removeImages(image, () => true);
  await registry?.stop();
});

describe('stage settings from labels, on a real engine', () => {
  it('gives the old container the stop timeout of its label', async () => {
    const old = await docker.getContainer(name).inspect();
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
});
