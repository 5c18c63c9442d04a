import { afterEach, describe, expect, it } from 'vitest';
import type { NotificationDigest, NotificationEvent, Notifier } from '../contracts/notifier.ts';
import { CoreError } from '../errors.ts';
import { createEventBus } from '../events.ts';
import { createMemoryLogger } from '../logger.ts';
import { createMemoryNotifier } from '../memory/memory-notifier.ts';
import { createNotificationDispatcher, type NotificationDispatcher } from './notification-dispatcher.ts';
import { compileRoutes } from './notification-routes.ts';

const release = { tag: 'v1', digest: `sha256:${'a'.repeat(64)}` };
let clock = Date.parse('2026-01-01T00:00:00.000Z');
const at = () => new Date(clock).toISOString();

const succeeded = (deployId: string, stage = 'dev', project = 'web'): NotificationEvent => ({
  type: 'deploy:succeeded',
  at: at(),
  deployId,
  project,
  stage,
  release,
});
const failed = (deployId: string, stage = 'dev', project = 'web'): NotificationEvent => ({
  type: 'deploy:failed',
  at: at(),
  deployId,
  project,
  stage,
  release,
  error: { code: 'TIMEOUT', message: 'health gate timed out', retryable: true, details: {} },
});
const adapterError = (adapterId: string): NotificationEvent => ({
  type: 'adapter:error',
  at: at(),
  adapterId,
  operation: 'listTags',
  error: { code: 'UNAVAILABLE', message: 'down', retryable: true, details: {} },
});
const idOf = (event: NotificationEvent) => ('deployId' in event ? event.deployId : event.type);

const dispatchers: NotificationDispatcher[] = [];
const track = (dispatcher: NotificationDispatcher): NotificationDispatcher => {
  dispatchers.push(dispatcher);
  return dispatcher;
};
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((dispatcher) => dispatcher.dispose()));
});

describe('routes', () => {
  it('send failures and waiting releases by default, and chosen events of chosen places', () => {
    const defaults = compileRoutes([{}]);
    expect(defaults(failed('d1'))).toBe(true);
    expect(defaults(succeeded('d1'))).toBe(false);
    const prodSuccesses = compileRoutes([{}, { events: ['deploy:succeeded'], stages: ['prod'] }]);
    expect(prodSuccesses(succeeded('d1', 'prod'))).toBe(true);
    expect(prodSuccesses(succeeded('d1', 'dev'))).toBe(false);
    expect(prodSuccesses(failed('d1', 'dev'))).toBe(true);
    const webOnly = compileRoutes([{ events: ['deploy:failed', 'adapter:error'], projects: ['web-*'] }]);
    expect(webOnly(failed('d1', 'dev', 'web-shop'))).toBe(true);
    expect(webOnly(failed('d1', 'dev', 'api'))).toBe(false);
    // An event of no project passes only routes that name no projects or stages.
    expect(webOnly(adapterError('registry:gitea'))).toBe(false);
    expect(compileRoutes([{ events: ['adapter:error'] }])(adapterError('registry:gitea'))).toBe(true);
  });

  it("are narrowed by the notifier's own events; without routes it gets every event it wants", () => {
    expect(
      compileRoutes([{ events: ['deploy:failed', 'deploy:succeeded'] }], ['deploy:failed'])(succeeded('d1')),
    ).toBe(false);
    expect(compileRoutes(undefined)(succeeded('d1'))).toBe(true);
    expect(compileRoutes(undefined, ['deploy:failed'])(succeeded('d1'))).toBe(false);
  });

  it('choose what each channel of a dispatcher gets', async () => {
    const bus = createEventBus();
    const team = createMemoryNotifier();
    const prod = createMemoryNotifier();
    const dispatcher = track(
      createNotificationDispatcher({
        bus,
        notifiers: [
          { notifier: team, routes: [{}] },
          { notifier: prod, routes: [{ events: ['deploy:succeeded', 'deploy:failed'], stages: ['prod'] }] },
        ],
      }),
    );
    for (const event of [succeeded('d1'), failed('d2'), succeeded('d3', 'prod'), failed('d4', 'prod')])
      bus.emit(event);
    await dispatcher.flush();
    expect(team.delivered.map(idOf)).toEqual(['d2', 'd4']);
    expect(prod.delivered.map(idOf)).toEqual(['d3', 'd4']);
  });

  it("never notifies a notifier's own delivery failures, which could loop between broken channels", async () => {
    const bus = createEventBus();
    const notifier = createMemoryNotifier();
    const dispatcher = track(createNotificationDispatcher({ bus, notifiers: [notifier] }));
    bus.emit(adapterError('notifier:slack/team'));
    bus.emit(adapterError('registry:gitea'));
    await dispatcher.flush();
    expect(
      notifier.delivered.map((event) => (event.type === 'adapter:error' ? event.adapterId : '')),
    ).toEqual(['registry:gitea']);
  });
});

