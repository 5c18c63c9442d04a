import { execFile, spawn } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dockerClient } from '@docker-watcher/testkit';
import { startNtfyFake } from '@docker-watcher/testkit/notify';
import { expect, it } from 'vitest';
import { stackIdLabel } from '../src/stack-config.ts';

const main = join(import.meta.dirname, '../src/main.ts');
const node = (args: string[]) =>
  [process.execPath, ['--conditions=@docker-watcher/source', main, ...args]] as const;

/** `GET /version` through Caddy with a Host header, as the demo's curl lines do. */
async function served(line: string): Promise<string> {
  const [, host, port] = /curl -H 'Host: ([^']+)' http:\/\/127\.0\.0\.1:(\d+)\/version/.exec(line) ?? [];
  return new Promise((resolve, reject) => {
    request(
      { host: '127.0.0.1', port: Number(port), path: '/version', headers: { host }, agent: false },
      (res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve(body.trim()));
      },
    )
      .on('error', reject)
      .end();
  });
}

/** How long the story may take before the test stops it. */
const onceLimitMs = 240_000;

/**
 * A failed `--once` run as one error whose first line says why (the summary of the test command
 * shows only that line): the demo's own "the demo failed" line, else how the process ended.
 */
function demoFailure(error: unknown): Error {
  const failure = error as {
    stdout?: string;
    stderr?: string;
    signal?: string | null;
    killed?: boolean;
    code?: number | string;
    message?: string;
  };
  const stderr = failure.stderr ?? '';
  const ended = failure.killed
    ? `killed by ${failure.signal} (the ${onceLimitMs / 1000} s limit, or its output limit)`
    : `ended with ${failure.code ?? failure.signal ?? 'no code'} without saying why: ${failure.message?.split('\n')[0]}`;
  const reason = /the demo failed: .*/.exec(stderr)?.[0] ?? ended;
  const lastLines = (failure.stdout ?? '').trim().split('\n').slice(-6).join('\n');
  return new Error(`demo --once: ${reason}\nlast lines it printed:\n${lastLines}\nstderr:\n${stderr}`, {
    cause: error,
  });
}

it('tells the story: automatic dev deploy, rel confirmed, prod promoted by digest, broken dev rolled back', async () => {
  // Pointed at a channel by one line: DW_DEMO_NOTIFY.
  const ntfy = await startNtfyFake();
  const notifyUrl = `ntfy://${ntfy.username}:${ntfy.password}@${new URL(ntfy.origin).host}/${ntfy.topic}?scheme=http`;
  const [command, args] = node(['--once']);
  const { stdout } = await promisify(execFile)(command, args, {
    timeout: onceLimitMs,
    env: { ...process.env, DW_DEMO_NOTIFY: notifyUrl },
  })
    .catch((error: unknown) => {
      throw demoFailure(error);
    })
    .finally(() => ntfy.close());
  expect(stdout).toMatch(/dev: dev-1 deployed automatically \(auto\), curl .* -> v1/);
  expect(stdout).toMatch(/time from the command to the first automatic deploy: \d+\.\d s/);
  expect(stdout).toMatch(/rel: v1\.0\.0 \(sha256:[0-9a-f]{12}…\) waits for confirmation \(approval [\w-]+\)/);
  expect(stdout).toMatch(
    /confirmed through the API: rel deployed v1\.0\.0, curl .*stage-rel-demo\.localhost.* -> v2/,
  );
  expect(stdout).toMatch(/prod: v1\.0\.0 \(sha256:[0-9a-f]{12}…\) waits for confirmation/);
  expect(stdout).toMatch(
    /confirmed: prod runs sha256:[0-9a-f]{12}…, the same digest as rel, curl .*app\.localhost.* -> v2/,
  );
  expect(stdout).toMatch(
    /dev: dev-2 ended rolled-back \(.*health.*\); the old release still serves: curl .* -> v1/,
  );
  expect(stdout).toContain('done');
  expect(stdout).not.toContain('Ctrl-C');
  // The channel heard the story, with links to the server's deploys and approvals pages.
  const told = ntfy.messages.map((message) => message.json as { title: string; click?: string });
  expect(told.map((message) => message.title)).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/dev-1/),
      expect.stringMatching(/v1\.0\.0.*rel|rel.*v1\.0\.0/),
      expect.stringMatching(/v1\.0\.0.*prod|prod.*v1\.0\.0/),
      expect.stringMatching(/dev-2/),
    ]),
  );
  expect(told.map((message) => message.click)).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/deploys\/[\w-]+$/),
      expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/approvals$/),
    ]),
  );
  expect(stdout).not.toContain(ntfy.password);
}, 300_000);

