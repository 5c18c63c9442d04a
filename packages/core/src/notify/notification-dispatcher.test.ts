import { afterEach, describe, expect, it } from 'vitest';
import type { NotificationEvent, Notifier } from '../contracts/notifier.ts';
import { CoreError } from '../errors.ts';
import { type AdapterErrorEvent, createEventBus, type EventBus } from '../events.ts';
import { createMemoryLogger, type MemoryLogger } from '../logger.ts';
import { createMemoryNotifier } from '../memory/memory-notifier.ts';
import { createNotificationDispatcher, type NotificationDispatcher } from './notification-dispatcher.ts';

const release = { tag: 'v1', digest: `sha256:${'a'.repeat(64)}` };
const at = '2026-01-01T00:00:00.000Z';

const succeeded = (deployId: string): NotificationEvent => ({
  type: 'deploy:succeeded',
  at,
  deployId,
  project: 'web',
  stage: 'dev',
  release,
});

const failed: NotificationEvent = {
  type: 'deploy:failed',
  at,
  deployId: 'd-failed',
  project: 'web',
  stage: 'dev',
  release,
  error: { code: 'TIMEOUT', message: 'health gate timed out', retryable: true, details: {} },
};

/** Records the pauses instead of taking them. */
const recordWaits = () => {
  const waits: number[] = [];
  return { waits, wait: async (ms: number) => void waits.push(ms) };
};

const adapterErrors = (bus: EventBus): AdapterErrorEvent[] => {
  const seen: AdapterErrorEvent[] = [];
  bus.on('adapter:error', (event) => seen.push(event));
  return seen;
};

/** A notifier that never settles and ignores its signal, recording the signals it was given. */
const deafNotifier = (): Notifier & { signals: AbortSignal[] } => {
  const signals: AbortSignal[] = [];
  return {
    id: 'notifier:deaf',
    signals,
    notify: ({ signal }) => {
      if (signal) signals.push(signal);
      return new Promise(() => {});
    },
    dispose: async () => {},
  };
};

const until = async (condition: () => boolean): Promise<void> => {
  for (let tries = 0; !condition(); tries++) {
    if (tries > 200) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

const warnings = (logger: MemoryLogger) => logger.entries.filter((entry) => entry.level === 'warn');

const dispatchers: NotificationDispatcher[] = [];
const track = (dispatcher: NotificationDispatcher): NotificationDispatcher => {
  dispatchers.push(dispatcher);
  return dispatcher;
};

afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((dispatcher) => dispatcher.dispose()));
});

