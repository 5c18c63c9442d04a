// Zero downtime: a bounded request loop through a real proxy while the fixture app is deployed 20 times in a
// row (v1 and v2 alternating, by digest from a local registry, on the real Docker Engine), once with the
// blue-green strategy and once with recreate for contrast. Engine side at SDK level: runDeploy from core
// with target-docker and proxy-caddy (a real Caddy), or with `--proxy npm` proxy-npm driving the loopback
// Nginx Proxy Manager of proxy-npm's tests in its real-nginx mode: each switch renders the host's config
// as NPM does into a real nginx, runs `nginx -t` and `nginx -s reload`, and the load goes through that nginx.
//
//   node --conditions=@docker-watcher/source bench/zero-downtime.bench.ts           prints a markdown report
//   node --conditions=@docker-watcher/source bench/zero-downtime.bench.ts --check   also exits 1 when a
//                                                                                    blue-green request failed
//   … --proxy npm [--npm-settle-ms 0]                                               through NPM's nginx
//   … --no-in-flight                                                                without the request in flight at each switch
//   … --deploys 4 --strategies blue-green                                            a quick look
//
// Starts (and removes again) what it needs: a Docker Engine when none answers, the fixture images, a local
// registry, Caddy or nginx. Node runs this file by type stripping: erasable TypeScript only.
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import {
  createEventBus,
  createMemoryStateStore,
  type DeployStrategy,
  type Release,
  type ReverseProxy,
} from '@docker-watcher/core';
import { runDeploy } from '@docker-watcher/core/testing';
import { createCaddyProxy } from '@docker-watcher/proxy-caddy';
import { createNpmProxy } from '@docker-watcher/proxy-npm';
import { createDockerTarget } from '@docker-watcher/target-docker';
import {
  appFixture,
  appPort,
  buildFixtureImages,
  dockerClient,
  ensureDockerEngine,
  pushImage,
  startCaddy,
  startNginx,
  startRegistry,
  testkitLabels,
} from '@docker-watcher/testkit';
import { startFakeNpm } from '../packages/proxy-npm/test/fake-npm.ts';
import { quantile } from './_quantile.ts';
import { removeDeployed } from './_remove-deployed.ts';

const { values: args } = parseArgs({
  allowNegative: true,
  options: {
    check: { type: 'boolean', default: false },
    // caddy: a real Caddy through its admin API; npm: NPM's API (loopback) over a real nginx.
    proxy: { type: 'string', default: 'caddy' },
    // With --proxy npm: proxy-npm's settleMs (its default when absent), to see what the pause after a switch buys.
    'npm-settle-ms': { type: 'string' },
    // One request per deploy in flight at the switch: sent in part before the route changes, the rest
    // as soon as the switch returns. Off by default.
    'in-flight': { type: 'boolean', default: true },
    deploys: { type: 'string', default: '20' },
    strategies: { type: 'string', default: 'blue-green,recreate' },
    'keep-alive-clients': { type: 'string', default: '2' },
    'fresh-clients': { type: 'string', default: '2' },
    // Requests per second over all clients; bounded whatever happens (count and time caps below).
    rate: { type: 'string', default: '400' },
    'max-requests': { type: 'string', default: '200000' },
    'max-seconds': { type: 'string', default: '300' },
  },
});
const deployCount = Number(args.deploys);
const strategies = args.strategies.split(',') as DeployStrategy[];
const keepAliveClients = Number(args['keep-alive-clients']);
const freshClients = Number(args['fresh-clients']);
const rate = Number(args.rate);
const maxRequests = Number(args['max-requests']);
const maxMs = Number(args['max-seconds']) * 1000;
if (args.proxy !== 'caddy' && args.proxy !== 'npm') throw new Error('--proxy is caddy or npm');

const benchLabel = 'docker-watcher-bench.run';
const runId = `zero-downtime-${process.pid}`;
const network = `dw-bench-zd-${process.pid}`;
const repository = 'bench/zero-downtime';
const health = { path: '/health', intervalMs: 200, timeoutMs: 2_000, retries: 3, startPeriodMs: 0 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Outcome {
  readonly ok: boolean;
  readonly detail: string;
  /** Went out on a kept-alive connection and failed before any byte of an answer. */
  readonly retryable: boolean;
  readonly ms: number;
}

function once(port: number, host: string, agent: Agent | false): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (ok: boolean, detail: string, retryable = false) =>
      resolve({ ok, detail, retryable, ms: performance.now() - started });
    const req = request(
      { host: '127.0.0.1', port, path: '/version', headers: { host }, agent, timeout: 10_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => {
          const version = body.trim();
          done(res.statusCode === 200 && (version === 'v1' || version === 'v2'), `${res.statusCode}`);
        });
        res.on('error', (error) => done(false, error.message));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', (error) => done(false, error.message, req.reusedSocket));
    req.end();
  });
}

