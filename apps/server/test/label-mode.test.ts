import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryLogger } from '@docker-watcher/core';
import { appFixture, dockerClient, pushImage, startRegistry, testkitLabel } from '@docker-watcher/testkit';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelledContainersSchema } from '../src/api/labels.ts';
import { serverApi } from '../src/cli-api.ts';
import { remoteCommands } from '../src/cli-commands.ts';
import { migrateLabelsCommand } from '../src/label-mode/migrate-labels-command.ts';
import { type RunningServer, startServer } from '../src/serve.ts';

// The server in label mode, on the real engine and a real registry: a container started by hand
// with `docker-watcher.enable=true` becomes a project without any project in the file, is updated
// in place when its tag is re-pushed, and labelled containers that start or go appear and
// disappear live. The scope keeps this server to this file's containers on the shared engine.
const id = `label-server-${randomUUID().slice(0, 8)}`;
const docker = dockerClient();
const network = `dw-test-${id}`;
const repository = `label-server/${id}`;
const name = `${id}-web`;
const token = 'label-mode-test-token-0123456789';
const own = { [testkitLabel]: 'false', 'docker-watcher-test.run': id, 'docker-watcher.scope': id };
let registry: Awaited<ReturnType<typeof startRegistry>>;
let image: string;
let dir: string;
let server: RunningServer | undefined;
const logs = createMemoryLogger();
let bystander: Awaited<ReturnType<ReturnType<typeof docker.getContainer>['inspect']>>;

const push = (release: 'v1' | 'v2') =>
  pushImage(registry, { source: appFixture(release).ref, repository, tag: 'latest' });

async function runContainer(containerName: string, labels: Record<string, string>) {
  const container = await docker.createContainer({
    name: containerName,
    Image: `${image}:latest`,
    Labels: { ...own, ...labels },
    HostConfig: {
      NetworkMode: network,
      PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
    },
  });
  await container.start();
  return container.inspect();
}

