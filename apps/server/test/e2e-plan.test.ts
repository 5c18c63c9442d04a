// The original plan's config file, as written, driving its three stages on real parts: a Docker
// Engine, a real OCI registry (Gitea's registry side: token auth, so pulls need the registry's
// credentials), a SQLite store, and Nginx Proxy Manager's API as a loopback fake
// (packages/proxy-npm/test/fake-npm.ts, from NPM 2.15's schemas). Only addresses change: each host of
// the file points at its stand-in on loopback, and the Docker network gets a name of its own.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@docker-watcher/core';
import {
  buildFixtureImage,
  dockerClient,
  type FixtureImage,
  type LocalRegistry,
  pushImage,
  startRegistry,
} from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeNpm, startFakeNpm } from '../../../packages/proxy-npm/test/fake-npm.ts';
import { type RunningServer, startServer } from '../src/serve.ts';

const root = join(import.meta.dirname, '../../..');
const cli = join(root, 'apps/server/src/cli.ts');
const planDir = join(import.meta.dirname, 'fixtures/plan');
const project = 'web-app-launcher';
const repository = 'alexei/web-app-launcher';
const gitToken = 'gitea-token-for-the-plan-0123';
const npmPassword = 'npm-password-for-the-plan';
const apiToken = 'plan-e2e-admin-token-0123456789';
const network = `staging-net-${process.pid}`;

/** The plan's app: port 3000, `/api/health`, and a page showing the environment it got. */
function planApp(release: string): FixtureImage {
  const script = [
    "trap 'exit 0' TERM INT",
    'echo "$APP_GREETING" > /www/greeting',
    '/bin/busybox httpd -f -p 3000 -h /www & wait',
  ].join('; ');
  return {
    ref: `dw-testkit/plan-app:${release}`,
    dockerfile: [
      'FROM scratch',
      'COPY busybox /bin/busybox',
      'COPY www /www',
      'EXPOSE 3000',
      `ENTRYPOINT ${JSON.stringify(['/bin/busybox', 'sh', '-c', script])}`,
      '',
    ].join('\n'),
    files: { busybox: { from: '/bin/busybox' }, 'www/version': `${release}\n`, 'www/api/health': 'ok\n' },
  };
}

let dir: string;
let registry: LocalRegistry;
let npm: FakeNpm;
let notifications: Server;
const received: Array<{ type: string; [key: string]: unknown }> = [];
let server: RunningServer;
let base: string;

const api = async <T>(path: string): Promise<T> => {
  const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${apiToken}` } });
  expect(response.status, path).toBe(200);
  return (await response.json()) as T;
};

function runCli(args: string[]) {
  const child = spawn(process.execPath, ['--conditions=@docker-watcher/source', cli, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', DOCKER_WATCHER_URL: base, DOCKER_WATCHER_TOKEN: apiToken },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

interface Stage {
  name: string;
  autoDeploy: boolean;
  actual: { tag: string; digest: string } | null;
  desired: { tag: string; digest: string; reason: string } | null;
}
const stage = async (name: string) =>
  (await api<{ stages: Stage[] }>(`/api/projects/${project}`)).stages.find((s) => s.name === name)!;

/** What the stage's host serves, through the upstream NPM routes it to. */
async function served(host: string, path: string): Promise<string | undefined> {
  const target = npm.served(host);
  if (!target) return undefined;
  const response = await fetch(`http://${target.forward_host}:${target.forward_port}${path}`);
  return response.ok ? (await response.text()).trim() : undefined;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dw-plan-e2e-'));
  const docker = dockerClient();
  for (const release of ['dev-1', 'v1.0.0']) await buildFixtureImage(docker, planApp(release));
  registry = await startRegistry({ auth: 'token', users: { 'docker-watcher': gitToken } });
  npm = await startFakeNpm({ users: [{ email: 'a@b.c', password: npmPassword }] });
  notifications = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => notifications.listen(0, '127.0.0.1', resolve));
  const notifyUrl = `http://127.0.0.1:${(notifications.address() as AddressInfo).port}/webhook`;
  const text = readFileSync(join(planDir, 'docker-watcher.yml'), 'utf8')
    .replace('https://git.example.com', registry.url)
    .replace('git.example.com/alexei/web-app-launcher', `${registry.host}/${repository}`)
    .replace('http://npm:81', npm.url)
    .replace('https://notify.example.com/webhook', notifyUrl)
    .replace('network: staging-net', `network: ${network}`);
  cpSync(join(planDir, 'envs'), join(dir, 'envs'), { recursive: true });
  const configFile = join(dir, 'docker-watcher.yml');
  // The plan names no API token; a person needs one to click and confirm.
  writeFileSync(
    configFile,
    text.replace(
      'global:\n',
      'global:\n  server: { tokens: [{ name: ops, token_env: DW_TOKEN, scopes: [admin] }] }\n',
    ),
  );
  server = await startServer({
    configFile,
    // The server's own settings by environment, as the plan's file has none of them.
    env: {
      NPM_PASSWORD: npmPassword,
      GITEA_TOKEN: gitToken,
      DW_TOKEN: apiToken,
      DOCKER_WATCHER_STORE: `sqlite:${join(dir, 'docker-watcher.db')}`,
      DOCKER_WATCHER_POLL_INTERVAL: '1',
    },
    logger: silentLogger,
    port: 0,
  });
  base = `http://127.0.0.1:${server.port}`;
}, 180_000);