describe('batching', () => {
  it('sends a burst within the window as one digest', async () => {
    const notifier = createMemoryNotifier();
    const dispatcher = track(createNotificationDispatcher({ notifiers: [notifier], batchWindowMs: 40 }));
    for (const id of ['d1', 'd2', 'd3']) dispatcher.dispatch(succeeded(id));
    expect(dispatcher.stats()[0]?.waiting).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 80));
    await dispatcher.flush();
    expect(notifier.delivered).toEqual([]);
    expect(notifier.digests.map((digest) => digest.events.map(idOf))).toEqual([['d1', 'd2', 'd3']]);
    // A lone event after the window is a plain notification.
    dispatcher.dispatch(succeeded('d4'));
    await new Promise((resolve) => setTimeout(resolve, 80));
    await dispatcher.flush();
    expect(notifier.delivered.map(idOf)).toEqual(['d4']);
    expect(dispatcher.stats()[0]).toMatchObject({ sent: 2, delivered: 4, waiting: 0 });
  });

  it('splits a burst larger than maxBatch, and flush sends an open window at once', async () => {
    const notifier = createMemoryNotifier();
    const dispatcher = track(
      createNotificationDispatcher({ notifiers: [notifier], batchWindowMs: 60_000, maxBatch: 2 }),
    );
    for (const id of ['d1', 'd2', 'd3']) dispatcher.dispatch(succeeded(id));
    const started = performance.now();
    await dispatcher.flush();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(notifier.digests.map((digest) => digest.events.map(idOf))).toEqual([['d1', 'd2']]);
    expect(notifier.delivered.map(idOf)).toEqual(['d3']);
  });

  it('sends a burst one event at a time to a notifier that takes no digests', async () => {
    const memory = createMemoryNotifier();
    const plain: Notifier = {
      id: 'notifier:plain',
      notify: (params) => memory.notify(params),
      dispose: async () => {},
    };
    const dispatcher = track(createNotificationDispatcher({ notifiers: [plain], batchWindowMs: 60_000 }));
    for (const id of ['d1', 'd2']) dispatcher.dispatch(succeeded(id));
    await dispatcher.flush();
    expect(memory.delivered.map(idOf)).toEqual(['d1', 'd2']);
  });
});

/** A channel that is down until the virtual clock reaches `until`; pauses advance the clock. */
function outage(until: number) {
  const notifier = createMemoryNotifier();
  const down = () => {
    if (clock < until) throw new CoreError('UNAVAILABLE', 'connection refused');
  };
  const channel: Notifier = {
    id: 'notifier:flaky',
    notify: async (params) => {
      down();
      await notifier.notify(params);
    },
    notifyDigest: async (params) => {
      down();
      await notifier.notifyDigest(params);
    },
    dispose: async () => {},
  };
  const wait = async (ms: number) => {
    clock += ms;
  };
  return { notifier, channel, wait };
}

// The server's defaults: about five minutes of retries per delivery.
const patient = { retries: 10, backoffMs: 1000, maxRetryDelayMs: 60_000 };

