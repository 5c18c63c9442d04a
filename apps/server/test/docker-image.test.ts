// apps/server/Dockerfile, built and run on the real engine without network. What the test
// substitutes (and why) is in the server README, "Running in Docker" > "How the image is tested".
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { buildNodeBaseImage, dockerClient, runCommand, testkitLabels } from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The testkit's dockerode types, without a dependency of the server on dockerode.
type Docker = ReturnType<typeof dockerClient>;
type Container = Awaited<ReturnType<Docker['createContainer']>>;

const root = join(import.meta.dirname, '../../..');
const dockerfile = join(root, 'apps/server/Dockerfile');
const token = 'image-test-token-0123456789';
const imageRef = `dw-testkit/server:test-${process.pid}`;

/** The Dockerfile's own bundle command (its build-source stage), to run on this host. */
function bundleCommand(out: string): string {
  const line = readFileSync(dockerfile, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('RUN pnpm --filter "@docker-watcher/server..." run build'));
  if (!line?.endsWith(' /out/app'))
    throw new Error('apps/server/Dockerfile: the bundle command is not where the test looks');
  return `${line.slice('RUN '.length, -' /out/app'.length)} ${out}`;
}

/**
 * A copy of the workspace's sources sharing its installed packages: the build writes dist/ folders
 * and pnpm its state files, which must not touch the working tree other tests run from.
 */
async function workspaceCopy(dir: string): Promise<string> {
  const copy = join(dir, 'workspace');
  mkdirSync(copy);
  const tar = await runCommand('sh', [
    '-c',
    `tar -C '${root}' --exclude=./.git --exclude=./.tools --exclude=./node_modules --exclude='*/dist' --exclude=./.cache -cf - . | tar -C '${copy}' -xf -`,
  ]);
  if (tar.code !== 0) throw new Error(`copying the workspace failed: ${tar.stderr}`);
  mkdirSync(join(copy, 'node_modules'));
  for (const entry of readdirSync(join(root, 'node_modules')))
    symlinkSync(join(root, 'node_modules', entry), join(copy, 'node_modules', entry));
  return copy;
}

/** BuildKit (API version 2; it builds only the stages the target needs), without network. */
async function buildImage(docker: Docker, context: string, buildargs: Record<string, string>) {
  const stream = await docker.buildImage(
    { context, src: ['Dockerfile', 'app'] },
    {
      t: imageRef,
      version: '2',
      // This engine has no default bridge; RUN steps need no network anyway.
      networkmode: 'none',
      buildargs,
      labels: testkitLabels(),
    },
  );
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null) => (error ? reject(error) : resolve()),
      (event: { error?: string; errorDetail?: { message?: string } }) => {
        if (event.error) reject(new Error(event.errorDetail?.message ?? event.error));
      },
    );
  });
}

async function exec(container: Container, cmd: string[]) {
  const run = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await run.start({ hijack: true, stdin: false });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => (out += chunk));
  stderr.on('data', (chunk) => (err += chunk));
  container.modem.demuxStream(stream, stdout, stderr);
  await new Promise((resolve) => stream.on('end', resolve));
  const { ExitCode } = await run.inspect();
  return { code: ExitCode, stdout: out, stderr: err };
}

const config = `global:
  store: sqlite:/data/docker-watcher.db
  target: { type: memory }
  poll_interval_seconds: 0
  server:
    listen: 0.0.0.0:8080
    tokens: [{ name: ops, token_env: DW_TOKEN, scopes: [read] }]
registries:
  local: { type: memory }
projects:
  web-app:
    registry: local
    image: registry.test/team/web-app
    stages: { dev: { tag_pattern: "dev-*", auto_deploy: true } }
`;

