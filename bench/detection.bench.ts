// Detection latency: how long after a push to a real registry core's engine starts the deploy, with the
// OCI registry adapter, the in-memory target and proxy. Two ways, one after the other in one run:
//
// - polling every second (fixed rate), no notifications: push finished → `deploy:started`;
// - the registry's push notifications (distribution `notifications.endpoints`) posted to a loopback
//   endpoint that hands them to `engine.ingestWebhook`, as the server's webhook route does: push finished →
//   notification arrived (the registry's own latency: the floor) and notification arrived → `deploy:started`
//   (what the engine adds: the coalescing window, one tag listing, the decision).
//
// Floor of the polling figure: a bare tag listing round trip against the same registry.
//
//   node --conditions=@docker-watcher/source bench/detection.bench.ts           prints a markdown report
//   node --conditions=@docker-watcher/source bench/detection.bench.ts --check   also exits 1 when polling
//                                                                             detects over 1 s p95, or the
//                                                                             webhook path adds 50 ms + the
//                                                                             coalescing window or more p95
//   … --pushes 5                                                              a quick look
//
// Pushes are spread over the poll period (push i waits i × 370 ms mod 1 s first) so the polling figure is not
// tied to one phase of the cycle. Starts (and removes again) a Docker Engine when none answers and the
// testkit's registry. Erasable TypeScript only.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import {
  compileTagPolicy,
  createEngine,
  createMemoryDeployTarget,
  createMemoryReverseProxy,
  type Engine,
  type EngineProject,
} from '@docker-watcher/core';
import { createOciRegistry } from '@docker-watcher/registry-oci';
import {
  buildFixtureImages,
  dockerClient,
  ensureDockerEngine,
  freePort,
  type LocalRegistry,
  pushSyntheticTags,
  startRegistry,
} from '@docker-watcher/testkit';
import { quantile } from './_quantile.ts';

const { values: args } = parseArgs({
  options: {
    check: { type: 'boolean', default: false },
    pushes: { type: 'string', default: '20' },
  },
});
const pushCount = Number(args.pushes);
const pollMs = 1_000;
/** core's engine default (`EngineOptions.coalesceMs`); the engine below leaves it unset. */
const coalesceMs = 250;
const pollingP95TargetMs = 1_000;
const webhookAddedTargetMs = 50 + coalesceMs;
const secret = 'detection-bench-secret';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const tagOf = (index: number) => `dev-${String(index).padStart(4, '0')}`;

function project(repository: string): EngineProject {
  return {
    id: repository.replace('/', '-'),
    registry: 'main',
    repository,
    stages: {
      dev: {
        policy: compileTagPolicy({ pattern: 'dev-*' }),
        autoDeploy: true,
        deploy: {
          image: `registry.test/${repository}`,
          port: 8080,
          host: 'dev.bench.test',
          health: { intervalMs: 1, timeoutMs: 1, retries: 0, startPeriodMs: 0 },
        },
      },
    },
  };
}

/** Resolves with `performance.now()` when the engine starts deploying `tag`. */
function deployStarted(engine: Engine, tag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const timeout = setTimeout(() => {
      off();
      reject(new Error(`no deploy of ${tag} started within 30 s`));
    }, 30_000);
    const off = engine.bus.on('deploy:started', (event) => {
      if (event.release.tag !== tag) return;
      clearTimeout(timeout);
      off();
      resolve(performance.now());
    });
  });
}

async function withEngine<T>(
  registry: LocalRegistry,
  repository: string,
  pollIntervalMs: number,
  run: (
    engine: Engine,
    ingest: (body: Uint8Array, headers: Record<string, string>) => Promise<void>,
  ) => Promise<T>,
): Promise<T> {
  await pushSyntheticTags(registry, repository, [tagOf(0)]);
  const adapter = createOciRegistry({ url: registry.url, webhook: { secret } });
  const target = createMemoryDeployTarget();
  const engine = createEngine({
    projects: [project(repository)],
    registries: { main: adapter },
    target,
    proxy: createMemoryReverseProxy(),
    pollIntervalMs,
  });
  try {
    const first = deployStarted(engine, tagOf(0));
    await engine.start();
    await first;
    await engine.idle();
    return await run(engine, async (body, headers) => {
      await engine.ingestWebhook({ registry: 'main', request: { headers, body } });
    });
  } finally {
    await engine.stop();
    await target.dispose();
    await adapter.dispose();
  }
}

async function pollingRun(registry: LocalRegistry): Promise<number[]> {
  const repository = 'bench/detect-poll';
  return withEngine(registry, repository, pollMs, async (engine) => {
    const latencies: number[] = [];
    for (let index = 1; index <= pushCount; index++) {
      await sleep((index * 370) % pollMs);
      const tag = tagOf(index);
      const started = deployStarted(engine, tag);
      await pushSyntheticTags(registry, repository, [tag], { variant: tag });
      const pushed = performance.now();
      latencies.push((await started) - pushed);
      await engine.idle();
    }
    return latencies;
  });
}

interface WebhookSample {
  readonly notified: number;
  readonly added: number;
}

