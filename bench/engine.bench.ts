// Engine benchmarks with core's in-memory adapters (no I/O), so what is measured is the engine itself.
// Run: node --expose-gc --conditions=@docker-watcher/source bench/engine.bench.ts [--check]
import { arch, cpus, totalmem } from 'node:os';
import {
  compileTagPolicy,
  createEngine,
  createMemoryDeployTarget,
  createMemoryRegistry,
  createMemoryReverseProxy,
  createMemoryStateStore,
  type EngineProject,
} from '@docker-watcher/core';

const check = process.argv.includes('--check');
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))]!;
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
const health = { intervalMs: 1, timeoutMs: 1, retries: 0, startPeriodMs: 0 };

function project(id: string, repository: string): EngineProject {
  return {
    id,
    registry: 'main',
    repository,
    stages: {
      dev: {
        policy: compileTagPolicy({ pattern: 'dev-*' }),
        autoDeploy: true,
        deploy: {
          image: `registry.example.com/${repository}`,
          port: 8080,
          host: `stage-dev-${id}.example.com`,
          health,
        },
      },
    },
  };
}

// 1. Engine overhead per deploy: queue, journal, state machine, events; fakes answer at once.
async function deployOverhead(deploys: number) {
  const registry = createMemoryRegistry();
  registry.push('team/app', 'dev-0');
  const engine = createEngine({
    projects: [project('app', 'team/app')],
    registries: { main: registry },
    target: createMemoryDeployTarget(),
    proxy: createMemoryReverseProxy(),
    store: createMemoryStateStore(),
    pollIntervalMs: 0,
  });
  await engine.start();
  await engine.idle();
  const times: number[] = [];
  for (let i = 1; i <= deploys; i++) {
    registry.push('team/app', `dev-${i}`);
    const started = performance.now();
    await engine.deploy({ project: 'app', stage: 'dev', tag: `dev-${i}` });
    await engine.idle();
    times.push(performance.now() - started);
  }
  await engine.stop();
  return times.slice(Math.floor(deploys / 10));
}

// 2. Scheduler work per poll cycle with N watched repositories, nothing changed.
async function cycleCost(repositories: number, cycles: number) {
  const registry = createMemoryRegistry();
  const projects: EngineProject[] = [];
  for (let i = 0; i < repositories; i++) {
    const repository = `team/app-${i}`;
    for (let t = 0; t < 20; t++) registry.push(repository, `dev-${t}`);
    projects.push(project(`app-${i}`, repository));
  }
  const engine = createEngine({
    projects,
    registries: { main: registry },
    target: createMemoryDeployTarget(),
    proxy: createMemoryReverseProxy(),
    store: createMemoryStateStore(),
    pollIntervalMs: 0,
    registryConcurrency: 16,
    deployConcurrency: 16,
  });
  await engine.start();
  await engine.idle();
  const times: number[] = [];
  const heap: Array<[number, number]> = [];
  for (let cycle = 1; cycle <= cycles; cycle++) {
    const started = performance.now();
    await engine.pollOnce();
    times.push(performance.now() - started);
    if (cycle % Math.max(1, Math.floor(cycles / 5)) === 0) {
      gc();
      heap.push([cycle, process.memoryUsage().heapUsed / 1024 / 1024]);
    }
  }
  await engine.stop();
  return { times: times.slice(1), heap };
}

const overhead = await deployOverhead(500);
const rows: string[] = [];
rows.push(
  `| engine overhead per deploy (fakes) | 450 deploys | median ${fmt(quantile(overhead, 0.5))}, p95 ${fmt(quantile(overhead, 0.95))} | < 5 ms |`,
);
const perCycle: Record<number, number> = {};
for (const size of [10, 100, 1000]) {
  const { times } = await cycleCost(size, size === 1000 ? 30 : 100);
  perCycle[size] = quantile(times, 0.5);
  rows.push(
    `| poll cycle, ${size} repositories, nothing changed | median ${fmt(quantile(times, 0.5))}, p95 ${fmt(quantile(times, 0.95))} | ${((quantile(times, 0.5) / size) * 1000).toFixed(1)} µs per repository | ${size === 1000 ? '< 50 ms' : ''} |`,
  );
}
const soak = await cycleCost(10, 10_000);
const heapLine = soak.heap.map(([cycle, mb]) => `${cycle}: ${mb.toFixed(1)} MB`).join(', ');
rows.push(`| heap after GC over 10,000 cycles (10 repositories) | ${heapLine} | | flat |`);

process.stdout.write(
  [
    `engine benchmark: ${new Date().toISOString()}, node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} (${arch()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    '',
    '| what | measured | | target |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n'),
);

if (check) {
  const first = soak.heap[0]?.[1] ?? 0;
  const last = soak.heap.at(-1)?.[1] ?? 0;
  const failures = [
    quantile(overhead, 0.5) >= 5 && 'deploy overhead median >= 5 ms',
    (perCycle[1000] ?? 0) >= 50 && '1,000-repository cycle median >= 50 ms',
    last > first * 1.5 + 2 && `heap grew from ${first.toFixed(1)} MB to ${last.toFixed(1)} MB`,
  ].filter(Boolean);
  if (failures.length) {
    process.stderr.write(`engine benchmark targets missed: ${failures.join('; ')}\n`);
    process.exit(1);
  }
}
