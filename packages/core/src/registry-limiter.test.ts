import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from './config.ts';
import type { Registry } from './contracts/registry.ts';
import { CoreError, isCoreError } from './errors.ts';
import { createMemoryRegistry } from './memory/index.ts';
import { limitRegistry, RegistryLimiter } from './registry-limiter.ts';

afterEach(() => {
  vi.useRealTimers();
});

/** A memory registry whose listings take `ms` (fake or real time); counts the listings in flight. */
function countingRegistry(ms: number) {
  const registry = createMemoryRegistry();
  for (let i = 0; i < 40; i++) registry.push(`team/app-${i}`, 'v1');
  registry.faults.delay('listTags', ms);
  const seen = { now: 0, max: 0, starts: [] as number[] };
  const listTags = registry.listTags.bind(registry);
  const counted: Registry = {
    ...registry,
    listTags: async (params) => {
      seen.now++;
      seen.max = Math.max(seen.max, seen.now);
      seen.starts.push(Date.now());
      try {
        return await listTags(params);
      } finally {
        seen.now--;
      }
    },
  };
  return { registry, counted, seen };
}

describe('RegistryLimiter', () => {
  it('never has more than `concurrency` requests in flight, and uses them all', async () => {
    const { counted, seen } = countingRegistry(5);
    const limited = limitRegistry(counted, new RegistryLimiter({ concurrency: 3 }));
    const lists = await Promise.all(
      Array.from({ length: 40 }, (_, i) => limited.listTags({ repository: `team/app-${i}` })),
    );
    expect(lists.every((tags) => tags.join() === 'v1')).toBe(true);
    expect(seen.starts).toHaveLength(40);
    expect(seen.max).toBe(3);
  });

  it('spreads requests over time under a rate limit: at most `requests` start in any window', async () => {
    vi.useFakeTimers({ now: 0 });
    const { counted, seen } = countingRegistry(10);
    const limited = limitRegistry(
      counted,
      new RegistryLimiter({ concurrency: 10, rateLimit: { requests: 2, perMs: 1000 } }),
    );
    const all = Promise.all(
      Array.from({ length: 7 }, (_, i) => limited.listTags({ repository: `team/app-${i}` })),
    );
    await vi.advanceTimersByTimeAsync(5000);
    await all;
    expect(seen.starts).toEqual([0, 0, 1000, 1000, 2000, 2000, 3000]);
    for (const start of seen.starts)
      expect(seen.starts.filter((t) => t >= start && t < start + 1000).length).toBeLessThanOrEqual(2);
  });

  it('answers with the rate-limited error, and sends no request until the Retry-After has passed', async () => {
    vi.useFakeTimers({ now: 0 });
    const { registry, counted, seen } = countingRegistry(0);
    registry.faults.failNext('listTags', new CoreError('RATE_LIMITED', 'slow down', { retryAfterMs: 5000 }));
    const limited = limitRegistry(counted, new RegistryLimiter({ concurrency: 2 }));
    const first = limited.listTags({ repository: 'team/app-0' }).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(0);
    expect(isCoreError(await first, 'RATE_LIMITED')).toBe(true);
    const later = [
      limited.listTags({ repository: 'team/app-1' }),
      limited.listTags({ repository: 'team/app-2' }),
    ];
    await vi.advanceTimersByTimeAsync(4999);
    expect(seen.starts).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    await expect(Promise.all(later)).resolves.toEqual([['v1'], ['v1']]);
    expect(seen.starts).toEqual([0, 5000, 5000]);
  });

  it('lets an aborted request leave the queue without taking a turn', async () => {
    const { counted, seen } = countingRegistry(20);
    const limited = limitRegistry(counted, new RegistryLimiter({ concurrency: 1 }));
    const controller = new AbortController();
    const running = limited.listTags({ repository: 'team/app-0' });
    const waiting = limited.listTags({ repository: 'team/app-1', signal: controller.signal });
    const after = limited.listTags({ repository: 'team/app-2' });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    await Promise.all([running, after]);
    expect(seen.starts).toHaveLength(2);
  });

  it('refuses limits that are not numbers of requests and durations, at their path', () => {
    const problems = (limits: unknown) => {
      try {
        new RegistryLimiter(limits as never, { path: 'registries.hub' });
      } catch (error) {
        if (error instanceof ConfigError) return error.problems.map((p) => p.path);
        throw error;
      }
      return [];
    };
    expect(problems({ concurrency: 0 })).toEqual(['registries.hub.concurrency']);
    expect(problems({ concurrency: 1.5 })).toEqual(['registries.hub.concurrency']);
    expect(problems({ rateLimit: { requests: 10, perMs: 0 } })).toEqual(['registries.hub.rateLimit.perMs']);
    expect(problems({ rateLimit: { requests: 0, perMs: 1000 } })).toEqual([
      'registries.hub.rateLimit.requests',
    ]);
    expect(problems({ concurrency: 8, rateLimit: { requests: 5, perMs: 1000 } })).toEqual([]);
  });
});
