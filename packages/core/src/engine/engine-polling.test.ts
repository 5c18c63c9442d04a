import { afterEach, expect, it, vi } from 'vitest';
import { createMemoryLogger } from '../logger.ts';
import {
  createMemoryDeployTarget,
  createMemoryRegistry,
  createMemoryReverseProxy,
  createMemoryStateStore,
} from '../memory/index.ts';
import { compileTagPolicy } from '../policy/index.ts';
import { createEngine, type Engine } from './engine.ts';

// The poll timer on fake timers and a fake clock: cycles whose listings take a set time, no real waiting.
const repository = 'team/web-app';
let engine: Engine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  vi.useRealTimers();
});

/** An engine polling every `periodMs` whose every listing takes `listingMs`; the start times of the listings. */
async function polling(periodMs: number, listingMs: number) {
  vi.useFakeTimers({ now: 0 });
  const registry = createMemoryRegistry();
  registry.push(repository, 'dev-1');
  registry.faults.delay('listTags', listingMs);
  const starts: number[] = [];
  const realListTags = registry.listTags.bind(registry);
  registry.listTags = (input) => {
    starts.push(Date.now());
    return realListTags(input);
  };
  const logger = createMemoryLogger();
  engine = createEngine({
    projects: [
      {
        id: 'web-app',
        registry: 'main',
        repository,
        stages: {
          dev: {
            policy: compileTagPolicy({ pattern: 'dev-*' }),
            autoDeploy: false,
            deploy: { image: `registry.example.com/${repository}`, port: 8080, strategy: 'recreate' },
          },
        },
      },
    ],
    registries: { main: registry },
    target: createMemoryDeployTarget(),
    proxy: createMemoryReverseProxy(),
    store: createMemoryStateStore(),
    pollIntervalMs: periodMs,
    jitter: 0,
    logger,
  });
  const started = engine.start();
  await vi.advanceTimersByTimeAsync(listingMs);
  await started;
  return { starts, logger };
}

it('starts a poll cycle every period on the clock, however long each cycle takes', async () => {
  const { starts } = await polling(1_000, 300);
  await vi.advanceTimersByTimeAsync(5_000);
  // A fixed delay would start them at 0, 1300, 2600, 3900 (each cycle's 300 ms added to the period).
  expect(starts).toEqual([0, 1_000, 2_000, 3_000, 4_000, 5_000]);
});

it('a cycle longer than the period skips the starts it missed, and says so in the debug log', async () => {
  const { starts, logger } = await polling(1_000, 2_500);
  await vi.advanceTimersByTimeAsync(7_000);
  // Not back to back at 2500 (and the missed 2000 after it): the next tick on the clock, 3000.
  expect(starts).toEqual([0, 3_000, 6_000, 9_000]);
  expect(logger.entries).toContainEqual(
    expect.objectContaining({
      level: 'debug',
      message: 'a poll cycle took longer than the poll period: 2 cycle(s) skipped',
    }),
  );
});