async function webhookRun(registry: LocalRegistry, hook: Hook): Promise<WebhookSample[]> {
  const repository = 'bench/detect-hook';
  return withEngine(registry, repository, 0, async (engine, ingest) => {
    hook.deliver = ingest;
    const samples: WebhookSample[] = [];
    for (let index = 1; index <= pushCount; index++) {
      await sleep((index * 370) % pollMs);
      const tag = tagOf(index);
      const started = deployStarted(engine, tag);
      const arrived = hook.arrival(repository, tag);
      await pushSyntheticTags(registry, repository, [tag], { variant: tag });
      const pushed = performance.now();
      const at = await arrived;
      const deployAt = await started;
      samples.push({ notified: at - pushed, added: deployAt - at });
      await engine.idle();
    }
    hook.deliver = undefined;
    return samples;
  });
}

interface Hook {
  readonly url: string;
  deliver: ((body: Uint8Array, headers: Record<string, string>) => Promise<void>) | undefined;
  /** Resolves with `performance.now()` when a notification naming the tag of the repository arrives. */
  arrival(repository: string, tag: string): Promise<number>;
  close(): Promise<void>;
}

async function readAll(incoming: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

/** The loopback endpoint the registry posts its notifications to. */
async function startHook(): Promise<Hook> {
  const waiting = new Map<string, (at: number) => void>();
  const hook: Hook = {
    url: '',
    deliver: undefined,
    arrival: (repository, tag) => new Promise((resolve) => waiting.set(`${repository}:${tag}`, resolve)),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = createServer((incoming, outgoing) => {
    const at = performance.now();
    void readAll(incoming).then(async (body) => {
      // Distribution's envelope: { events: [{ action, target: { repository, tag, … } }] }.
      const envelope = JSON.parse(new TextDecoder().decode(body)) as {
        events?: Array<{ target?: { repository?: string; tag?: string } }>;
      };
      for (const event of envelope.events ?? []) {
        const key = `${event.target?.repository}:${event.target?.tag}`;
        const resolve = waiting.get(key);
        if (!resolve) continue;
        waiting.delete(key);
        resolve(at);
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(incoming.headers))
        if (typeof value === 'string') headers[name] = value;
      // Answered first: the registry's queue does not wait for the engine, as with the server's route.
      outgoing.writeHead(200).end();
      await hook.deliver?.(body, headers).catch(() => undefined);
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  (hook as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`;
  return hook;
}

async function listingRoundTrips(registry: LocalRegistry, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    const response = await fetch(`${registry.url}/v2/bench/detect-poll/tags/list`);
    await response.arrayBuffer();
    times.push(performance.now() - started);
  }
  return times;
}

const engineHost = await ensureDockerEngine();
let polling: number[] = [];
let webhook: WebhookSample[] = [];
let floor: number[] = [];
const hook = await startHook();
try {
  await buildFixtureImages(dockerClient());
  const registry = await startRegistry({
    notifications: [{ name: 'bench', url: hook.url, headers: { Authorization: `Bearer ${secret}` } }],
  });
  try {
    polling = await pollingRun(registry);
    webhook = await webhookRun(registry, hook);
    floor = await listingRoundTrips(registry, 50);
  } finally {
    await registry.stop();
  }
} finally {
  await hook.close();
  await engineHost.stop();
}

const ms = (value: number) => (value < 10 ? value.toFixed(1) : value.toFixed(0));
const row = (name: string, values: readonly number[], target: string) =>
  `| ${name} | ${ms(quantile(values, 0.5))} | ${ms(quantile(values, 0.95))} | ${ms(Math.max(...values))} | ${target} |`;
const pollingP95 = quantile(polling, 0.95);
const addedP95 = quantile(
  webhook.map((s) => s.added),
  0.95,
);
const lines = [
  '# detection benchmark',
  '',
  '```sh',
  ['node --conditions=@docker-watcher/source bench/detection.bench.ts', ...process.argv.slice(2)].join(' '),
  '```',
  '',
  `- Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; load average at the end ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (others share the machine: every figure here depends on CPU)`,
  `- Node ${process.version}; machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM`,
  `- Core's engine in this process, OCI registry adapter against the testkit's registry (distribution 2.8),`,
  `  in-memory target and proxy; ${pushCount} pushes of a new \`dev-*\` tag per way, spread over the poll period`,
  `- Engine coalescing window: ${coalesceMs} ms (its default)`,
  '',
  '| figure | p50 ms | p95 ms | max ms | target |',
  '| --- | ---: | ---: | ---: | --- |',
  row(`push → deploy started, polling every ${pollMs / 1000} s`, polling, `p95 ≤ ${pollingP95TargetMs} ms`),
  row(
    'push → notification arrived (the registry: floor)',
    webhook.map((s) => s.notified),
    '–',
  ),
  row(
    'notification arrived → deploy started (the engine)',
    webhook.map((s) => s.added),
    `p95 < ${webhookAddedTargetMs} ms (50 ms + the window)`,
  ),
  row(
    'push → deploy started, webhook',
    webhook.map((s) => s.notified + s.added),
    '–',
  ),
  row('bare tag listing round trip (floor of a poll)', floor, '–'),
];
process.stdout.write(`${lines.join('\n')}\n`);

if (args.check) {
  const missed: string[] = [];
  if (!(pollingP95 <= pollingP95TargetMs))
    missed.push(
      `polling detected a push in ${ms(pollingP95)} ms p95 (target at most ${pollingP95TargetMs} ms)`,
    );
  if (!(addedP95 < webhookAddedTargetMs))
    missed.push(
      `a notification started its deploy in ${ms(addedP95)} ms p95 (target under ${webhookAddedTargetMs} ms)`,
    );
  if (missed.length > 0) {
    process.stderr.write(`${missed.join('\n')}\n`);
    process.exit(1);
  }
}
