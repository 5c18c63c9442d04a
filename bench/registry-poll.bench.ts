// One registry poll cycle against a real local distribution registry (the testkit's): 200 repositories of
// 50 tags each, listed 16 requests at a time, in anonymous, basic and token auth. Then the same repositories
// watched by core's engine, each by a project of 3 stages (dev, rel, prod), counting what one engine poll
// cycle costs the registry when nothing changed (the engine deploys to core's in-memory target and proxy:
// only its registry traffic is measured here).
//
//   node --conditions=@docker-watcher/source bench/registry-poll.bench.ts           prints a markdown report
//   node --conditions=@docker-watcher/source bench/registry-poll.bench.ts --check   also exits 1 when a warm cycle
//                                                                                    (adapter, or engine with every
//                                                                                    stage deployed) costs more than
//                                                                                    one request per repository or
//                                                                                    fetches a token
//   … --repos 20 --tags 10 --modes token                                              a quick look
//
// Starts a Docker Engine when none answers (and stops it again) and builds the testkit's registry image.
// Node runs this file by type stripping: erasable TypeScript only (no enums, no parameter properties).
import { availableParallelism, cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import {
  compileTagPolicy,
  createEngine,
  createMemoryDeployTarget,
  createMemoryReverseProxy,
  type EngineProject,
  type EngineStage,
} from '@docker-watcher/core';
import { createOciRegistry, type OciRegistry } from '@docker-watcher/registry-oci';
import {
  buildFixtureImages,
  dockerClient,
  ensureDockerEngine,
  type LocalRegistry,
  pushSyntheticTags,
  type RegistryAuthMode,
  startRegistry,
} from '@docker-watcher/testkit';
import { pool } from './_pool.ts';

const { values: args } = parseArgs({
  options: {
    check: { type: 'boolean', default: false },
    repos: { type: 'string', default: '200' },
    tags: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '16' },
    cycles: { type: 'string', default: '10' },
    modes: { type: 'string', default: 'anonymous,basic,token' },
  },
});
const repoCount = Number(args.repos);
const tagCount = Number(args.tags);
const concurrency = Number(args.concurrency);
const warmCycles = Number(args.cycles);
const modes = args.modes.split(',') as RegistryAuthMode[];

const repositories = Array.from(
  { length: repoCount },
  (_, index) => `bench/app-${String(index).padStart(3, '0')}`,
);
const tags = Array.from({ length: tagCount }, (_, index) => `v1.${Math.floor(index / 10)}.${index % 10}`);

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

interface Cycle {
  readonly ms: number;
  readonly requests: number;
  readonly tokenRequests: number;
}

async function cycle(adapter: OciRegistry, registry: LocalRegistry, withDigest: boolean): Promise<Cycle> {
  const before = adapter.stats();
  const tokensBefore = registry.tokenServer?.requests.length ?? 0;
  const started = performance.now();
  await pool(repositories, concurrency, async (repository) => {
    const listed = await adapter.listTags({ repository });
    if (listed.length !== tagCount)
      throw new Error(`${repository}: ${listed.length} tags, ${tagCount} pushed`);
    if (withDigest) await adapter.resolveReference({ repository, reference: tags[0] ?? 'latest' });
  });
  const ms = performance.now() - started;
  const after = adapter.stats();
  const tokenRequests = (registry.tokenServer?.requests.length ?? 0) - tokensBefore;
  if (tokenRequests !== after.tokenRequests - before.tokenRequests) {
    throw new Error('the token server and the adapter disagree on the token requests');
  }
  return { ms, requests: after.requests - before.requests, tokenRequests };
}

/**
 * How the 3 stages of each project are set up. `deployed`: every stage runs what its policy selects (the
 * steady state the target is about). `waiting`: rel has auto-deploy off, so its newest tag waits for a
 * person. `pinned`: prod is pinned to a tag, whose digest the engine watches.
 */
const scenarios = ['deployed', 'waiting', 'pinned'] as const;
type Scenario = (typeof scenarios)[number];

