// One server, one config, two deploy targets: `dev` runs on the real Docker Engine (`global.target`)
// and `prod` on Nomad (a target named in `targets`; the loopback fake Nomad of
// packages/target-nomad/test, written from Nomad's documented API shapes). Each stage's deploy goes
// to its own target and nowhere else, with the options the stage gives its target.
import { randomUUID } from 'node:crypto';
import {
  createMemoryLogger,
  createMemoryRegistry,
  createMemoryReverseProxy,
  createMemoryStateStore,
} from '@docker-watcher/core';
import { appFixture, dockerClient, pushImage, startRegistry, testkitLabel } from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeNomad, startFakeNomad } from '../../../packages/target-nomad/test/support/fake-nomad.ts';
import { type Composed, compose } from '../src/compose.ts';
import { loadConfigText } from '../src/config/load.ts';

const id = `stage-targets-${randomUUID().slice(0, 8)}`;
const docker = dockerClient();
const network = `dw-test-${id}`;
const repository = `stage-targets/${id}`;
const project = `app-${id.slice(-8)}`;
const nomadToken = 'nomad-token-for-stage-targets-7a1f';
const bound = { timeout: 120_000, interval: 100 };
let registry: Awaited<ReturnType<typeof startRegistry>>;
let nomad: FakeNomad;
let composed: Composed | undefined;

const managed = (stage: string) =>
  docker.listContainers({
    all: true,
    filters: { label: [`docker-watcher.project=${project}`, `docker-watcher.stage=${stage}`] },
  });

beforeAll(async () => {
  registry = await startRegistry();
  nomad = await startFakeNomad({ tokens: { [nomadToken]: 'write' } });
  await docker.createNetwork({
    Name: network,
    Labels: { [testkitLabel]: 'false', 'docker-watcher-test.run': id },
  });
}, 120_000);

afterAll(async () => {
  await composed?.dispose();
  for (const info of await docker.listContainers({
    all: true,
    filters: { label: [`docker-watcher.project=${project}`] },
  }))
    await docker
      .getContainer(info.Id)
      .remove({ force: true })
      .catch(() => undefined);
  await docker
    .getNetwork(network)
    .remove()
    .catch(() => undefined);
  await nomad?.close();
  await registry?.stop();
});

describe('stages on different targets', () => {
  it('deploys dev to the Docker Engine and prod to Nomad from one server and config', async () => {
    const pushed = await pushImage(registry, { source: appFixture('v1').ref, repository, tag: 'v1.0.0' });
    const image = `${registry.host}/${repository}`;
    nomad.seed({ id: `${project}-prod`, image: `${image}:0.9.0` });
    const config = await loadConfigText(
      `
global:
  domain: example.test
  store: "memory:"
  instance: ${id}
  target: { type: docker, network: ${network} }
  proxy: { type: memory }
  poll_interval_seconds: 0
targets:
  nomad:
    type: nomad
    address: ${nomad.url}
    token_env: NOMAD_TOKEN
    blocking_query_wait_ms: 2000
    deployment_timeout_ms: 60000
registries:
  local: { type: memory }
projects:
  ${project}:
    registry: local
    image: ${image}
    port: 8080
    healthcheck: { path: /health, interval_ms: 100, timeout_ms: 2000, retries: 20 }
    stages:
      dev: { tag_pattern: "v*", auto_deploy: true, target: { env: { STAGE_GREETING: hello-dev } } }
      prod:
        tag_pattern: "v*"
        auto_deploy: true
        target: { name: nomad, job: "{project}-{stage}", endpoint: { host: "{project}-{stage}.service.consul", port: 8080 } }
`,
      { NOMAD_TOKEN: nomadToken },
    );
    // Neither target is configured in a deprecated form.
    expect(config.warnings.filter((w) => w.message.includes('deprecated'))).toEqual([]);
    const memory = createMemoryRegistry();
    const store = createMemoryStateStore();
    composed = compose(config, {
      logger: createMemoryLogger(),
      store,
      proxy: createMemoryReverseProxy(),
      registries: { local: memory },
      listenPort: 0,
    });
    memory.push(repository, 'v1.0.0', pushed.digest);
    await composed.engine.start();

    const stateOf = async (stage: string) =>
      (await store.listDeploys({ project, stage })).map((deploy) => deploy.state);
    await expect.poll(() => stateOf('dev'), bound).toEqual(['succeeded']);
    await expect.poll(() => stateOf('prod'), bound).toEqual(['succeeded']);

    // dev: a container on the engine, running the pushed digest; prod has none there.
    const dev = await managed('dev');
    expect(dev).toHaveLength(1);
    expect(dev[0]!.Image).toBe(`${image}@${pushed.digest}`);
    // The options the stage gives its target reach the container.
    const inspected = await docker.getContainer(dev[0]!.Id).inspect();
    expect(inspected.Config.Env).toContain('STAGE_GREETING=hello-dev');
    expect(await managed('prod')).toEqual([]);
    // prod: the Nomad job runs the same digest; Nomad never heard of dev.
    expect(nomad.job(`${project}-prod`)?.TaskGroups[0]?.Tasks[0]?.Config.image).toBe(
      `${image}@${pushed.digest}`,
    );
    expect(nomad.job(`${project}-dev`)).toBeUndefined();
    // Both targets are listed: the engine's view of what runs covers each stage on its own target.
    const listed = await Promise.all(composed.targets.all.map((target) => target.list({ project })));
    expect(
      listed
        .flat()
        .map((instance) => instance.stage)
        .sort(),
    ).toEqual(['dev', 'prod']);
  });
});
