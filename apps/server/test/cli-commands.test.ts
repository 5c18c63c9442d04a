import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MemoryDeployTarget, type MemoryRegistry, silentLogger } from '@docker-watcher/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/serve.ts';

const root = join(import.meta.dirname, '../../..');
const cli = join(root, 'apps/server/src/cli.ts');
const token = 'cli-commands-token-0123456789';
const digest = (n: number) => `sha256:${n.toString(16).repeat(64)}`;

let dir: string;
let server: RunningServer;
let base: string;

/** The CLI as a child process (the server it talks to runs in this one). */
function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--conditions=@docker-watcher/source', cli, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', DOCKER_WATCHER_URL: base, DOCKER_WATCHER_TOKEN: token, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
}
const json = async (args: string[], env: Record<string, string> = {}) => {
  const result = await run([...args, '--json'], env);
  // Exactly one JSON value on stdout, whatever the outcome; nothing on stderr.
  expect(result.stderr).toBe('');
  return { code: result.code, body: JSON.parse(result.stdout) as Record<string, unknown> };
};

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dw-cli-commands-'));
  const file = join(dir, 'config.yml');
  writeFileSync(
    file,
    `global:
  store: "memory:"
  target: { type: memory }
  poll_interval_seconds: 0
  server:
    listen: 127.0.0.1:0
    tokens: [{ name: ops, token_env: DW_TOKEN, scopes: [admin] }]
registries:
  local: { type: memory }
projects:
  app:
    registry: local
    image: registry.test/team/app
    healthcheck: { interval_ms: 10, timeout_ms: 50, retries: 2 }
    stages:
      dev: { tag_pattern: "dev-*", auto_deploy: true }
      rel: { tag_pattern: "v*", auto_deploy: false }
      prod: { tag_pattern: "v*", auto_deploy: false, confirm: true, promote_from: rel }
  slow:
    registry: local
    image: registry.test/team/slow
    healthcheck: { interval_ms: 20, timeout_ms: 50, retries: 2, start_period_ms: 600000 }
    stages:
      dev: { tag_pattern: "dev-*" }
`,
  );
  server = await startServer({
    configFile: file,
    env: { DW_TOKEN: token },
    logger: silentLogger,
    port: 0,
    onComposed: (composed) => {
      const registry = composed.registries.local as MemoryRegistry;
      for (const [i, tag] of ['dev-1', 'v1.0.0', 'v1.1.0'].entries())
        registry.push('team/app', tag, digest(i + 1));
      registry.push('team/slow', 'dev-9', digest(9));
    },
  });
  base = `http://127.0.0.1:${server.port}`;
  await server.composed.engine.idle();
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