interface LoadResult {
  requests: number;
  failed: number;
  keptAliveRetries: number;
  /** Of answered-as-expected requests only: a 502 from the proxy is quick and would flatter the figures. */
  latencies: number[];
  /** When each failed request was sent (ms since the load started). */
  failedAt: number[];
  failures: Map<string, number>;
  capped: boolean;
}

/** Runs the clients until `stop()`; paced to `rate` requests per second in total, capped in count and time. */
function startLoad(port: number, host: string) {
  const result: LoadResult = {
    requests: 0,
    failed: 0,
    keptAliveRetries: 0,
    latencies: [],
    failedAt: [],
    failures: new Map(),
    capped: false,
  };
  const clients = keepAliveClients + freshClients;
  const interval = (1000 * clients) / rate;
  const startedAt = performance.now();
  let stopped = false;
  const running = () => {
    if (stopped) return false;
    if (result.requests >= maxRequests || performance.now() - startedAt >= maxMs) {
      result.capped = true;
      return false;
    }
    return true;
  };
  const record = (outcome: Outcome, kind: string, sentAt: number) => {
    if (outcome.ok) result.latencies.push(outcome.ms);
    else {
      result.failed++;
      result.failedAt.push(sentAt - startedAt);
      const key = `${kind}: ${outcome.detail}`;
      result.failures.set(key, (result.failures.get(key) ?? 0) + 1);
    }
  };
  const client = async (index: number, keepAlive: boolean) => {
    const agent = keepAlive ? new Agent({ keepAlive: true, maxSockets: 1 }) : false;
    // Spread the clients' slots over one interval.
    let next = performance.now() + (interval * index) / clients;
    try {
      while (running()) {
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait);
        next = Math.max(next + interval, performance.now() - interval);
        result.requests++;
        const sentAt = performance.now();
        let outcome = await once(port, host, agent);
        // Like browsers (RFC 9112, 9.3.1): an idempotent request on a reused connection that closed
        // before any byte of an answer is sent again once. Counted, and its time included.
        if (!outcome.ok && outcome.retryable) {
          result.keptAliveRetries++;
          const retried = await once(port, host, agent);
          outcome = { ...retried, ms: outcome.ms + retried.ms };
        }
        record(outcome, keepAlive ? 'keep-alive' : 'new connection', sentAt);
      }
    } finally {
      if (agent) agent.destroy();
    }
  };
  const all = Promise.all([
    ...Array.from({ length: keepAliveClients }, (_, i) => client(i, true)),
    ...Array.from({ length: freshClients }, (_, i) => client(keepAliveClients + i, false)),
  ]);
  return {
    result,
    /** Counts a request sent outside the paced clients (the in-flight one). */
    count: (outcome: Outcome, kind: string, sentAt: number) => {
      result.requests++;
      record(outcome, kind, sentAt);
    },
    stop: async () => {
      stopped = true;
      await all;
      return { ...result, seconds: (performance.now() - startedAt) / 1000 };
    },
  };
}

/**
 * A request in flight at a switch: request line and Host go out before the route changes, the rest of
 * its headers as soon as the switch returns. It counts like the others (200 with a version, or failed).
 */