describe('a channel that is down', () => {
  it('loses nothing within the queue bound while it is down for minutes', async () => {
    const { notifier, channel, wait } = outage(clock + 3 * 60_000);
    const dispatcher = track(
      createNotificationDispatcher({ notifiers: [channel], wait, ...patient, maxQueue: 10 }),
    );
    for (const id of ['d1', 'd2', 'd3', 'd4', 'd5']) dispatcher.dispatch(failed(id));
    await dispatcher.flush();
    expect(notifier.delivered.map(idOf)).toEqual(['d1', 'd2', 'd3', 'd4', 'd5']);
    expect(notifier.digests).toEqual([]);
    expect(dispatcher.stats()[0]).toMatchObject({ sent: 5, delivered: 5, failed: 0, dropped: 0, retries: 8 });
  });

  it('drops the oldest beyond the bound and says in the channel what it dropped, once it answers', async () => {
    const start = at();
    const { notifier, channel, wait } = outage(clock + 3 * 60_000);
    const logger = createMemoryLogger();
    const dispatcher = track(
      createNotificationDispatcher({ notifiers: [channel], wait, logger, ...patient, maxQueue: 3 }),
    );
    dispatcher.dispatch(succeeded('d1'));
    dispatcher.dispatch(failed('d2'));
    dispatcher.dispatch(failed('d3'));
    dispatcher.dispatch(failed('d4'));
    dispatcher.dispatch(failed('d5'));
    await dispatcher.flush();
    expect(notifier.delivered.map(idOf)).toEqual(['d3', 'd4', 'd5']);
    expect(notifier.digests).toEqual([
      {
        events: [],
        dropped: { count: 2, types: { 'deploy:succeeded': 1, 'deploy:failed': 1 }, from: start, to: start },
      },
    ] satisfies NotificationDigest[]);
    expect(dispatcher.stats()[0]).toMatchObject({ sent: 4, delivered: 3, dropped: 2, failed: 0 });
    expect(
      logger.entries.filter((entry) => entry.level === 'warn').map((entry) => entry.fields.deployId),
    ).toEqual(['d1', 'd2']);
  });

  it('gives up past the retries, and reports that too once the channel is back', async () => {
    const { notifier, channel, wait } = outage(clock + 20 * 60_000);
    const bus = createEventBus();
    const dispatcher = track(createNotificationDispatcher({ notifiers: [channel], bus, wait, ...patient }));
    dispatcher.dispatch(failed('d1'));
    dispatcher.dispatch(failed('d2'));
    dispatcher.dispatch(failed('d3'));
    dispatcher.dispatch(failed('d4'));
    dispatcher.dispatch(failed('d5'));
    await dispatcher.flush();
    // Each delivery retries for about five minutes (303 s): the first three are given up, the fourth
    // gets through on its last attempt, 1212 s into the outage, and the channel hears what it missed.
    expect(notifier.delivered.map(idOf)).toEqual(['d4', 'd5']);
    expect(notifier.digests.map((digest) => digest.dropped?.count)).toEqual([3]);
    expect(dispatcher.stats()[0]).toMatchObject({ sent: 3, delivered: 2, failed: 3, retries: 40 });
  });

  it('keeps a drop report that could not go out for the next delivery', async () => {
    const notifier = createMemoryNotifier();
    const bus = createEventBus();
    const dispatcher = track(createNotificationDispatcher({ notifiers: [notifier], bus, retries: 0 }));
    notifier.faults.failNext('notify', 'BAD_REQUEST');
    dispatcher.dispatch(failed('d1'));
    await dispatcher.flush();
    notifier.faults.failNext('notifyDigest', 'UNAVAILABLE');
    dispatcher.dispatch(failed('d2'));
    await dispatcher.flush();
    expect(notifier.digests).toEqual([]);
    dispatcher.dispatch(failed('d3'));
    await dispatcher.flush();
    expect(notifier.delivered.map(idOf)).toEqual(['d2', 'd3']);
    expect(notifier.digests.map((digest) => digest.dropped?.count)).toEqual([1]);
  });
});

describe('flush and dispose', () => {
  it('flush with a timeout returns false while a channel still retries, and dispose counts what it drops', async () => {
    const notifier = createMemoryNotifier();
    notifier.faults.failAlways('notify', 'UNAVAILABLE');
    const dispatcher = createNotificationDispatcher({ notifiers: [notifier], backoffMs: 60_000 });
    dispatcher.dispatch(failed('d1'));
    dispatcher.dispatch(failed('d2'));
    expect(await dispatcher.flush({ timeoutMs: 30 })).toBe(false);
    await dispatcher.dispose();
    expect(dispatcher.stats()[0]).toMatchObject({ dropped: 1, waiting: 0, sent: 0 });
    notifier.faults.clear();
    const healthy = createMemoryNotifier();
    const other = track(createNotificationDispatcher({ notifiers: [healthy] }));
    other.dispatch(failed('d3'));
    expect(await other.flush({ timeoutMs: 5000 })).toBe(true);
  });
});