// Each test runs the CLI several times, each a Node process of its own: on a busy machine that adds up.
describe('docker-watcher against a running server', { timeout: 180_000 }, () => {
  it('status: every stage with its release, digest and what waits for a person', async () => {
    const { code, stdout } = await run(['status']);
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^STAGE\s+RELEASE\s+DIGEST\s+LAST DEPLOY\s+AUTO\s+WAITING$/);
    expect(lines.find((l) => l.startsWith('app/dev '))).toMatch(/dev-1\s+1{12}\s+succeeded \(dev-1\)\s+on/);
    expect(lines.find((l) => l.startsWith('app/rel '))).toMatch(
      /v1\.1\.0: v1\.1\.0 is available; auto-deploy is off \(docker-watcher deploy app rel\)/,
    );
    const body = (await json(['status'])).body as { projects: Array<{ id: string }> };
    expect(body.projects.map((p) => p.id)).toEqual(['app', 'slow']);
  });

  it('deploy, then approve what waits in prod; history lists both; logs replay a finished deploy', async () => {
    const deployed = await run(['deploy', 'app', 'rel', 'v1.0.0']);
    expect(deployed.code).toBe(0);
    expect(deployed.stdout).toMatch(/^deploy \S+: v1\.0\.0 \(sha256:2{64}\) succeeded\n$/);
    await server.composed.engine.idle();
    const { body } = await json(['status', 'app']);
    const [approval] = body.approvals as Array<{ id: string; stage: string; release: { tag: string } }>;
    expect(approval).toMatchObject({ stage: 'prod', release: { tag: 'v1.0.0' } });
    expect((await run(['status', 'app'])).stdout).toContain(
      `v1.0.0 needs approval (docker-watcher approve ${approval!.id})`,
    );
    const approved = await json(['approve', approval!.id]);
    expect(approved).toMatchObject({ code: 0, body: { deploy: { stage: 'prod', state: 'succeeded' } } });

    const history = await run(['history', 'app', '--limit', '2']);
    expect(history.code).toBe(0);
    const rows = history.stdout.trim().split('\n');
    expect(rows).toHaveLength(3);
    expect(rows[1]).toMatch(/app\/prod\s+v1\.0\.0\s+2{12}\s+succeeded\s+promotion/);
    expect(rows[2]).toMatch(/app\/rel\s+v1\.0\.0\s+2{12}\s+succeeded\s+manual/);

    const id = (approved.body.deploy as { id: string }).id;
    const logs = await run(['logs', id]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/^pending/);
    expect(logs.stdout).toContain('succeeded');
    expect(logs.stdout.trim().split('\n').pop()).toBe(`deploy ${id}: succeeded`);
  });

  it('reject keeps a release out; pin, unpin and auto-deploy change the stage', async () => {
    await run(['deploy', 'app', 'rel', 'v1.1.0']);
    await server.composed.engine.idle();
    const pending = ((await json(['status', 'app'])).body.approvals as Array<{ id: string }>)[0]!;
    expect(await json(['reject', pending.id])).toMatchObject({ code: 0, body: { rejected: pending.id } });
    expect((await json(['status', 'app'])).body.approvals).toEqual([]);

    expect((await run(['pin', 'app', 'dev', 'dev-1'])).stdout).toBe(
      'app/dev: auto-deploy on, pinned to dev-1; runs dev-1 (111111111111)\n',
    );
    expect((await json(['unpin', 'app', 'dev'])).body).toMatchObject({ name: 'dev', pin: null });
    expect((await json(['auto-deploy', 'app', 'dev', 'off'])).body).toMatchObject({ autoDeploy: false });
    expect((await json(['auto-deploy', 'app', 'dev', 'on'])).body).toMatchObject({ autoDeploy: true });
    const bad = await json(['auto-deploy', 'app', 'dev', 'maybe']);
    expect(bad).toEqual({
      code: 2,
      body: { error: { code: 'USAGE', message: 'auto-deploy takes on or off, not maybe' } },
    });
  });

  it('cancel stops a deploy that waits in its health gate; logs --follow follows it to the end', async () => {
    // Unhealthy within a long start period: the gate waits until cancelled.
    (server.composed.target as MemoryDeployTarget).simulate(digest(9), 'unhealthy');
    const queued = await json(['deploy', 'slow', 'dev', '--no-wait']);
    const id = (queued.body.deploy as { id: string }).id;
    const following = run(['logs', id, '--follow']);
    const cancelled = await json(['cancel', id]);
    expect(cancelled.code, JSON.stringify(cancelled.body)).toBe(0);
    const followed = await following;
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stdout.trim().split('\n').pop()).toMatch(
      new RegExp(`^deploy ${id}: (cancelled|rolled-back)$`),
    );
    const again = await json(['cancel', id]);
    expect(again.code).toBe(1);
    expect(again.body).toMatchObject({ error: { code: 'CONFLICT' } });
  });

  it('names --token and DOCKER_WATCHER_TOKEN on a 401, in words and in JSON', async () => {
    const none = await run(['status'], { DOCKER_WATCHER_TOKEN: '' });
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      `UNAUTHORIZED: the server at ${base} needs a token (401): pass --token or set DOCKER_WATCHER_TOKEN\n`,
    );
    const wrong = await json(['history', '--token', 'not-the-token-000000']);
    expect(wrong).toEqual({
      code: 1,
      body: {
        error: {
          code: 'UNAUTHORIZED',
          message: `the server at ${base} refused the token (401): check --token or DOCKER_WATCHER_TOKEN`,
        },
      },
    });
  });

  it('names the URL and what to check when no server answers, in words and in JSON', async () => {
    // A port nothing listens on (fetch refuses the well-known ones, such as 9, before connecting).
    const url = `http://127.0.0.1:${await closedPort()}`;
    const down = await run(['plan', '--url', url]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`cannot reach the server at ${url} (ECONNREFUSED)`);
    expect(down.stderr).toContain('Check --url or DOCKER_WATCHER_URL');
    const asJson = await json(['approve', 'x', '--url', url]);
    expect(asJson.code).toBe(1);
    expect(asJson.body).toMatchObject({ error: { code: 'UNAVAILABLE' } });
    const notFound = await json(['logs', 'no-such-deploy']);
    expect(notFound).toMatchObject({ code: 1, body: { error: { code: 'NOT_FOUND' } } });
  });
});