const projects = async () => {
  const response = await fetch(`http://127.0.0.1:${server!.port}/api/projects`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return ((await response.json()) as { projects: Array<{ id: string }> }).projects.map((p) => p.id).sort();
};

const version = async (containerName: string) => {
  const info = await docker.getContainer(containerName).inspect();
  const port = info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort;
  const response = await fetch(`http://127.0.0.1:${port}/version`, { signal: AbortSignal.timeout(2_000) });
  return (await response.text()).trim();
};

beforeAll(async () => {
  registry = await startRegistry();
  image = `${registry.host}/${repository}`;
  await push('v1');
  await new Promise<void>((resolve, reject) =>
    docker.pull(`${image}:latest`, (error: unknown, stream: NodeJS.ReadableStream) =>
      error ? reject(error) : docker.modem.followProgress(stream, (e) => (e ? reject(e) : resolve())),
    ),
  );
  await docker.createNetwork({ Name: network, Labels: own });
  await runContainer(name, { 'docker-watcher.enable': 'true' });
  bystander = await runContainer(`${id}-bystander`, {});
  dir = mkdtempSync(join(tmpdir(), 'dw-label-mode-'));
  writeFileSync(
    join(dir, 'config.yml'),
    `global:
  store: "memory:"
  target: { type: docker, network: ${network} }
  poll_interval_seconds: 0
  label_mode: { enabled: true, scope: ${id} }
  server:
    listen: 127.0.0.1:0
    tokens: [{ name: ops, token_env: DW_TOKEN, scopes: [admin] }]
registries: {}
projects: {}
`,
  );
  server = await startServer({
    configFile: join(dir, 'config.yml'),
    env: { DW_TOKEN: token },
    logger: logs,
    port: 0,
  });
}, 120_000);

afterAll(async () => {
  await server?.close();
  const left = await docker.listContainers({
    all: true,
    filters: { label: [`docker-watcher-test.run=${id}`] },
  });
  await Promise.all(
    left.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  await docker
    .getNetwork(network)
    .remove()
    .catch(() => undefined);
  for (const info of await docker.listImages()) {
    for (const reference of [...(info.RepoDigests ?? []), ...(info.RepoTags ?? [])]) {
      if (reference.startsWith(image) || reference.includes(id))
        await docker
          .getImage(reference)
          .remove()
          .catch(() => undefined);
    }
  }
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('label mode in the server', () => {
  it('turns the labelled container into a project, and only that one', async () => {
    expect(await projects()).toEqual([name]);
  });

  it('says in GET /api/projects that the stage comes from the labels of its container', async () => {
    const response = await fetch(`http://127.0.0.1:${server!.port}/api/projects`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const answer = (await response.json()) as {
      projects: Array<{ id: string; stages: Array<{ name: string; source?: string; container?: string }> }>;
    };
    expect(answer.projects.find((p) => p.id === name)?.stages).toMatchObject([
      { name: 'live', source: 'labels', container: name },
    ]);
  });

  it('updates it when its tag is re-pushed', async () => {
    const before = await docker.getContainer(name).inspect();
    await push('v2');
    await server!.composed.engine.pollOnce();
    await server!.composed.engine.idle();
    const after = await docker.getContainer(name).inspect();
    expect(after.Id).not.toBe(before.Id);
    await expect.poll(() => version(name).catch(() => ''), { timeout: 60_000 }).toBe('v2');
    const deploys = await server!.composed.store.listDeploys({ project: name });
    expect(deploys.map((d) => d.state)).toEqual(['succeeded']);
  });

  it('applies labelled containers that start and go, live', async () => {
    const late = `${id}-late`;
    const info = await runContainer(late, { 'docker-watcher.enable': 'true' });
    await expect.poll(projects, { timeout: 60_000 }).toEqual([late, name].sort());
    await docker.getContainer(info.Id).remove({ force: true });
    await expect.poll(projects, { timeout: 60_000 }).toEqual([name]);
  });

  it('migrate-labels prints the native labels for Watchtower’s', async () => {
    const watchtower = `${id}-watchtower`;
    // Of another scope: this server leaves it alone.
    await runContainer(watchtower, {
      'docker-watcher.scope': `${id}-other`,
      'com.centurylinklabs.watchtower.enable': 'true',
      'com.centurylinklabs.watchtower.monitor-only': 'true',
    });
    const printed: string[] = [];
    const context = {
      args: [watchtower, name],
      options: { json: false, wait: true, follow: false, config: '', watch: false, reference: false },
      api: () => {
        throw new Error('migrate-labels asks no server');
      },
      progress: (text: string) => printed.push(text),
      print: (text: string) => printed.push(text),
    };
    const result = await migrateLabelsCommand.run(context);
    expect(result.json).toEqual({
      containers: [
        {
          container: watchtower,
          labels: { 'docker-watcher.enable': 'true', 'docker-watcher.auto-deploy': 'false' },
          notes: [],
        },
      ],
    });
    expect(result.text).toBe(
      `${watchtower}:\n  labels:\n    docker-watcher.enable: "true"\n    docker-watcher.auto-deploy: "false"`,
    );
    await expect(
      migrateLabelsCommand.run({ ...context, args: [watchtower, `${id}-nowhere`] }),
    ).rejects.toThrow(`no container named "${id}-nowhere" on the Docker Engine`);
  });

  it('logs a container with bad labels, names the label, and leaves it alone', async () => {
    const bad = `${id}-bad`;
    const info = await runContainer(bad, {
      'docker-watcher.enable': 'true',
      'docker-watcher.auto-deploy': 'sometimes',
    });
    const said = () =>
      logs.entries.find(
        (e) =>
          e.level === 'warn' &&
          e.message === `container ${bad} is labelled for docker-watcher but left alone`,
      );
    await expect.poll(said, { timeout: 60_000 }).toBeDefined();
    expect(String(said()?.fields?.problems)).toContain('docker-watcher.auto-deploy: expected true or false');
    expect(await projects()).toEqual([name]);
    const now = await docker.getContainer(bad).inspect();
    expect(now.State.StartedAt).toBe(info.State.StartedAt);
  });

  it('shows the containers it found in the API and the problems of a bad one in `plan`', async () => {
    const bad = `${id}-shown`;
    // A terminal escape in a label value: data, shown escaped.
    await runContainer(bad, {
      'docker-watcher.enable': 'true',
      'docker-watcher.auto-deploy': 'no\u001b[31m',
    });
    const labelled = async () => {
      const response = await fetch(`http://127.0.0.1:${server!.port}/api/labels`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return v.parse(labelledContainersSchema, await response.json());
    };
    await expect
      .poll(async () => (await labelled()).containers.map((c) => c.name), { timeout: 60_000 })
      .toContain(bad);
    const answer = await labelled();
    expect(answer.enabled).toBe(true);
    expect(answer.containers.find((c) => c.name === name)).toMatchObject({
      watched: true,
      project: name,
      stage: 'live',
      source: 'docker-watcher',
      // On a user-defined network with a random host port: nothing keeps two containers apart.
      update: { mode: 'side-by-side' },
      problems: [],
    });
    expect(answer.containers.find((c) => c.name === bad)).toMatchObject({
      watched: false,
      problems: [
        { label: 'docker-watcher.auto-deploy', message: 'expected true or false, not "no\\u001b[31m"' },
      ],
    });
    expect(answer.containers.map((c) => c.name)).not.toContain(bystander.Name.slice(1));

    const context = {
      args: [],
      options: { json: false, wait: true, follow: false, config: '', watch: false, reference: false },
      api: () => serverApi(`http://127.0.0.1:${server!.port}`, token),
      progress: () => undefined,
      print: () => undefined,
    };
    const plan = remoteCommands.find((command) => command.name === 'plan')!;
    // The new container makes the server compose again; a plan asked meanwhile may meet the
    // composition being replaced (`… is disposed`), so it is asked until it answers.
    let result: Awaited<ReturnType<typeof plan.run>> | undefined;
    await expect
      .poll(
        async () => {
          result = await plan.run(context).catch(() => undefined);
          return result !== undefined;
        },
        { timeout: 60_000 },
      )
      .toBe(true);
    if (!result) throw new Error('no plan');
    expect(result.text).toContain(
      `\n  ${bad}: docker-watcher.auto-deploy: expected true or false, not "no\\u001b[31m"`,
    );
    expect(result.text).toContain('\nleft alone (labels):\n');
    expect(result.text).toContain(`\nupdates of labelled containers:\n  ${name}: side by side`);
    expect(result.text).not.toContain('\u001b');
    expect((result.json as { leftAlone: Array<{ name: string }> }).leftAlone.map((c) => c.name)).toContain(
      bad,
    );
  });

  it('leaves the unlabelled container as it was', async () => {
    const now = await docker.getContainer(bystander.Id).inspect();
    expect(now.State.StartedAt).toBe(bystander.State.StartedAt);
    expect(now.Image).toBe(bystander.Image);
    expect(now.State.Running).toBe(true);
  });
});