function stagesOf(scenario: Scenario, repository: string): Record<string, EngineStage> {
  const deploy = (stage: string) => ({
    image: `registry.bench.test/${repository}`,
    port: 8080,
    host: `${stage}-${repository.replace('/', '-')}.bench.test`,
    health: { intervalMs: 1, timeoutMs: 1, retries: 0, startPeriodMs: 0 },
  });
  return {
    dev: { policy: compileTagPolicy({ pattern: 'v1.3.*' }), autoDeploy: true, deploy: deploy('dev') },
    rel: {
      policy: compileTagPolicy({ pattern: 'v*' }),
      autoDeploy: scenario !== 'waiting',
      deploy: deploy('rel'),
    },
    prod:
      scenario === 'pinned'
        ? {
            policy: compileTagPolicy({ pin: tags[0] ?? 'latest' }),
            pin: tags[0],
            autoDeploy: true,
            deploy: deploy('prod'),
          }
        : {
            policy: compileTagPolicy({ pattern: 'v*' }),
            autoDeploy: true,
            promoteFrom: 'rel',
            deploy: deploy('prod'),
          },
  };
}

interface EngineResult {
  readonly scenario: Scenario;
  /** Registry requests of the engine's start (first listing and digests of every stage) plus its first cycle. */
  readonly start: Cycle;
  readonly warm: readonly Cycle[];
  readonly deploys: number;
}

async function engineCycles(registry: LocalRegistry, scenario: Scenario): Promise<EngineResult> {
  const adapter = createOciRegistry({
    url: registry.url,
    ...(registry.credentials
      ? { username: registry.credentials.username, password: registry.credentials.password }
      : {}),
  });
  const projects: EngineProject[] = repositories.map((repository) => ({
    id: repository.replace('/', '-'),
    registry: 'bench',
    repository,
    stages: stagesOf(scenario, repository),
  }));
  const target = createMemoryDeployTarget();
  const engine = createEngine({
    projects,
    registries: { bench: adapter },
    target,
    proxy: createMemoryReverseProxy(),
    pollIntervalMs: 0,
    registryConcurrency: concurrency,
    deployConcurrency: concurrency,
  });
  let deploys = 0;
  engine.bus.on('deploy:queued', () => {
    deploys++;
  });
  const measureCycle = async (work: () => Promise<void>): Promise<Cycle> => {
    const before = adapter.stats();
    const started = performance.now();
    await work();
    const ms = performance.now() - started;
    const after = adapter.stats();
    return {
      ms,
      requests: after.requests - before.requests,
      tokenRequests: after.tokenRequests - before.tokenRequests,
    };
  };
  try {
    const start = await measureCycle(async () => {
      await engine.start();
      await engine.idle();
      await engine.pollOnce();
      await engine.idle();
    });
    const warm: Cycle[] = [];
    for (let index = 0; index < warmCycles; index++) {
      warm.push(
        await measureCycle(async () => {
          await engine.pollOnce();
          await engine.idle();
        }),
      );
    }
    return { scenario, start, warm, deploys };
  } finally {
    await engine.stop();
    await target.dispose();
    await adapter.dispose();
  }
}

interface ModeResult {
  readonly mode: RegistryAuthMode;
  readonly seedMs: number;
  readonly cold: Cycle;
  readonly warm: readonly Cycle[];
  readonly withDigest: Cycle;
  readonly engine: readonly EngineResult[];
}

async function measure(mode: RegistryAuthMode): Promise<ModeResult> {
  const registry = await startRegistry({ auth: mode });
  try {
    const seedStarted = performance.now();
    await pool(repositories, concurrency, (repository) => pushSyntheticTags(registry, repository, tags));
    const seedMs = performance.now() - seedStarted;
    const adapter = createOciRegistry({
      url: registry.url,
      ...(registry.credentials
        ? { username: registry.credentials.username, password: registry.credentials.password }
        : {}),
    });
    const cold = await cycle(adapter, registry, false);
    const warm: Cycle[] = [];
    for (let index = 0; index < warmCycles; index++) warm.push(await cycle(adapter, registry, false));
    const withDigest = await cycle(adapter, registry, true);
    await adapter.dispose();
    const engine: EngineResult[] = [];
    for (const scenario of scenarios) engine.push(await engineCycles(registry, scenario));
    return { mode, seedMs, cold, warm, withDigest, engine };
  } finally {
    await registry.stop();
  }
}