describe('docker-watcher help, version and completion', { timeout: 120_000 }, () => {
  const sync = (args: string[]) => {
    const result = spawnSync(process.execPath, ['--conditions=@docker-watcher/source', cli, ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  it('--version prints the package version', () => {
    const { version } = JSON.parse(readFileSync(join(root, 'apps/server/package.json'), 'utf8')) as {
      version: string;
    };
    expect(sync(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
    expect(JSON.parse(sync(['--version', '--json']).stdout)).toEqual({ version });
  });

  it('help <command> and <command> --help show its usage and examples', () => {
    const help = sync(['help', 'auto-deploy']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: docker-watcher auto-deploy <project> <stage> on|off');
    expect(help.stdout).toContain('Examples:\n  docker-watcher auto-deploy web-app rel on');
    expect(sync(['history', '--help']).stdout).toContain(
      'Usage: docker-watcher history [project] [stage] [--limit <n>]',
    );
    const overview = sync(['help']);
    for (const name of [
      'approve',
      'reject',
      'pin',
      'unpin',
      'auto-deploy',
      'cancel',
      'status',
      'history',
      'logs',
      'completion',
    ])
      expect(overview.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect(sync(['help', 'nope'])).toMatchObject({
      code: 2,
      stderr: 'no command nope; see docker-watcher help\n',
    });
    expect(JSON.parse(sync(['frobnicate', '--json']).stdout)).toEqual({
      error: { code: 'USAGE', message: 'no command frobnicate; see docker-watcher help' },
    });
  });

  it('completes commands and options in bash', () => {
    const script = sync(['completion', 'bash']).stdout;
    const complete = (words: string) =>
      spawnSync(
        'bash',
        [
          '-c',
          `${script}\nCOMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _docker_watcher; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        {
          encoding: 'utf8',
        },
      )
        .stdout.trim()
        .split('\n');
    expect(complete("docker-watcher a ''".replace(" ''", ''))).toEqual(['approve', 'auto-deploy']);
    expect(complete('docker-watcher logs --f')).toEqual(['--follow']);
    expect(complete("docker-watcher auto-deploy app dev ''")).toEqual(['on', 'off']);
  });

  it('writes a zsh completion function with every command and its summary', () => {
    const script = sync(['completion', 'zsh']).stdout;
    expect(script.startsWith('#compdef docker-watcher\n')).toBe(true);
    expect(script).toContain(
      "'approve:confirm a release that waits for a person (ids in `status`), and follow its deploy'",
    );
    expect(script).toContain("logs) _values 'option' '--follow' '-f' '--json'");
  });
});