it('keeps serving until Ctrl-C, prints what to try, then removes what it started and exits 0', async () => {
  const [command, args] = node([]);
  const child = spawn(command, args);
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  for (let i = 0; i < 2_400 && !output.includes('Ctrl-C') && child.exitCode === null; i++)
    await new Promise((resolve) => setTimeout(resolve, 100));
  expect(output).toContain('Ctrl-C stops and removes everything.');
  const devLine = output
    .split('\n')
    .find((line) => line.includes("curl -H 'Host: stage-dev-demo.localhost'"));
  const prodLine = output
    .split('\n')
    .find((line) => line.includes('app.localhost') && line.includes('-> v2'));
  // Still serving a second later, through Caddy: the old dev release, the promoted prod one.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(await served(devLine ?? '')).toBe('v1');
  expect(await served(prodLine ?? '')).toBe('v2');
  // What to try: a token made up for this run, never the webhook secret.
  const token = /DOCKER_WATCHER_TOKEN=(dw-demo-[0-9a-f]{32})/.exec(output)?.[1];
  const server = /DOCKER_WATCHER_URL=(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
  const projects = await fetch(`${server}/api/projects/demo`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(projects.status).toBe(200);
  // The dashboard, with a login made up for this run.
  const [, url, user, password] =
    /Dashboard: (http:\/\/127\.0\.0\.1:\d+)\/ {2}user (\S+), password (\S+) \(made up for this run\)/.exec(
      output,
    ) ?? [];
  const page = await fetch(`${url}/`);
  expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(await page.text()).toContain('<title>Docker Watcher</title>');
  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user, password }),
  });
  expect(login.status).toBe(200);

  child.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(output).toContain('done');
  await expect(served(devLine ?? '')).rejects.toThrow();
  await expect(fetch(`${server}/healthz`)).rejects.toThrow();
  expect(await containersOf(child.pid)).toEqual([]);
  // Nor image references named after its registry: what it pushed and what the server pulled.
  const registry = /registry: http:\/\/(127\.0\.0\.1:\d+)/.exec(output)?.[1];
  expect(registry).toBeDefined();
  const references = (await dockerClient().listImages()).flatMap((image) => [
    ...(image.RepoTags ?? []),
    ...(image.RepoDigests ?? []),
  ]);
  expect(references.filter((reference) => reference.startsWith(`${registry}/`))).toEqual([]);
}, 300_000);

it('stops cleanly on Ctrl-C in the middle of the story', async () => {
  const [command, args] = node([]);
  const child = spawn(command, args);
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  for (let i = 0; i < 1_200 && !output.includes('2. CI pushes') && child.exitCode === null; i++)
    await new Promise((resolve) => setTimeout(resolve, 50));
  expect(output).toContain('2. CI pushes');
  expect((await containersOf(child.pid)).length).toBeGreaterThan(0);
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(output).toContain('done');
  expect(output).not.toContain('Ctrl-C stops');
  expect(await containersOf(child.pid)).toEqual([]);
}, 300_000);

/** Containers a demo process deployed (its stack id starts with its pid). */
async function containersOf(pid: number | undefined) {
  const all = await dockerClient().listContainers({ all: true, filters: { label: [stackIdLabel] } });
  return all.filter((c) => c.Labels[stackIdLabel]?.startsWith(`${pid}-`));
}