let dir: string;
let docker: Docker;
let container: Container | undefined;
let baseImage: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dw-image-'));
  docker = dockerClient();
  baseImage = await buildNodeBaseImage(docker);

  // The bundle, made on this host by the Dockerfile's own command from the installed workspace.
  const context = join(dir, 'context');
  mkdirSync(context);
  const tools = join(root, '.tools/node_modules/.bin');
  const path = [dirname(process.execPath), ...(existsSync(tools) ? [tools] : []), process.env.PATH].join(
    delimiter,
  );
  const bundle = await runCommand(
    'sh',
    ['-c', `cd '${await workspaceCopy(dir)}' && ${bundleCommand(join(context, 'app'))}`],
    {
      env: { ...process.env, PATH: path },
      timeoutMs: 600_000,
    },
  );
  if (bundle.code !== 0) throw new Error(`building the bundle failed:\n${bundle.stdout}\n${bundle.stderr}`);
  writeFileSync(join(context, 'Dockerfile'), readFileSync(dockerfile));
  await buildImage(docker, context, { NODE_IMAGE: baseImage, BUILD: 'bundle' });
}, 900_000);

afterAll(async () => {
  await container?.remove({ force: true, v: true }).catch(() => undefined);
  await docker
    ?.getImage(imageRef)
    .remove({ force: true })
    .catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('apps/server/Dockerfile', () => {
  it('runs the server as a non-root user with its SQLite file on /data, healthy by its own HEALTHCHECK', async () => {
    const image = await docker.getImage(imageRef).inspect();
    expect(image.Config.User).toBe('node');
    expect(image.Config.Entrypoint).toEqual(['docker-watcher']);
    expect(image.Config.Cmd).toEqual(['serve']);
    expect(Object.keys(image.Config.Volumes ?? {})).toEqual(['/data']);
    expect(image.Config.Env).toContain('DOCKER_WATCHER_CONFIG=/etc/docker-watcher/config.yml');
    const healthcheck = image.Config.Healthcheck?.Test ?? [];
    expect(healthcheck.join(' ')).toContain('http://127.0.0.1:8080/healthz');

    const configFile = join(dir, 'config.yml');
    writeFileSync(configFile, config);
    container = await docker.createContainer({
      Image: imageRef,
      Labels: testkitLabels(),
      Env: [`DW_TOKEN=${token}`],
      // Only the interval is shortened; the check itself is the image's.
      Healthcheck: { Interval: 500_000_000, StartPeriod: 30_000_000_000 },
      HostConfig: {
        NetworkMode: 'none',
        Binds: [`${configFile}:/etc/docker-watcher/config.yml:ro`],
      },
    });
    await container.start();
    await expect
      .poll(
        async () => {
          const state = (await container!.inspect()).State;
          if (!state.Running) throw new Error(`the server exited (${state.ExitCode})`);
          return state.Health?.Status;
        },
        { timeout: 120_000, interval: 250 },
      )
      .toBe('healthy');

    const check = await exec(container, ['docker-watcher', 'check']);
    expect(check).toMatchObject({ code: 0 });
    expect(check.stdout).toContain(
      '/etc/docker-watcher/config.yml is valid: 1 registries, 1 projects, 1 stages (store sqlite, target memory)',
    );

    const facts = await exec(container, [
      'node',
      '-e',
      `const fs = require('node:fs');
       Promise.all([
         fetch('http://127.0.0.1:8080/api/projects', { headers: { authorization: 'Bearer ${token}' } }).then((r) => r.json()),
         fetch('http://127.0.0.1:8080/').then(async (r) => [r.headers.get('content-type'), await r.text()]),
       ]).then(([body, [type, page]]) => console.log(JSON.stringify({
           uid: process.getuid(),
           db: fs.statSync('/data/docker-watcher.db').isFile(),
           projects: body.projects.map((p) => p.id),
           dashboard: type + ' ' + page.includes('<title>Docker Watcher</title>'),
         })));`,
    ]);
    expect(facts.code).toBe(0);
    // The dashboard ships inside the image: served at / with no extra step.
    expect(JSON.parse(facts.stdout)).toEqual({
      uid: 1000,
      db: true,
      projects: ['web-app'],
      dashboard: 'text/html; charset=utf-8 true',
    });

    // A broken config: check says so, with the path, and exits 1.
    const broken = await exec(container, [
      'sh',
      '-c',
      `printf 'projects:\\n  web-app: { registry: nope, image: x, stages: { dev: {} } }\\n' > /data/bad.yml && docker-watcher check --config /data/bad.yml`,
    ]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('/data/bad.yml has 1 problem:\nregistries: ');
  });
});
