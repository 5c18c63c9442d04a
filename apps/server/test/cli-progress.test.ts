import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MemoryDeployTarget, type MemoryRegistry, silentLogger } from '@docker-watcher/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/serve.ts';

const root = join(import.meta.dirname, '../../..');
const cli = join(root, 'apps/server/src/cli.ts');
const token = 'cli-progress-token-0123456789';
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;

/** The CLI as a child process; asynchronous, because the server it talks to runs in this one. */
function start(args: string[]) {
  const child = spawn(process.execPath, ['--conditions=@docker-watcher/source', cli, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', DOCKER_WATCHER_URL: base, DOCKER_WATCHER_TOKEN: token },
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, ...output })),
  );
  return { output, done };
}
const run = (args: string[]) => start(args).done;

let dir: string;
let server: RunningServer;
let base: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dw-cli-progress-'));
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
      dev: { tag_pattern: "dev-*" }
      rel: { tag_pattern: "v*" }
      prod: { tag_pattern: "v*", promote_from: rel }
  slow:
    registry: local
    image: registry.test/team/slow
    # Failed probes do not count within the start period: the gate waits until the release is healthy.
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
      for (const [i, tag] of ['dev-1', 'dev-2', 'dev-3', 'v1.0.0'].entries())
        registry.push('team/app', tag, digest(i + 1));
      registry.push('team/slow', 'dev-9', digest(9));
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const order = (text: string, parts: string[]) => {
  const at = parts.map((part) => text.indexOf(part));
  expect(at.every((i) => i >= 0)).toBe(true);
  expect([...at].sort((a, b) => a - b)).toEqual(at);
};

describe('CLI progress on deploy, promote and rollback', () => {
  it('deploy follows the deploy: states on stderr as they change, the outcome on stdout, exit 0', async () => {
    const { code, stdout, stderr } = await run(['deploy', 'app', 'dev', 'dev-1']);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^deploy [\\w-]+: dev-1 \\(${digest(1)}\\) succeeded\\n$`));
    expect(stderr).toMatch(new RegExp(`^deploy [\\w-]+: dev-1 \\(${digest(1)}\\) to app/dev\\n`));
    order(stderr, ['\n  pending', '\n  pulling', '\n  starting', '\n  health-checking', '\n  succeeded']);
    // Log lines of the deploy come along, indented under the steps.
    expect(stderr).toContain('\n    health gate passed\n');
  });

  it('shows each step while the deploy is still running, not only at its end', async () => {
    const target = server.composed.target as MemoryDeployTarget;
    target.simulate(digest(9), 'unhealthy');
    const cli = start(['deploy', 'slow', 'dev', 'dev-9']);
    await expect
      .poll(() => cli.output.stderr, { timeout: 30_000, interval: 50 })
      .toContain('\n  health-checking');
    const id = /^deploy ([\w-]+):/.exec(cli.output.stderr)![1]!;
    const response = await fetch(`${base}/api/deploys/${id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await response.json()) as { deploy: { state: string } }).deploy.state).toBe('health-checking');
    expect(cli.output.stdout).toBe('');
    target.simulate(digest(9), 'healthy');
    const { code, stdout, stderr } = await cli.done;
    expect(code).toBe(0);
    expect(stdout).toMatch(/dev-9 .* succeeded\n$/);
    order(stderr, ['\n  health-checking', '\n    health gate passed', '\n  succeeded']);
  });

  it('--json: only the finished record on stdout, no progress anywhere', async () => {
    const { code, stdout, stderr } = await run(['deploy', 'app', 'dev', 'dev-2', '--json']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const { deploy } = JSON.parse(stdout) as {
      deploy: { state: string; finished: boolean; release: unknown };
    };
    expect(deploy).toMatchObject({ state: 'succeeded', finished: true, release: { tag: 'dev-2' } });
  });

  it('a failed deploy: its rollback shows, the error is reported, exit 1 (also with --json)', async () => {
    (server.composed.target as MemoryDeployTarget).simulate(digest(3), 'unhealthy');
    const human = await run(['deploy', 'app', 'dev', 'dev-3']);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(new RegExp(`dev-3 \\(${digest(3)}\\) rolled-back\\n$`));
    order(human.stderr, ['\n  health-checking', '\n  rolling-back', '\n  rolled-back']);
    expect(human.stderr).toMatch(/\n[A-Z_]+: .+\n$/);
    const json = await run(['deploy', 'app', 'dev', 'dev-3', '--json']);
    expect(json.code).toBe(1);
    expect(json.stderr).toBe('');
    expect((JSON.parse(json.stdout) as { deploy: { state: string } }).deploy.state).toBe('rolled-back');
  });

  it('rollback and promote are followed the same way', async () => {
    const back = await run(['rollback', 'app', 'dev']);
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(new RegExp(`dev-1 \\(${digest(1)}\\) succeeded\\n$`));
    expect(back.stderr).toContain('to app/dev\n');

    expect((await run(['deploy', 'app', 'rel', 'v1.0.0'])).code).toBe(0);
    const promoted = await run(['promote', 'app', 'prod']);
    expect(promoted.code).toBe(0);
    expect(promoted.stderr).toContain(`v1.0.0 (${digest(4)}) to app/prod\n`);
    expect(promoted.stdout).toMatch(/v1\.0\.0 .* succeeded\n$/);
  });

  it('--no-wait returns once the deploy is queued', async () => {
    const { code, stdout } = await run(['deploy', 'app', 'dev', 'dev-2', '--no-wait']);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^deploy [\\w-]+: dev-2 \\(${digest(2)}\\) pending\\n$`));
    await server.composed.engine.idle();
  });

  it('a refused request is reported before anything is followed', async () => {
    const { code, stdout, stderr } = await run(['deploy', 'app', 'dev', 'nope-1']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^BAD_REQUEST|^NOT_FOUND|^CONFLICT/);
  });
});
