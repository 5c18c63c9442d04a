// Push-to-serving latency of the whole product: the fixture app is pushed to a local registry as a new
// `dev-*` tag (v1 and v2 alternating), and the time runs from the push finishing to the new release
// answering through Caddy. Once with registry notifications (POST /api/webhook/registry, no polling), once
// with polling every 2 s and no notifications. The server is `docker-watcher serve` in its own process
// (SQLite store, OCI registry adapter, Docker target, Caddy proxy), started by examples/server-demo's stack.
//
//   node --conditions=@docker-watcher/source bench/push-to-serving.bench.ts           prints a markdown report
//   … --pushes 5 --modes webhook                                                       a quick look
//
// No target is set for this figure, so there is no --check. Starts (and removes again) a Docker Engine when
// none answers, the registry, Caddy, the server and every container it deploys. Erasable TypeScript only.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createStackServer,
  type StackProject,
  stackConfigText,
  stackDomain,
  stackEnvNames,
  stackIdLabel,
  startStack,
} from '@docker-watcher/example-server-demo';
import {
  type AppRelease,
  appFixture,
  buildFixtureImages,
  dockerClient,
  ensureDockerEngine,
  freePort,
  pushImage,
  startCaddy,
  startRegistry,
} from '@docker-watcher/testkit';
import { quantile } from './_quantile.ts';

const { values: args } = parseArgs({
  options: {
    pushes: { type: 'string', default: '20' },
    modes: { type: 'string', default: 'webhook,polling' },
    'poll-seconds': { type: 'string', default: '2' },
  },
});
const pushCount = Number(args.pushes);
type Mode = 'webhook' | 'polling';
const modes = args.modes.split(',') as Mode[];
const pollSeconds = Number(args['poll-seconds']);