afterAll(async () => {
  await server?.close();
  const docker = dockerClient();
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`docker-watcher.project=${project}`] },
  });
  for (const info of containers)
    await docker
      .getContainer(info.Id)
      .remove({ force: true })
      .catch(() => undefined);
  await docker
    .getNetwork(network)
    .remove()
    .catch(() => undefined);
  await Promise.all([
    registry?.stop(),
    npm?.close(),
    new Promise((resolve) => notifications?.close(resolve)),
  ]);
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe("the plan's file on the real stack", { timeout: 240_000 }, () => {
  it('dev: every dev-* push deploys at once, pulled with the registry token, with the env_file, behind NPM', async () => {
    const pushed = await pushImage(registry, {
      source: 'dw-testkit/plan-app:dev-1',
      repository,
      tag: 'dev-1',
    });
    const dev = await until('dev to run dev-1', async () => {
      const s = await stage('dev');
      return s.actual?.tag === 'dev-1' ? s : undefined;
    });
    expect(dev.actual?.digest).toBe(pushed.digest);
    const host = 'stage-dev-web-app-launcher.example.com';
    expect(await until('NPM to route dev', () => served(host, '/version'))).toBe('dev-1');
    // env_file, relative to the config file, reached the container.
    expect(await served(host, '/greeting')).toBe('hello from the plan');
    const [container] = await dockerClient().listContainers({
      filters: { label: [`docker-watcher.project=${project}`, 'docker-watcher.stage=dev'] },
    });
    expect(container?.Image).toBe(`${registry.host}/${repository}@${pushed.digest}`);
    expect(Object.keys(container?.NetworkSettings?.Networks ?? {})).toContain(network);
  });

  it('rel: a v* push waits for a click, visible in the API and the CLI; deploying it asks prod for a confirmation', async () => {
    const pushed = await pushImage(registry, {
      source: 'dw-testkit/plan-app:v1.0.0',
      repository,
      tag: 'v1.0.0',
    });
    const rel = await until('rel to hold v1.0.0', async () => {
      const s = await stage('rel');
      return s.desired?.tag === 'v1.0.0' ? s : undefined;
    });
    expect(rel).toMatchObject({
      autoDeploy: false,
      actual: null,
      desired: { digest: pushed.digest, reason: 'v1.0.0 is available; auto-deploy is off' },
    });
    const status = await runCli(['status', project]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(
      `v1.0.0: v1.0.0 is available; auto-deploy is off (docker-watcher deploy ${project} rel)`,
    );
    // Nothing deploys by itself, polling every second.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect((await stage('rel')).actual).toBeNull();

    const deployed = await runCli(['deploy', project, 'rel']);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(
      await until('NPM to route rel', () => served(`stage-rel-${project}.example.com`, '/version')),
    ).toBe('v1.0.0');

    // prod: auto_deploy false, confirm true, promote_from rel: a confirmation, and a notification of it.
    const [approval] = await until('prod to ask for a confirmation', async () => {
      const { approvals } = await api<{
        approvals: Array<{ id: string; stage: string; release: { digest: string } }>;
      }>('/api/approvals');
      return approvals.length > 0 ? approvals : undefined;
    });
    expect(approval).toMatchObject({ stage: 'prod', release: { digest: pushed.digest } });
    const notice = await until('the notification', async () =>
      received.find((e) => e.type === 'deploy:awaiting-confirmation'),
    );
    expect(notice).toMatchObject({ project, stage: 'prod', approvalId: approval!.id });
    expect((await stage('prod')).actual).toBeNull();
  });

  it('prod: the confirmation deploys exactly the digest rel proved, on its own subdomain', async () => {
    const { approvals } = await api<{ approvals: Array<{ id: string }> }>('/api/approvals');
    const approved = await runCli(['approve', approvals[0]!.id]);
    expect(approved.code, approved.stderr).toBe(0);
    const [prod, rel] = [await stage('prod'), await stage('rel')];
    expect(prod.actual).toEqual(rel.actual);
    expect(await until('NPM to route prod', () => served('launcher.example.com', '/version'))).toBe('v1.0.0');
    const hosts = npm
      .hosts()
      .flatMap((h) => h.domain_names)
      .sort();
    expect(hosts).toEqual([
      'launcher.example.com',
      `stage-dev-${project}.example.com`,
      `stage-rel-${project}.example.com`,
    ]);
    const history = await runCli(['history', project]);
    expect(history.stdout).toMatch(/web-app-launcher\/prod\s+v1\.0\.0\s+\S+\s+succeeded\s+promotion/);
  });
});
