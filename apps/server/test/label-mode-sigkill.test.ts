import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  appFixture,
  dockerClient,
  freePort,
  pushImage,
  startRegistry,
  testkitLabel,
} from '@docker-watcher/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';

// A real `docker-watcher serve` process in label mode is SIGKILLed while it updates two containers a
// person started, one in place (the old container set aside) and one side by side (the old one
// serving beside the new one), each new one in its health gate (the slow fixture, told to wait
// 30 s, so that both gates overlap). Started again on the same SQLite file, it ends both updates,
// and exactly one container of each name is left, running, on an image that answers: the old one
// or the new one.
const id = `label-kill-${randomUUID().slice(0, 8)}`;
const docker = dockerClient();
const network = `dw-test-${id}`;
const repository = `label-kill/${id}`;
const modes = ['in-place', 'side-by-side'] as const;
const nameOf = (mode: (typeof modes)[number]) => `${id}-${mode}`;
const token = 'label-mode-sigkill-token-0123456789';
const own = { [testkitLabel]: 'false', 'docker-watcher-test.run': id, 'docker-watcher.scope': id };
const serverCli = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
let registry: Awaited<ReturnType<typeof startRegistry>>;
let dir: string;
let port: number;
let child: ChildProcess | undefined;
let exited: Promise<void> | undefined;
const digests: Record<string, string> = {};

interface Deploy {
  readonly id: string;
  readonly state: string;
  readonly finished: boolean;
  readonly release: { readonly digest: string };
}

async function api<T>(path: string): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return (await response.json()) as T;
}

const deploys = async (name: string) =>
  (await api<{ deploys: Deploy[] }>(`/api/deploys?project=${encodeURIComponent(name)}`)).deploys;

async function startChild(): Promise<void> {
  const log = openSync(join(dir, 'server.log'), 'a');
  const started = spawn(
    process.execPath,
    ['--conditions=@docker-watcher/source', serverCli, 'serve', '--config', join(dir, 'config.yml')],
    { env: { ...process.env, DW_TOKEN: token }, stdio: ['ignore', log, log] },
  );
  child = started;
  exited = new Promise((resolve) => started.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && started.exitCode === null) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the server did not get ready:\n${serverLog()}`);
}

async function kill(): Promise<void> {
  child?.kill('SIGKILL');
  await exited;
  child = undefined;
}

const serverLog = () => readFileSync(join(dir, 'server.log'), 'utf8');

beforeAll(async () => {
  registry = await startRegistry();
  const image = `${registry.host}/${repository}`;
  digests.v1 = (
    await pushImage(registry, { source: appFixture('v1').ref, repository, tag: 'latest' })
  ).digest;
  await new Promise<void>((resolve, reject) =>
    docker.pull(`${image}:latest`, (error: unknown, stream: NodeJS.ReadableStream) =>
      error ? reject(error) : docker.modem.followProgress(stream, (e) => (e ? reject(e) : resolve())),
    ),
  );
  await docker.createNetwork({ Name: network, Labels: own });
  for (const mode of modes) {
    const container = await docker.createContainer({
      name: nameOf(mode),
      Image: `${image}:latest`,
      Labels: { ...own, 'docker-watcher.enable': 'true', 'docker-watcher.update': mode },
      Env: ['SLOW_START_SECONDS=30'],
      HostConfig: {
        NetworkMode: network,
        PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
      },
    });
    await container.start();
  }
  dir = mkdtempSync(join(tmpdir(), 'dw-label-kill-'));
  port = await freePort();
  writeFileSync(
    join(dir, 'config.yml'),
    `global:
  store: "sqlite:${join(dir, 'docker-watcher.db')}"
  target: { type: docker, network: ${network} }
  poll_interval_seconds: 1
  label_mode: { enabled: true, scope: ${id} }
  server:
    listen: 127.0.0.1:${port}
    tokens: [{ name: ops, token_env: DW_TOKEN, scopes: [admin] }]
registries: {}
projects: {}
`,
  );
  await startChild();
}, 180_000);

afterAll(async () => {
  await kill();
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
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('a server SIGKILLed mid-update leaves, after its restart, one container of each name on a good image', async () => {
  await expect
    .poll(
      async () => (await api<{ projects: Array<{ id: string }> }>('/api/projects')).projects.map((p) => p.id),
      { timeout: 60_000 },
    )
    .toEqual(expect.arrayContaining(modes.map(nameOf)));
  digests.slow = (
    await pushImage(registry, { source: appFixture('slow').ref, repository, tag: 'latest' })
  ).digest;

  // Killed while both new containers run their health gates.
  const gating = async (mode: (typeof modes)[number]) =>
    (await deploys(nameOf(mode))).some(
      (d) => d.release.digest === digests.slow && d.state === 'health-checking',
    );
  await expect
    .poll(async () => (await Promise.all(modes.map(gating))).every(Boolean), {
      timeout: 90_000,
      interval: 50,
    })
    .toBe(true);
  const updating = await docker.listContainers({
    all: true,
    filters: { label: [`docker-watcher-test.run=${id}`] },
  });
  await kill();
  expect((await deploys(nameOf('in-place')).catch(() => 'down')) === 'down').toBe(true);
  // In place, the old container waited set aside; side by side, it served beside the new one.
  const byName = new Map(updating.map((c) => [c.Names[0]!.slice(1), c.State]));
  expect(byName.get(nameOf('side-by-side'))).toBe('running');
  expect([...byName.keys()].filter((n) => n.startsWith(`${nameOf('side-by-side')}.dw-next.`))).toHaveLength(
    1,
  );
  expect([...byName.keys()].filter((n) => n.startsWith(`${nameOf('in-place')}.dw-aside.`))).toHaveLength(1);

  await startChild();
  for (const mode of modes)
    await expect
      .poll(async () => (await deploys(nameOf(mode))).every((d) => d.finished), { timeout: 120_000 })
      .toBe(true);

  // Exactly one container of each name (the test's only ones but the network's), running.
  const left = await docker.listContainers({
    all: true,
    filters: { label: [`docker-watcher-test.run=${id}`] },
  });
  expect(left.map((c) => [c.Names[0], c.State]).sort()).toEqual(
    modes.map((mode) => [`/${nameOf(mode)}`, 'running']).sort(),
  );
  for (const mode of modes) {
    const ended = (await deploys(nameOf(mode))).find((d) => d.release.digest === digests.slow);
    expect(['succeeded', 'rolled-back'], serverLog()).toContain(ended?.state);
    const info = await docker.getContainer(nameOf(mode)).inspect();
    const hostPort = info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort;
    const expected = ended?.state === 'succeeded' ? 'slow' : 'v1';
    await expect
      .poll(
        async () =>
          (
            await fetch(`http://127.0.0.1:${hostPort}/version`, { signal: AbortSignal.timeout(2_000) }).then(
              (response) => response.text(),
              () => '',
            )
          ).trim(),
        { timeout: 90_000 },
      )
      .toBe(expected);
  }
}, 400_000);