const results: ModeResult[] = [];
const dockerEngine = await ensureDockerEngine();
try {
  await buildFixtureImages(dockerClient());
  for (const mode of modes) results.push(await measure(mode));
} finally {
  await dockerEngine.stop();
}

const perRepo = (value: number) => (value / repoCount).toFixed(2);
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const lines = [
  '# registry-poll benchmark',
  '',
  '```sh',
  ['node --conditions=@docker-watcher/source bench/registry-poll.bench.ts', ...process.argv.slice(2)].join(
    ' ',
  ),
  '```',
  '',
  `- Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  `- Node ${process.version}; machine: ${availableParallelism()} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM`,
  `- Registry: the testkit's Debian distribution 2.8 in a container on loopback; ${repoCount} repositories × ${tagCount} tags,`,
  `  ${concurrency} requests at a time; adapter defaults (\`pageSize: 1000\`, so one page per repository)`,
  '',
  '| auth | cycle | requests / repository | token fetches | cycle ms |',
  '| --- | --- | ---: | ---: | ---: |',
];
for (const result of results) {
  const warmRequests = result.warm.map((item) => item.requests);
  const warmTokens = result.warm.reduce((sum, item) => sum + item.tokenRequests, 0);
  const warmMs = result.warm.map((item) => item.ms);
  lines.push(
    `| ${result.mode} | first (learns auth) | ${perRepo(result.cold.requests)} | ${result.cold.tokenRequests} | ${result.cold.ms.toFixed(0)} |`,
    `| ${result.mode} | unchanged, ${warmCycles} cycles (median ms, max) | ${warmRequests
      .map(perRepo)
      .filter((v, i, a) => a.indexOf(v) === i)
      .join(', ')} | ${warmTokens} | ${median(warmMs).toFixed(0)} (max ${Math.max(...warmMs).toFixed(0)}) |`,
    `| ${result.mode} | unchanged, tags + one digest HEAD | ${perRepo(result.withDigest.requests)} | ${result.withDigest.tokenRequests} | ${result.withDigest.ms.toFixed(0)} |`,
  );
}
lines.push(
  '',
  `Engine poll cycles (\`createEngine\` from core, ${repoCount} projects of 3 stages, each project watching one repository;`,
  `${concurrency} registry requests and deploys at a time). dev follows \`v1.3.*\`, rel \`v*\`, prod is promoted from rel;`,
  '*waiting*: rel has auto-deploy off; *pinned*: prod is pinned to a tag instead of promoted.',
  '',
  '| auth | stages | cycle | requests / repository | token fetches | cycle ms |',
  '| --- | --- | --- | ---: | ---: | ---: |',
);
for (const result of results) {
  for (const item of result.engine) {
    const warmRequests = item.warm.map((c) => perRepo(c.requests)).filter((v, i, a) => a.indexOf(v) === i);
    const warmMs = item.warm.map((c) => c.ms);
    lines.push(
      `| ${result.mode} | ${item.scenario} | start + first cycle (${item.deploys} deploys) | ${perRepo(item.start.requests)} | ${item.start.tokenRequests} | ${item.start.ms.toFixed(0)} |`,
      `| ${result.mode} | ${item.scenario} | unchanged, ${warmCycles} cycles (median ms, max) | ${warmRequests.join(', ')} | ${item.warm.reduce((sum, c) => sum + c.tokenRequests, 0)} | ${median(warmMs).toFixed(0)} (max ${Math.max(...warmMs).toFixed(0)}) |`,
    );
  }
}
lines.push(
  '',
  `Seeding through the registry API: ${results.map((r) => `${r.mode} ${(r.seedMs / 1000).toFixed(1)} s`).join(', ')}.`,
);
process.stdout.write(`${lines.join('\n')}\n`);

if (args.check) {
  const missed = results.filter(
    (result) =>
      result.warm.some((item) => item.requests !== repoCount) ||
      result.warm.some((item) => item.tokenRequests > 0) ||
      result.engine
        .filter((item) => item.scenario === 'deployed')
        .some((item) => item.warm.some((c) => c.requests !== repoCount || c.tokenRequests > 0)),
  );
  if (missed.length > 0) {
    process.stderr.write(
      `more than one request per repository in a warm cycle: ${missed.map((r) => r.mode).join(', ')}\n`,
    );
    process.exit(1);
  }
}
