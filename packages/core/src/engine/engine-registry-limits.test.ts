import { afterEach, expect, it, vi } from 'vitest';
import type { Registry } from '../contracts/registry.ts';
import {
  createMemoryDeployTarget,
  createMemoryRegistry,
  createMemoryReverseProxy,
  createMemoryStateStore,
} from '../memory/index.ts';
import { compileTagPolicy } from '../policy/index.ts';
import { limitRegistry, RegistryLimiter } from '../registry-limiter.ts';
import { createEngine, type Engine, type EngineOptions } from './engine.ts';

// Per-registry limits as the engine keeps them: the registry's requests counted while in flight.
let engine: Engine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  vi.useRealTimers();
});

/** `count` repositories with one tag each, in a memory registry whose requests take `ms`. */
function watchedRegistry(count: number, ms: number) {
  const registry = createMemoryRegistry();
  const repositories = Array.from({ length: count }, (_, i) => `team/app-${i}`);
  for (const repository of repositories) registry.push(repository, 'v1');
  registry.faults.delay('listTags', ms);
  const seen = { now: 0, max: 0, starts: [] as number[] };
  const counting =
    <A extends { signal?: AbortSignal }, R>(call: (params: A) => Promise<R>) =>
    async (params: A) => {
      seen.now++;
      seen.max = Math.max(seen.max, seen.now);
      seen.starts.push(Date.now());
      try {
        return await call(params);
      } finally {
        seen.now--;
      }
    };
  const counted: Registry = {
    ...registry,
    listTags: counting(registry.listTags.bind(registry)),
    resolveReference: counting(registry.resolveReference.bind(registry)),
  };
  const projects: EngineOptions['projects'] = repositories.map((repository, i) => ({
    id: `app-${i}`,
    registry: 'main',
    repository,
    stages: {
      prod: {
        policy: compileTagPolicy({ pattern: 'v*' }),
        autoDeploy: false,
        deploy: { image: `registry.example.com/${repository}`, port: 8080, strategy: 'recreate' },
      },
    },
  }));
  return { counted, seen, projects };
}

const engineOf = (options: Pick<EngineOptions, 'projects' | 'registries' | 'registryLimits'>) =>
  createEngine({
    ...options,
    target: createMemoryDeployTarget(),
    proxy: createMemoryReverseProxy(),
    store: createMemoryStateStore(),
    pollIntervalMs: 0,
    healRoutes: false,
  });

it('a poll cycle asks a registry as many requests at once as its concurrency says, and never more', async () => {
  const { counted, seen, projects } = watchedRegistry(30, 5);
  engine = engineOf({
    projects,
    registries: { main: counted },
    registryLimits: { main: { concurrency: 8 } },
  });
  // Start-up is a first cycle (polling on a timer is off here).
  await engine.start();
  expect(seen.starts.length).toBeGreaterThanOrEqual(30);
  expect(seen.max).toBe(8);
});

it('polling, on-demand looks and other callers of a shared limiter keep to its concurrency together', async () => {
  const { counted, seen, projects } = watchedRegistry(12, 5);
  const limiter = new RegistryLimiter({ concurrency: 2 });
  engine = engineOf({ projects, registries: { main: counted }, registryLimits: { main: limiter } });
  const api = limitRegistry(counted, limiter);
  await engine.start();
  expect(seen.max).toBe(2);
  seen.starts.length = 0;
  seen.max = 0;
  await Promise.all([
    engine.pollOnce(),
    ...projects.map((project) => engine!.refresh({ project: project.id })),
    ...projects.map((project) => api.listTags({ repository: project.repository })),
  ]);
  // 12 listings by the cycle, 12 by the refreshes and 12 by the other caller, and digest reads.
  expect(seen.starts.length).toBeGreaterThanOrEqual(36);
  expect(seen.max).toBe(2);
});

it("a rate limit spreads a cycle's requests over time: at most `requests` start in any window", async () => {
  vi.useFakeTimers({ now: 0 });
  const { counted, seen, projects } = watchedRegistry(6, 0);
  engine = engineOf({
    projects,
    registries: { main: counted },
    registryLimits: { main: { concurrency: 6, rateLimit: { requests: 3, perMs: 1000 } } },
  });
  const cycle = engine.start();
  await vi.advanceTimersByTimeAsync(10_000);
  await cycle;
  // Listings first (the stages ask for digests after theirs), 3 per second.
  expect(seen.starts.slice(0, 6)).toEqual([0, 0, 0, 1000, 1000, 1000]);
  for (const start of seen.starts)
    expect(seen.starts.filter((t) => t >= start && t < start + 1000).length).toBeLessThanOrEqual(3);
});
