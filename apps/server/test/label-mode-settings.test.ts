import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appFixture, dockerClient, pushImage, startRegistry, testkitLabel } from '@docker-watcher/testkit';
import { type NtfyFake, startNtfyFake } from '@docker-watcher/testkit/notify';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelledContainersSchema } from '../src/api/labels.ts';
import { type RunningServer, startServer } from '../src/serve.ts';

// The settings labels give a stage in the server, on the real engine and a real registry: an update
// window holds a new release back visibly, `docker-watcher.notify` tells the channels it names of
// the container's deploys (and a channel the config lacks is a problem of that label); a container
// left alone for its labels is told to the channels once per distinct set of problems.
const id = `label-settings-${randomUUID().slice(0, 8)}`;
const docker = dockerClient();
const network = `dw-test-${id}`;
const repository = `label-settings/${id}`;
const token = 'label-settings-test-token-0123456789';
const own = { [testkitLabel]: 'false', 'docker-watcher-test.run': id, 'docker-watcher.scope': id };
const told = `${id}-told`;
const waits = `${id}-waits`;
const unknown = `${id}-unknown`;
let registry: Awaited<ReturnType<typeof startRegistry>>;
let ntfy: NtfyFake;
let image: string;
let dir: string;
let server: RunningServer | undefined;

/** A window that opens three hours from now: closed whenever this test runs. */
const hour = (ahead: number) => String((new Date().getUTCHours() + ahead) % 24).padStart(2, '0');
const closedWindow = `${hour(3)}:00-${hour(4)}:00`;

const push = (release: 'v1' | 'v2') =>
  pushImage(registry, { source: appFixture(release).ref, repository, tag: 'latest' });

async function runContainer(containerName: string, labels: Record<string, string>) {
  const container = await docker.createContainer({
    name: containerName,
    Image: `${image}:latest`,
    Labels: { ...own, 'docker-watcher.enable': 'true', ...labels },
    HostConfig: { NetworkMode: network },
  });
  await container.start();
  return container.inspect();
}

const api = async (path: string) => {
  const response = await fetch(`http://127.0.0.1:${server!.port}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return (await response.json()) as unknown;
};

beforeAll(async () => {
  registry = await startRegistry();
  ntfy = await startNtfyFake();
  image = `${registry.host}/${repository}`;
  await push('v1');
  await new Promise<void>((resolve, reject) =>
    docker.pull(`${image}:latest`, (error: unknown, stream: NodeJS.ReadableStream) =>
      error ? reject(error) : docker.modem.followProgress(stream, (e) => (e ? reject(e) : resolve())),
    ),
  );
  await docker.createNetwork({ Name: network, Labels: own });
  await runContainer(told, { 'docker-watcher.notify': 'ops' });
  await runContainer(waits, { 'docker-watcher.schedule': closedWindow });
  await runContainer(unknown, { 'docker-watcher.notify': 'ops, nobody' });
  dir = mkdtempSync(join(tmpdir(), 'dw-label-settings-'));
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
notify:
  batch_window_seconds: 0
  channels:
    # Its own route lets nothing of these containers through: only the label does.
    - name: ops
      url_env: NTFY_URL
      projects: [no-such-project]
    # The default events: containers left alone for their labels are among them.
    - name: everyone
      url_env: NTFY_URL
`,
  );
  server = await startServer({
    configFile: join(dir, 'config.yml'),
    env: {
      DW_TOKEN: token,
      NTFY_URL: `ntfy://${ntfy.username}:${ntfy.password}@${new URL(ntfy.origin).host}/${ntfy.topic}?scheme=http`,
    },
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
      if (reference.startsWith(image))
        await docker
          .getImage(reference)
          .remove()
          .catch(() => undefined);
    }
  }
  await ntfy?.close();
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('stage settings from labels in the server', () => {
  it('leaves a container alone that names a channel the config does not have, naming the label', async () => {
    const labels = v.parse(labelledContainersSchema, await api('/api/labels'));
    expect(labels.containers.find((c) => c.name === unknown)).toMatchObject({
      watched: false,
      problems: [
        {
          label: 'docker-watcher.notify',
          message: 'no notification channel named nobody (configured: ops, everyone)',
        },
      ],
    });
    const projects = (await api('/api/projects')) as { projects: Array<{ id: string }> };
    expect(projects.projects.map((p) => p.id).sort()).toEqual([told, waits].sort());
  });

  it('deploys the one, tells the channel its label names; the other waits for its window, saying so', async () => {
    await push('v2');
    await server!.composed.engine.pollOnce();
    await server!.composed.engine.idle();
    const deploys = await server!.composed.store.listDeploys({});
    expect(deploys.map((d) => [d.project, d.state])).toEqual([[told, 'succeeded']]);
    await expect.poll(() => ntfy.messages.map((m) => m.body).join('\n'), { timeout: 60_000 }).toContain(told);
    expect(ntfy.messages.map((m) => m.body).join('\n')).not.toContain(waits);

    const stage = (await api(`/api/projects/${waits}/stages/live`)) as {
      decision: { action: string; reason: string };
    };
    const [from, to] = closedWindow.split('-');
    expect(stage.decision).toMatchObject({
      action: 'none',
      reason: `latest is waiting for the update window ${from}–${to}`,
    });
  });

  it('tells the channels once of a container left alone for its labels, and again when its problems change', async () => {
    const bad = `${id}-bad`;
    const about = (container: string) =>
      ntfy.messages.filter((m) => m.body.includes(`${container}: labels not usable`)).map((m) => m.body);
    // Told at start already: the container naming a channel the config lacks.
    await expect.poll(() => about(unknown).length, { timeout: 60_000 }).toBe(1);
    expect(about(unknown)[0]).toContain('docker-watcher.notify: no notification channel named nobody');
    const first = await runContainer(bad, { 'docker-watcher.auto-deploy': 'sometimes' });
    await expect.poll(() => about(bad).length, { timeout: 60_000 }).toBe(1);
    expect(about(bad)[0]).toContain('docker-watcher.auto-deploy: expected true or false');
    // Another change of the labelled containers (a reload): the same problems are not told again.
    const other = `${id}-other`;
    await runContainer(other, {});
    const projects = async () =>
      ((await api('/api/projects')) as { projects: Array<{ id: string }> }).projects.map((p) => p.id);
    await expect.poll(projects, { timeout: 60_000 }).toContain(other);
    expect(about(bad)).toHaveLength(1);
    expect(about(unknown)).toHaveLength(1);
    // Created again with another bad label: a new set of problems, told once more.
    await docker.getContainer(first.Id).remove({ force: true });
    await runContainer(bad, { 'docker-watcher.schedule': 'nights' });
    await expect.poll(() => about(bad).length, { timeout: 60_000 }).toBe(2);
    expect(about(bad)[1]).toContain('docker-watcher.schedule: expected hours such as 02:00-05:00');
  });
});
