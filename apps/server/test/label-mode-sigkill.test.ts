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

// A real `docker-watcher serve` process in label mode is SIGKILLed while it updates a container a
// person started: the old container set aside, the new one in its health gate (the slow fixture
// answers after about 4 s). Started again on the same SQLite file, it ends that update, and exactly
// one container of that name is left, running, on an image that answers: the old one or the new one.
const id = `label-kill-${randomUUID().slice(0, 8)}`;
const docker = dockerClient();
const network = `dw-test-${id}`;
const repository = `label-kill/${id}`;
const name = `${id}-web`;
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

const deploys = async () =>
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
  const container = await docker.createContainer({
    name,
    Image: `${image}:latest`,
    Labels: { ...own, 'docker-watcher.enable': 'true' },
    HostConfig: {
      NetworkMode: network,
      PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
    },
  });
  await container.start();
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

it('a server SIGKILLed mid-update leaves, after its restart, one container of that name on a good image', async () => {
  await expect
    .poll(
      async () => (await api<{ projects: Array<{ id: string }> }>('/api/projects')).projects.map((p) => p.id),
      {
        timeout: 60_000,
      },
    )
    .toContain(name);
  digests.slow = (
    await pushImage(registry, { source: appFixture('slow').ref, repository, tag: 'latest' })
  ).digest;

  // Killed while the new container runs its health gate: the old one is set aside, not running.
  await expect
    .poll(
      async () =>
        (await deploys()).some((d) => d.release.digest === digests.slow && d.state === 'health-checking'),
      { timeout: 90_000, interval: 50 },
    )
    .toBe(true);
  await kill();
  expect((await deploys().catch(() => 'down')) === 'down').toBe(true);

  await startChild();
  await expect.poll(async () => (await deploys()).every((d) => d.finished), { timeout: 120_000 }).toBe(true);
  const ended = (await deploys()).find((d) => d.release.digest === digests.slow);
  expect(['succeeded', 'rolled-back'], serverLog()).toContain(ended?.state);

  // Exactly one container of this test but the network's: the labelled one, by its name, running.
  const left = await docker.listContainers({
    all: true,
    filters: { label: [`docker-watcher-test.run=${id}`] },
  });
  expect(left.map((c) => [c.Names[0], c.State])).toEqual([[`/${name}`, 'running']]);
  const info = await docker.getContainer(name).inspect();
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
      { timeout: 60_000 },
    )
    .toBe(expected);
}, 300_000);
