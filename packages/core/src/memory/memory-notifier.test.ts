import { describe, expect, it } from 'vitest';
import { instantiate } from '../contracts/adapter.ts';
import type { NotificationEvent } from '../contracts/notifier.ts';
import { createMemoryNotifier, memoryNotifier } from './memory-notifier.ts';

const release = { tag: 'v1', digest: `sha256:${'a'.repeat(64)}` };
const succeeded: NotificationEvent = {
  type: 'deploy:succeeded',
  at: '2026-01-01T00:00:00.000Z',
  deployId: 'd1',
  project: 'web',
  stage: 'dev',
  release,
};
const awaiting: NotificationEvent = {
  type: 'deploy:awaiting-confirmation',
  at: '2026-01-01T00:00:00.000Z',
  project: 'web',
  stage: 'prod',
  release,
  approvalId: 'approval-1',
};

describe('createMemoryNotifier', () => {
  it('keeps every event without a filter, and declares no filter', async () => {
    const notifier = createMemoryNotifier();
    expect('events' in notifier).toBe(false);
    await notifier.notify({ event: succeeded });
    await notifier.notify({ event: awaiting });
    expect(notifier.delivered).toEqual([succeeded, awaiting]);
    notifier.clear();
    expect(notifier.delivered).toEqual([]);
  });

  it('delivers only the events it is configured for', async () => {
    const notifier = createMemoryNotifier({ events: ['deploy:awaiting-confirmation'] });
    expect(notifier.events).toEqual(['deploy:awaiting-confirmation']);
    await notifier.notify({ event: succeeded });
    await notifier.notify({ event: awaiting });
    expect(notifier.delivered).toEqual([awaiting]);
  });

  it('rejects events that cannot be notified in its options', () => {
    expect(() => instantiate(memoryNotifier, { events: ['deploy:log'] })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('fails deliveries on demand', async () => {
    const notifier = createMemoryNotifier();
    notifier.faults.failNext('notify', 'UNAVAILABLE');
    await expect(notifier.notify({ event: succeeded })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
    });
    expect(notifier.delivered).toEqual([]);
  });

  it('keeps digests, with only the events it wants', async () => {
    const notifier = createMemoryNotifier({ events: ['deploy:awaiting-confirmation'] });
    await notifier.notifyDigest({ digest: { events: [succeeded, awaiting] } });
    await notifier.notifyDigest({ digest: { events: [succeeded] } });
    const dropped = { count: 2, types: { 'deploy:failed': 2 }, from: succeeded.at, to: succeeded.at };
    await notifier.notifyDigest({ digest: { events: [], dropped } });
    expect(notifier.digests).toEqual([{ events: [awaiting] }, { events: [], dropped }]);
    expect(notifier.delivered).toEqual([]);
  });
});
