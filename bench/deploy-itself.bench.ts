// The deploy itself: from "a new release is known" to "the new release answers", the image not yet on
// the engine. Three ways, interleaved in one run, each N times:
// - ours: runDeploy (blue-green) with target-docker and proxy-caddy over a real Caddy, until a client
//   polling through Caddy (every 5 ms, a new connection each) gets the new release's version;
// - floor: a script doing `docker pull` + `docker run -d -p` + curl every 5 ms until the first healthy answer,
//   the container started as the target starts it (same network, restart policy, published port);
// - stop-and-start: `docker pull` + `docker stop` + `docker rm` + `docker run` + the first healthy answer
//   (What's Up Docker's and Watchtower's way).
// Each way has its own two images (v1, v2 of the fixture app, each with a layer of its own), removed from the
// engine before every measured deploy, so every deploy pulls.
//
//   node --conditions=@docker-watcher/source bench/deploy-itself.bench.ts           prints a markdown report
//   node --conditions=@docker-watcher/source bench/deploy-itself.bench.ts --check   also exits 1 unless ours'
//        p50 ≤ 1.2× the floor's p50 and under stop-and-start's p50
//   … --runs 3 --interval-ms 1000 --app-start-ms 300                                a quick look; the health
//        gate's interval (the product's default, 1 s, unless given); an app that listens 300 ms after its start
//
// Starts (and removes again) what it needs: a Docker Engine when none answers, the fixture images, a local
// registry, Caddy. Node runs this file by type stripping: erasable TypeScript only.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createEventBus,
  createMemoryStateStore,
  defaultHealthCheck,
  type Release,
} from '@docker-watcher/core';
import { runDeploy } from '@docker-watcher/core/testing';
import { createCaddyProxy } from '@docker-watcher/proxy-caddy';
import { createDockerTarget } from '@docker-watcher/target-docker';
import {
  appFixture,
  appPort,
  buildFixtureImages,
  dockerClient,
  ensureDockerEngine,
  freePort,
  pushImage,
  startCaddy,
  startRegistry,
  testkitLabels,
} from '@docker-watcher/testkit';
import { quantile } from './_quantile.ts';
import { removeDeployed } from './_remove-deployed.ts';

const { values: args } = parseArgs({
  options: {
    check: { type: 'boolean', default: false },
    runs: { type: 'string', default: '10' },
    'interval-ms': { type: 'string', default: String(defaultHealthCheck.intervalMs) },
    // How long the app takes after its start before it listens (0: the fixture app as it is, at once).
    'app-start-ms': { type: 'string', default: '0' },
  },
});
const runs = Number(args.runs);
const budget = 1.2;
const health = { ...defaultHealthCheck, path: '/health', intervalMs: Number(args['interval-ms']) };
const appStartMs = Number(args['app-start-ms']);
const pollMs = 5;
const serveLimitMs = 60_000;

const benchLabel = 'docker-watcher-bench.run';
const runId = `deploy-itself-${process.pid}`;
const network = `dw-bench-di-${process.pid}`;
const host = 'deploy-itself.bench.test';
const labels = testkitLabels({ [benchLabel]: runId });
const labelFlags = Object.entries(labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]);
const ways = ['ours', 'floor', 'stop-and-start'] as const;
type Way = (typeof ways)[number];
const tags = ['v1', 'v2'] as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One image of the bench: a fixture release with a layer of its own, pushed to the local registry. */
interface BenchImage {
  readonly repository: string;
  readonly release: Release;
  /** Its image id, to remove it from the engine whatever names it has there. */
  readonly id: string;
}

// The floor: what an operator's script does at the least, starting the same container as the target
// does (its network, restart policy and published port: a user-defined network alone costs the engine
// 100–200 ms more per start than the default bridge here).
const run = `docker run -d --name "$NAME" --network "$NET" --restart unless-stopped "$@" -p "127.0.0.1:$PORT:${appPort}" "$REF" >/dev/null`;
const floorScript = `
set -eu
REF="$1"; NAME="$2"; PORT="$3"; NET="$4"; shift 4
docker pull -q "$REF" >/dev/null
${run}
until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/health"; do sleep 0.005; done
`;
// What the tools people use today do: pull, stop and remove the old container, run the new one.
const stopAndStartScript = `
set -eu
REF="$1"; NAME="$2"; PORT="$3"; NET="$4"; shift 4
docker pull -q "$REF" >/dev/null
docker stop "$NAME" >/dev/null
docker rm "$NAME" >/dev/null
${run}
until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/health"; do sleep 0.005; done
`;

/** Runs a script, timed from its spawn to its exit. */
function timedScript(script: string, params: readonly string[]): number {
  const started = performance.now();
  const result = spawnSync('sh', ['-c', script, 'sh', ...params, ...labelFlags], {
    encoding: 'utf8',
    timeout: serveLimitMs,
  });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`script failed (${result.status}): ${result.stderr}`);
  return ms;
}