describe('createNotificationDispatcher', () => {
  it('never blocks the emitter, even when a notifier stalls', async () => {
    const bus = createEventBus();
    const stalled = createMemoryNotifier();
    stalled.faults.delay('notify', Number.POSITIVE_INFINITY);
    const healthy = createMemoryNotifier();
    track(createNotificationDispatcher({ notifiers: [stalled, healthy], bus }));

    const started = performance.now();
    bus.emit(succeeded('d1'));
    expect(performance.now() - started).toBeLessThan(50);
    // Not even called on the emitter's stack.
    expect(stalled.faults.calls('notify')).toBe(0);

    await until(() => healthy.delivered.length === 1);
    expect(stalled.faults.calls('notify')).toBe(1);
    expect(stalled.delivered).toEqual([]);
  });

  it('delivers to each notifier in dispatch order, one at a time', async () => {
    const notifier = createMemoryNotifier();
    notifier.faults.delay('notify', 3);
    const dispatcher = track(createNotificationDispatcher({ notifiers: [notifier] }));
    const events = ['d1', 'd2', 'd3', 'd4', 'd5'].map(succeeded);
    for (const event of events) dispatcher.dispatch(event);
    await dispatcher.flush();
    expect(notifier.delivered).toEqual(events);
  });

  it('retries retryable errors with exponential backoff, then delivers', async () => {
    const bus = createEventBus();
    const errors = adapterErrors(bus);
    const notifier = createMemoryNotifier();
    notifier.faults.failNext('notify', 'UNAVAILABLE', { times: 3 });
    const { waits, wait } = recordWaits();
    const dispatcher = track(
      createNotificationDispatcher({ notifiers: [notifier], bus, wait, backoffMs: 100 }),
    );
    dispatcher.dispatch(succeeded('d1'));
    await dispatcher.flush();
    expect(notifier.delivered).toEqual([succeeded('d1')]);
    expect(notifier.faults.calls('notify')).toBe(4);
    expect(waits).toEqual([100, 200, 400]);
    expect(errors).toEqual([]);
  });

  it('waits as long as a rate-limited backend asks, and gives up when it asks for too long', async () => {
    const notifier = createMemoryNotifier();
    notifier.faults.failNext('notify', new CoreError('RATE_LIMITED', 'slow down', { retryAfterMs: 2000 }));
    const bus = createEventBus();
    const errors = adapterErrors(bus);
    const { waits, wait } = recordWaits();
    const dispatcher = track(createNotificationDispatcher({ notifiers: [notifier], bus, wait }));
    dispatcher.dispatch(succeeded('d1'));
    await dispatcher.flush();
    expect(waits).toEqual([2000]);
    expect(notifier.delivered).toEqual([succeeded('d1')]);
    expect(errors).toEqual([]);

    notifier.faults.failNext('notify', new CoreError('RATE_LIMITED', 'go away', { retryAfterMs: 120_000 }));
    dispatcher.dispatch(succeeded('d2'));
    await dispatcher.flush();
    expect(waits).toEqual([2000]);
    expect(notifier.faults.calls('notify')).toBe(3);
    expect(errors.map((event) => event.error.code)).toEqual(['RATE_LIMITED']);
  });

  it('gives up after `retries` retries with an adapter:error event and a warning', async () => {
    const bus = createEventBus();
    const errors = adapterErrors(bus);
    const logger = createMemoryLogger();
    const notifier = createMemoryNotifier({}, { instance: 'team' });
    notifier.faults.failAlways('notify', 'UNAVAILABLE');
    const { waits, wait } = recordWaits();
    const dispatcher = track(
      createNotificationDispatcher({ notifiers: [notifier], bus, logger, wait, retries: 2, backoffMs: 10 }),
    );
    dispatcher.dispatch(failed);
    await dispatcher.flush();
    expect(notifier.faults.calls('notify')).toBe(3);
    expect(waits).toEqual([10, 20]);
    expect(errors).toEqual([
      {
        type: 'adapter:error',
        at: expect.any(String),
        adapterId: 'notifier:memory/team',
        operation: 'notify',
        error: expect.objectContaining({ code: 'UNAVAILABLE', retryable: true }),
      },
    ]);
    expect(warnings(logger)).toEqual([
      expect.objectContaining({
        level: 'warn',
        fields: expect.objectContaining({
          notifier: 'notifier:memory/team',
          event: 'deploy:failed',
          project: 'web',
          deployId: 'd-failed',
          attempts: 3,
        }),
      }),
    ]);
  });

  it('does not retry errors that are not retryable', async () => {
    const bus = createEventBus();
    const errors = adapterErrors(bus);
    const notifier = createMemoryNotifier();
    notifier.faults.failNext('notify', 'UNAUTHORIZED');
    notifier.faults.failNext('notify', new Error('a plain bug'));
    const { waits, wait } = recordWaits();
    const dispatcher = track(createNotificationDispatcher({ notifiers: [notifier], bus, wait }));
    dispatcher.dispatch(succeeded('d1'));
    dispatcher.dispatch(succeeded('d2'));
    dispatcher.dispatch(succeeded('d3'));
    await dispatcher.flush();
    expect(notifier.faults.calls('notify')).toBe(3);
    expect(waits).toEqual([]);
    expect(errors.map((event) => event.error.code)).toEqual(['UNAUTHORIZED', 'INTERNAL']);
    expect(notifier.delivered).toEqual([succeeded('d3')]);
  });

  it('aborts an attempt that outlives timeoutMs, also when the notifier ignores its signal', async () => {
    const bus = createEventBus();
    const errors = adapterErrors(bus);
    const deaf = deafNotifier();
    const dispatcher = track(
      createNotificationDispatcher({ notifiers: [deaf], bus, timeoutMs: 20, retries: 0 }),
    );
    dispatcher.dispatch(succeeded('d1'));
    dispatcher.dispatch(succeeded('d2'));
    await dispatcher.flush();
    expect(deaf.signals).toHaveLength(2);
    expect(deaf.signals.every((signal) => signal.aborted)).toBe(true);
    expect(errors.map((event) => [event.adapterId, event.error.code])).toEqual([
      ['notifier:deaf', 'TIMEOUT'],
      ['notifier:deaf', 'TIMEOUT'],
    ]);
  });

  it('retries a timed-out attempt, which is retryable', async () => {
    const notifier = createMemoryNotifier();
    notifier.faults.delay('notify', Number.POSITIVE_INFINITY);
    const { waits, wait } = recordWaits();
    const dispatcher = track(
      createNotificationDispatcher({
        notifiers: [notifier],
        timeoutMs: 20,
        wait: async (ms, signal) => {
          notifier.faults.clear('notify');
          await wait(ms);
          expect(signal.aborted).toBe(false);
        },
      }),
    );
    dispatcher.dispatch(succeeded('d1'));
    await dispatcher.flush();
    expect(waits).toEqual([500]);
    expect(notifier.delivered).toEqual([succeeded('d1')]);
  });

  it('delivers to each notifier only the events it wants, and nothing but notifiable events', async () => {
    const bus = createEventBus();
    const all = createMemoryNotifier();
    const failures = createMemoryNotifier({ events: ['deploy:failed'] });
    const dispatcher = track(createNotificationDispatcher({ notifiers: [all, failures], bus }));
    bus.emit(succeeded('d1'));
    bus.emit({
      type: 'deploy:log',
      at,
      deployId: 'd1',
      project: 'web',
      stage: 'dev',
      line: 'hi',
      level: 'info',
    });
    bus.emit(failed);
    await dispatcher.flush();
    expect(all.delivered).toEqual([succeeded('d1'), failed]);
    expect(failures.delivered).toEqual([failed]);
    expect(failures.faults.calls('notify')).toBe(1);
  });

  it('drops the oldest waiting delivery when a queue is full, with a warning', async () => {
    const logger = createMemoryLogger();
    const notifier = createMemoryNotifier();
    const dispatcher = track(createNotificationDispatcher({ notifiers: [notifier], logger, maxQueue: 2 }));
    notifier.faults.delay('notify', 10);
    dispatcher.dispatch(succeeded('d1'));
    await until(() => notifier.faults.calls('notify') === 1);
    // d1 is in flight; d2 and d3 wait; d4 pushes d2 out.
    for (const id of ['d2', 'd3', 'd4']) dispatcher.dispatch(succeeded(id));
    await dispatcher.flush();
    expect(
      notifier.delivered.map((event) => (event.type === 'deploy:succeeded' ? event.deployId : '')),
    ).toEqual(['d1', 'd3', 'd4']);
    expect(warnings(logger)).toEqual([
      expect.objectContaining({
        level: 'warn',
        fields: expect.objectContaining({ notifier: 'notifier:memory', deployId: 'd2', maxQueue: 2 }),
      }),
    ]);
  });

  it('dispose stops listening, aborts in-flight deliveries, forgets queued ones, and is idempotent', async () => {
    const bus = createEventBus();
    const errors = adapterErrors(bus);
    const deaf = deafNotifier();
    const memory = createMemoryNotifier();
    memory.faults.delay('notify', Number.POSITIVE_INFINITY);
    const dispatcher = createNotificationDispatcher({ notifiers: [deaf, memory], bus, timeoutMs: 60_000 });
    bus.emit(succeeded('d1'));
    bus.emit(succeeded('d2'));
    await until(() => deaf.signals.length === 1 && memory.faults.calls('notify') === 1);

    const first = dispatcher.dispose();
    const second = dispatcher.dispose();
    expect(second).toBe(first);
    await first;
    await dispatcher.dispose();
    expect(deaf.signals[0]?.aborted).toBe(true);
    expect(errors).toEqual([]);

    bus.emit(succeeded('d3'));
    dispatcher.dispatch(succeeded('d4'));
    await dispatcher.flush();
    expect(deaf.signals).toHaveLength(1);
    expect(memory.faults.calls('notify')).toBe(1);
    expect(memory.delivered).toEqual([]);
  });

  it('dispose interrupts a pause between retries', async () => {
    const notifier = createMemoryNotifier();
    notifier.faults.failAlways('notify', 'UNAVAILABLE');
    const dispatcher = createNotificationDispatcher({ notifiers: [notifier], backoffMs: 60_000 });
    dispatcher.dispatch(succeeded('d1'));
    await until(() => notifier.faults.calls('notify') === 1);
    const started = performance.now();
    await dispatcher.dispose();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(notifier.faults.calls('notify')).toBe(1);
  });

  it('flush resolves at once when idle and after every delivery otherwise', async () => {
    const notifier = createMemoryNotifier();
    const dispatcher = track(createNotificationDispatcher({ notifiers: [notifier] }));
    await dispatcher.flush();
    notifier.faults.delay('notify', 5);
    dispatcher.dispatch(succeeded('d1'));
    dispatcher.dispatch(failed);
    await dispatcher.flush();
    expect(notifier.delivered).toEqual([succeeded('d1'), failed]);
  });

  it('survives a throwing logger on the emitter stack', async () => {
    const logger = createMemoryLogger();
    logger.warn = () => {
      throw new Error('broken logger');
    };
    const notifier = createMemoryNotifier();
    const dispatcher = track(createNotificationDispatcher({ notifiers: [notifier], logger, maxQueue: 1 }));
    expect(() => {
      dispatcher.dispatch(succeeded('d1'));
      dispatcher.dispatch(succeeded('d2'));
    }).not.toThrow();
    await dispatcher.flush();
    expect(notifier.delivered).toEqual([succeeded('d2')]);
  });

  it('rejects invalid settings', () => {
    expect(() => createNotificationDispatcher({ notifiers: [], retries: -1, timeoutMs: 0 })).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringMatching(/timeoutMs: .*\nretries: /),
      }),
    );
  });
});