async function beginInFlight(port: number, host: string) {
  const sentAt = performance.now();
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    answer += chunk;
  });
  const closed = new Promise<string | undefined>((resolve) => {
    socket.once('error', (error) => resolve(error.message));
    socket.once('close', () => resolve(undefined));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(`GET /version HTTP/1.1\r\nHost: ${host}\r\n`);
  return {
    sentAt,
    finish: async (): Promise<Outcome> => {
      socket.write('Connection: close\r\n\r\n');
      const timer = setTimeout(() => socket.destroy(new Error('no answer within 10 s')), 10_000);
      const failure = await closed;
      clearTimeout(timer);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 'no answer';
      const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
      const ok = status === '200' && /\bv[12]\b/.test(body);
      return { ok, detail: failure ?? status, retryable: false, ms: performance.now() - sentAt };
    },
  };
}

/** The adapter, with `before` awaited ahead of each switch and `after` called once it returned. */
function aroundSwitch(proxy: ReverseProxy, before: () => Promise<void>, after: () => void): ReverseProxy {
  return {
    id: proxy.id,
    capabilities: proxy.capabilities,
    ensureRoute: async (params) => {
      await before();
      try {
        return await proxy.ensureRoute(params);
      } finally {
        after();
      }
    },
    getRoute: (params) => proxy.getRoute(params),
    removeRoute: (params) => proxy.removeRoute(params),
    dispose: () => proxy.dispose(),
  };
}

/** The proxy the load goes through, and the adapter that switches it. */
interface Front {
  readonly name: string;
  readonly httpPort: number;
  readonly proxy: ReverseProxy;
  /** Disposes of the adapter, then stops what the front started. */
  stop(): Promise<void>;
}

async function startFront(kind: 'caddy' | 'npm'): Promise<Front> {
  if (kind === 'caddy') {
    const caddy = await startCaddy({ zeroDropReloads: true });
    const proxy = createCaddyProxy({ adminUrl: caddy.adminUrl, server: caddy.serverName, tls: 'off' });
    return {
      name: 'Caddy',
      httpPort: caddy.httpPort,
      proxy,
      stop: async () => {
        await proxy.dispose();
        await caddy.stop();
      },
    };
  }
  const nginx = await startNginx();
  const npm = await startFakeNpm({ nginx });
  // The adapter as a user runs it: its own defaults, settle pause included unless --npm-settle-ms says otherwise.
  const settle = args['npm-settle-ms'];
  const proxy = createNpmProxy({
    url: npm.url,
    email: npm.user.email,
    password: npm.user.password,
    ...(settle === undefined ? {} : { settleMs: Number(settle) }),
  });
  return {
    name: "NPM's nginx",
    httpPort: nginx.httpPort,
    proxy,
    stop: async () => {
      await proxy.dispose();
      await npm.close();
      await nginx.stop();
    },
  };
}

interface StrategyResult {
  readonly strategy: DeployStrategy;
  readonly deploysMs: number[];
  readonly load: LoadResult & { seconds: number };
}

const lines: string[] = [];
const results: StrategyResult[] = [];
const engine = await ensureDockerEngine();
const docker = dockerClient();
await buildFixtureImages(docker);
const registry = await startRegistry();
const front = await startFront(args.proxy);
const image = `${registry.host}/${repository}`;
const labels = testkitLabels({ [benchLabel]: runId });
const target = createDockerTarget({ network, publish: true, labels, stopTimeoutSeconds: 5 });
// Armed while the load runs with --in-flight: the next switch gets a request in flight.
let inFlightHost: string | undefined;
let inFlight: Awaited<ReturnType<typeof beginInFlight>> | undefined;
let inFlightOutcome: Promise<Outcome> | undefined;
const proxy = args['in-flight']
  ? aroundSwitch(
      front.proxy,
      async () => {
        if (inFlightHost !== undefined) inFlight = await beginInFlight(front.httpPort, inFlightHost);
      },
      () => {
        inFlightOutcome = inFlight?.finish();
      },
    )
  : front.proxy;
const releases: Release[] = [];

try {
  for (const tag of ['v1', 'v2'] as const) {
    const pushed = await pushImage(registry, { source: appFixture(tag).ref, repository, tag }, docker);
    releases.push({ tag, digest: pushed.digest });
  }

  for (const strategy of strategies) {
    const project = `zd-${strategy}`;
    const host = `${project}.bench.test`;
    const store = createMemoryStateStore();
    const bus = createEventBus();
    let deploys = 0;
    const deploy = async (release: Release) => {
      const id = `${project}-${++deploys}`;
      await store.createDeploy({
        deploy: { id, project, stage: 'dev', release, trigger: 'manual', state: 'pending', data: {} },
      });
      const started = performance.now();
      const record = await runDeploy(
        { store, target, proxy, bus },
        { deployId: id, settings: { image, port: appPort, strategy, health, host } },
      );
      if (record.state !== 'succeeded')
        throw new Error(`deploy ${id} ended ${record.state}: ${record.error?.message}`);
      return performance.now() - started;
    };

    // Warm-up: both images pulled, the first release serving through the proxy before the load starts.
    await deploy(releases[0]!);
    await deploy(releases[1]!);
    const load = startLoad(front.httpPort, host);
    const deploysMs: number[] = [];
    let loadResult: LoadResult & { seconds: number };
    try {
      await sleep(1_000);
      for (let index = 0; index < deployCount && !load.result.capped; index++) {
        if (args['in-flight']) inFlightHost = host;
        deploysMs.push(await deploy(releases[index % 2]!));
        inFlightHost = undefined;
        if (inFlight && inFlightOutcome) {
          load.count(await inFlightOutcome, 'in flight at the switch', inFlight.sentAt);
          inFlight = undefined;
          inFlightOutcome = undefined;
        }
        await sleep(250);
      }
      await sleep(1_000);
    } finally {
      loadResult = await load.stop();
      await proxy.removeRoute({ host });
      for (const instance of await target.list({ project })) await target.retire({ instance });
    }
    results.push({ strategy, deploysMs, load: loadResult });
  }
} finally {
  await removeDeployed(docker, {
    label: `${benchLabel}=${runId}`,
    network,
    images: releases.map((release) => `${image}@${release.digest}`),
    markerPrefix: 'zd-',
  });
  await target.dispose();
  await front.stop();
  await registry.stop();
  await engine.stop();
}

/** Failed requests sent less than 100 ms apart belong to one outage; its length runs from first to last. */
function outages(failedAt: readonly number[]): number[] {
  const sorted = [...failedAt].sort((a, b) => a - b);
  const windows: number[] = [];
  let start = sorted[0];
  let last = sorted[0];
  for (const at of sorted.slice(1)) {
    if (at - (last as number) >= 100) {
      windows.push((last as number) - (start as number));
      start = at;
    }
    last = at;
  }
  if (start !== undefined && last !== undefined) windows.push(last - start);
  return windows;
}

const fmt = (ms: number) => (ms < 10 ? ms.toFixed(1) : ms.toFixed(0));
const cpu = cpus()[0]?.model ?? 'unknown CPU';
lines.push(
  `# zero-downtime benchmark${args.proxy === 'npm' ? " through NPM's nginx" : ''}`,
  '',
  '```sh',
  ['node --conditions=@docker-watcher/source bench/zero-downtime.bench.ts', ...process.argv.slice(2)].join(
    ' ',
  ),
  '```',
  '',
  `- Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  `- Node ${process.version}; machine: ${availableParallelism()} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM`,
  `- Load: ${keepAliveClients} keep-alive + ${freshClients} new-connection clients, ${rate} requests/s in total, \`GET /version\` through ${front.name}`,
  `  (${maxRequests} requests or ${maxMs / 1000} s at most); each strategy: ${deployCount} deploys alternating v1/v2, 250 ms apart`,
  ...(args['in-flight']
    ? [
        '- In flight: one more request per deploy, its request line sent before the switch and the rest of it as soon as the switch returns',
      ]
    : []),
  '',
  '| strategy | deploys | requests | failed | outages (median, max ms) | kept-alive retries | p50 ms | p99 ms | max ms | deploy median ms |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
);
const outageCell = (failedAt: readonly number[]) => {
  const windows = outages(failedAt);
  return windows.length === 0
    ? '0'
    : `${windows.length} (${fmt(quantile(windows, 0.5))}, ${fmt(Math.max(...windows))})`;
};
for (const { strategy, deploysMs, load } of results) {
  lines.push(
    `| ${strategy} | ${deploysMs.length} | ${load.requests} | ${load.failed} | ${outageCell(load.failedAt)} | ${load.keptAliveRetries} | ${fmt(quantile(load.latencies, 0.5))} | ${fmt(quantile(load.latencies, 0.99))} | ${fmt(Math.max(...load.latencies))} | ${fmt(quantile(deploysMs, 0.5))} |`,
  );
}
lines.push(
  '',
  'Latencies are of the requests answered 200 with a version (a kept-alive retry counts both tries); an outage is a run',
  'of failed requests sent less than 100 ms apart, measured from the first to the last.',
  '',
);
for (const { strategy, load } of results) {
  if (load.failures.size === 0) continue;
  lines.push(
    `Failures with ${strategy}: ${[...load.failures].map(([what, count]) => `${count} × ${what}`).join(', ')}.`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);

if (args.check) {
  const blueGreen = results.find((r) => r.strategy === 'blue-green');
  const missed =
    !blueGreen ||
    blueGreen.load.failed > 0 ||
    blueGreen.load.capped ||
    blueGreen.deploysMs.length !== deployCount;
  if (missed) {
    process.stderr.write(
      blueGreen
        ? `blue-green: ${blueGreen.load.failed} failed requests over ${blueGreen.deploysMs.length} deploys (target: 0 over ${deployCount})\n`
        : 'blue-green was not measured (--strategies)\n',
    );
    process.exit(1);
  }
}