/** `GET /version` through Caddy on a new connection; the body, or undefined for anything else. */
function version(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/version', headers: { host }, agent: false, timeout: 2_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve(res.statusCode === 200 ? body.trim() : undefined));
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** Polls through Caddy until `tag` answers; ms since `since`. Bounded in time. */
async function servedAfter(port: number, tag: string, since: number, stop: AbortSignal): Promise<number> {
  while (performance.now() - since < serveLimitMs && !stop.aborted) {
    if ((await version(port)) === tag) return performance.now() - since;
    await sleep(pollMs);
  }
  throw new Error(`${tag} did not answer through Caddy within ${serveLimitMs} ms`);
}

const engine = await ensureDockerEngine();
const docker = dockerClient();
await buildFixtureImages(docker);
const registry = await startRegistry();
const caddy = await startCaddy({ zeroDropReloads: true });
const target = createDockerTarget({ network, publish: true, labels, stopTimeoutSeconds: 5 });
const proxy = createCaddyProxy({ adminUrl: caddy.adminUrl, server: caddy.serverName, tls: 'off' });
const buildDir = mkdtempSync(join(tmpdir(), 'dw-bench-di-'));
const images = new Map<Way, BenchImage[]>();
const names = { floor: `dw-bench-di-floor-${process.pid}`, restart: `dw-bench-di-restart-${process.pid}` };

// An app that needs `appStartMs` before it listens: the fixture's entry point with a pause first.
const slowEntry =
  appStartMs > 0
    ? `ENTRYPOINT ${JSON.stringify(['/bin/busybox', 'sh', '-c', `trap 'exit 0' TERM INT; /bin/busybox sleep ${appStartMs / 1000} & wait; /bin/busybox httpd -f -p ${appPort} -h /www & wait`])}\n`
    : '';

/** Builds a fixture release with a layer of its own, pushes it, and removes it from the engine again. */
async function benchImage(way: Way, tag: (typeof tags)[number]): Promise<BenchImage> {
  const local = `dw-bench-di-${process.pid}/${way}:${tag}`;
  writeFileSync(join(buildDir, 'stamp'), randomBytes(16).toString('hex'));
  writeFileSync(join(buildDir, 'Dockerfile'), `FROM ${appFixture(tag).ref}\nCOPY stamp /stamp\n${slowEntry}`);
  const built = spawnSync('docker', ['build', '-q', '-t', local, buildDir], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`docker build failed: ${built.stderr}`);
  const id = built.stdout.trim();
  const repository = `bench/deploy-itself-${way}`;
  const pushed = await pushImage(registry, { source: local, repository, tag }, docker);
  await removeImage(id);
  return { repository, release: { tag, digest: pushed.digest }, id };
}

/** Removes an image of the bench from the engine under all its names (none but the bench's have it). */
async function removeImage(id: string) {
  await docker
    .getImage(id)
    .remove({ force: true })
    .catch((error: { statusCode?: number }) => {
      if (error.statusCode !== 404) throw error;
    });
}

const refOf = (image: BenchImage) => `${registry.host}/${image.repository}@${image.release.digest}`;

const store = createMemoryStateStore();
const bus = createEventBus();
let deploys = 0;
/** Ours: from the call until the new release answers through Caddy; the deploy then finishes (retire). */
async function ours(image: BenchImage): Promise<number> {
  const id = `di-${++deploys}`;
  await store.createDeploy({
    deploy: {
      id,
      project: 'di',
      stage: 'dev',
      release: image.release,
      trigger: 'manual',
      state: 'pending',
      data: {},
    },
  });
  const done = new AbortController();
  const started = performance.now();
  const served = servedAfter(caddy.httpPort, image.release.tag, started, done.signal);
  served.catch(() => undefined);
  const deployed = runDeploy(
    { store, target, proxy, bus },
    {
      deployId: id,
      settings: {
        image: `${registry.host}/${image.repository}`,
        port: appPort,
        strategy: 'blue-green',
        health,
        host,
      },
    },
  );
  const record = await deployed;
  if (record.state !== 'succeeded') {
    done.abort();
    throw new Error(`deploy ${id} ended ${record.state}: ${record.error?.message}`);
  }
  steps.push(stepTimes(record.journal));
  return served;
}

/** Where ours spends its time: ms in each step of the journal, to the next step. */
const timedSteps = ['pulling', 'starting', 'health-checking', 'switching-traffic'] as const;
const steps: Map<string, number>[] = [];
function stepTimes(journal: readonly { state: string; at: string }[]): Map<string, number> {
  const times = new Map<string, number>();
  journal.forEach((entry, index) => {
    const next = journal[index + 1];
    if (next) times.set(entry.state, Date.parse(next.at) - Date.parse(entry.at));
  });
  return times;
}

const results = new Map<Way, number[]>(ways.map((way) => [way, []]));
const ports = { floor: await freePort(), restart: await freePort() };
try {
  for (const way of ways) images.set(way, [await benchImage(way, 'v1'), await benchImage(way, 'v2')]);
  const imageOf = (way: Way, index: number) => images.get(way)![index % 2]!;

  // Warm-up: ours serves v1 through Caddy and stop-and-start has its v1 container, each pulled once.
  await ours(imageOf('ours', 0));
  timedScript(floorScript, [
    refOf(imageOf('stop-and-start', 0)),
    names.restart,
    String(ports.restart),
    network,
  ]);
  timedScript(floorScript, [refOf(imageOf('floor', 0)), names.floor, String(ports.floor), network]);
  await docker.getContainer(names.floor).remove({ force: true });

  for (let i = 1; i <= runs; i++) {
    // Interleaved, so that drift on a shared machine hits all three alike.
    const mine = imageOf('ours', i);
    await removeImage(mine.id);
    results.get('ours')!.push(await ours(mine));

    const floor = imageOf('floor', i);
    await removeImage(floor.id);
    results
      .get('floor')!
      .push(timedScript(floorScript, [refOf(floor), names.floor, String(ports.floor), network]));
    await docker.getContainer(names.floor).remove({ force: true });

    const restart = imageOf('stop-and-start', i);
    await removeImage(restart.id);
    results
      .get('stop-and-start')!
      .push(timedScript(stopAndStartScript, [refOf(restart), names.restart, String(ports.restart), network]));
  }
} finally {
  await removeDeployed(docker, {
    label: `${benchLabel}=${runId}`,
    network,
    images: [],
    markerPrefix: 'di',
  });
  for (const image of [...images.values()].flat()) await removeImage(image.id).catch(() => undefined);
  rmSync(buildDir, { recursive: true, force: true });
  await proxy.dispose();
  await target.dispose();
  await caddy.stop();
  await registry.stop();
  await engine.stop();
}

const fmt = (ms: number) => ms.toFixed(0);
const p50 = (way: Way) => quantile(results.get(way)!, 0.5);
const ratio = p50('ours') / p50('floor');
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const titles: Record<Way, string> = {
  ours: 'runDeploy blue-green, target-docker + proxy-caddy, until served through Caddy',
  floor: 'floor: docker pull + docker run + first healthy answer',
  'stop-and-start': 'docker pull + stop + rm + run + first healthy answer',
};
const lines = [
  '# deploy-itself benchmark',
  '',
  '```sh',
  ['node --conditions=@docker-watcher/source bench/deploy-itself.bench.ts', ...process.argv.slice(2)].join(
    ' ',
  ),
  '```',
  '',
  `- Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  `- Node ${process.version}; machine: ${availableParallelism()} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM`,
  `- ${runs} deploys each way, interleaved, after a warm-up; the image removed from the engine before each (every deploy pulls)`,
  `- App: the fixture app${appStartMs > 0 ? `, listening ${appStartMs} ms after its start` : ''}; health gate: \`${health.path}\`, interval ${health.intervalMs} ms; ours polled through Caddy every ${pollMs} ms, the scripts curl every ${pollMs} ms`,
  '',
  '| deploy | p50 ms | p95 ms | min ms | max ms |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...ways.map((way) => {
    const values = results.get(way)!;
    return `| ${titles[way]} | ${fmt(p50(way))} | ${fmt(quantile(values, 0.95))} | ${fmt(Math.min(...values))} | ${fmt(Math.max(...values))} |`;
  }),
  '',
  `Ours by step (p50 ms, from the deploy journal): ${timedSteps
    .map(
      (step) =>
        `${step} ${fmt(
          quantile(
            steps.slice(1).map((times) => times.get(step) ?? 0),
            0.5,
          ),
        )}`,
    )
    .join(', ')}.`,
  '',
  `p50 ratio ours / floor: ${ratio.toFixed(2)}× (target ≤ ${budget}×); ours / stop-and-start: ${(p50('ours') / p50('stop-and-start')).toFixed(2)}× (target < 1×)`,
  '',
];
process.stdout.write(`${lines.join('\n')}\n`);

if (args.check) {
  const missed = [
    ...(ratio > budget ? [`ours p50 is ${ratio.toFixed(2)}× the floor's (budget ${budget}×)`] : []),
    ...(p50('ours') >= p50('stop-and-start') ? ['ours p50 is not under stop-and-start p50'] : []),
  ];
  if (missed.length > 0) {
    process.stderr.write(`deploy-itself benchmark missed its target: ${missed.join('; ')}\n`);
    process.exitCode = 1;
  }
}