const project = 'bench';
const repository = 'bench/push-to-serving';
const projects: Record<string, StackProject> = {
  [project]: { repository, stages: { dev: { tag_pattern: 'dev-*', auto_deploy: true } } },
};
const host = `stage-dev-${project}.${stackDomain}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Harness {
  push(release: AppRelease, tag: string): Promise<unknown>;
  dispose(): Promise<void>;
  caddyPort: number;
}

/** Registry notifications to the server's webhook, no polling: the stack as the demo runs it. */
async function webhookHarness(): Promise<Harness> {
  const stack = await startStack({ projects, pollIntervalSeconds: 0, serverMode: 'child' });
  return {
    push: (release, tag) => stack.push(release, repository, tag),
    dispose: () => stack.dispose(),
    caddyPort: stack.caddy.httpPort,
  };
}

/**
 * Polling only: the stack's config and server, on a registry that sends no notifications (the stack's
 * registry always notifies, which would turn this into the webhook measurement).
 */
async function pollingHarness(): Promise<Harness> {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  const dispose = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    const engine = await ensureDockerEngine();
    cleanups.push(() => engine.stop());
    const docker = dockerClient();
    await buildFixtureImages(docker);
    const dir = mkdtempSync(join(tmpdir(), 'dw-bench-push-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const [registry, caddy] = await Promise.all([startRegistry(), startCaddy()]);
    cleanups.push(
      () => registry.stop(),
      () => caddy.stop(),
    );
    const stackId = `bench-${process.pid}-${randomBytes(3).toString('hex')}`;
    const network = `dw-stack-${stackId}`;
    cleanups.push(async () => {
      const found = await docker.listContainers({
        all: true,
        filters: { label: [`${stackIdLabel}=${stackId}`] },
      });
      for (const info of found)
        await docker
          .getContainer(info.Id)
          .remove({ force: true, v: true })
          .catch(() => undefined);
      await docker
        .getNetwork(network)
        .remove()
        .catch(() => undefined);
    });
    const port = await freePort();
    const configFile = join(dir, 'docker-watcher.yml');
    writeFileSync(
      configFile,
      stackConfigText({
        projects,
        registryUrl: registry.url,
        registryHost: registry.host,
        caddy,
        listenPort: port,
        store: `sqlite:${join(dir, 'docker-watcher.db')}`,
        network,
        stackId,
        pollIntervalSeconds: pollSeconds,
        domain: stackDomain,
      }),
    );
    const server = createStackServer({
      mode: 'child',
      configFile,
      port,
      env: {
        [stackEnvNames.adminToken]: randomBytes(16).toString('hex'),
        [stackEnvNames.webhookSecret]: randomBytes(24).toString('hex'),
      },
      logFile: join(dir, 'server.log'),
    });
    cleanups.push(() => server.stop());
    await server.start();
    return {
      push: (release, tag) =>
        pushImage(registry, { source: appFixture(release).ref, repository, tag }, docker),
      dispose,
      caddyPort: caddy.httpPort,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** What the stage's host answers through Caddy on `/version` now, or undefined. */
function version(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/version', headers: { host }, agent: false, timeout: 2_000 },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('end', () => resolve(response.statusCode === 200 ? body.trim() : undefined));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** Milliseconds until `/version` answers `expected` through Caddy, checking every 10 ms (60 s at most). */
async function untilServing(port: number, expected: string, from: number): Promise<number> {
  const deadline = from + 60_000;
  while (performance.now() < deadline) {
    if ((await version(port)) === expected) return performance.now() - from;
    await sleep(10);
  }
  throw new Error(`${expected} was not served within 60 s of its push`);
}

interface ModeResult {
  readonly mode: Mode;
  readonly latencies: number[];
}

async function measure(mode: Mode): Promise<ModeResult> {
  const harness = mode === 'webhook' ? await webhookHarness() : await pollingHarness();
  try {
    // The first release: the route exists and both images are on the engine before measuring.
    await harness.push('v1', 'dev-000');
    await untilServing(harness.caddyPort, 'v1', performance.now());
    const latencies: number[] = [];
    for (let index = 1; index <= pushCount; index++) {
      // A random pause, so that pushes land anywhere in the poll period.
      await sleep(Math.random() * pollSeconds * 1_000);
      const release: AppRelease = index % 2 === 1 ? 'v2' : 'v1';
      await harness.push(release, `dev-${String(index).padStart(3, '0')}`);
      latencies.push(await untilServing(harness.caddyPort, release, performance.now()));
    }
    return { mode, latencies };
  } finally {
    await harness.dispose();
  }
}

const results: ModeResult[] = [];
for (const mode of modes) results.push(await measure(mode));

const fmt = (ms: number) => ms.toFixed(0);
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const lines = [
  '# push-to-serving benchmark',
  '',
  '```sh',
  ['node --conditions=@docker-watcher/source bench/push-to-serving.bench.ts', ...process.argv.slice(2)].join(
    ' ',
  ),
  '```',
  '',
  `- Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  `- Node ${process.version}; machine: ${availableParallelism()} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM`,
  '- Stack: `docker-watcher serve` from source in its own process, SQLite store, OCI registry adapter against the',
  "  testkit's registry, Docker target (blue-green, health probe every 250 ms), Caddy proxy; one stage `dev-*`, auto-deploy",
  `- ${pushCount} pushes per mode (\`docker push\` through the engine, v1/v2 alternating, a random pause of up to ${pollSeconds} s`,
  '  before each); measured from the push finishing to `/version` answering the new release through Caddy (checked every 10 ms)',
  '',
  '| trigger | pushes | p50 ms | p95 ms | min ms | max ms |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
];
for (const { mode, latencies } of results) {
  const name = mode === 'webhook' ? 'registry notification → webhook' : `polling every ${pollSeconds} s`;
  lines.push(
    `| ${name} | ${latencies.length} | ${fmt(quantile(latencies, 0.5))} | ${fmt(quantile(latencies, 0.95))} | ${fmt(Math.min(...latencies))} | ${fmt(Math.max(...latencies))} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
