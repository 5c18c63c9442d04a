import { setTimeout as sleep } from 'node:timers/promises';
import * as v from 'valibot';
import { parseOptions } from '../config.ts';
import {
  type NotifiableEventName,
  type NotificationEvent,
  type Notifier,
  notifiableEvents,
} from '../contracts/notifier.ts';
import { CoreError, toCoreError } from '../errors.ts';
import type { EventBus, Unsubscribe } from '../events.ts';
import { type LogFields, type Logger, type LogLevel, silentLogger } from '../logger.ts';

const wholeNumber = (description: string, min: number) =>
  v.pipe(v.number(), v.integer(), v.minValue(min), v.description(description));

/** The dispatcher's tunables, as a server config section would hold them. */
export const notificationDispatcherSettings = v.object({
  timeoutMs: v.optional(
    wholeNumber(
      'Longest one delivery attempt may take; the notifier is then aborted and the attempt fails with TIMEOUT.',
      1,
    ),
    5000,
  ),
  retries: v.optional(
    wholeNumber('Further attempts after a first one failed with a retryable error; 0 never retries.', 0),
    3,
  ),
  backoffMs: v.optional(
    wholeNumber('Pause before the first retry; it doubles before each further retry.', 0),
    500,
  ),
  maxRetryDelayMs: v.optional(
    wholeNumber(
      'Longest pause before a retry: backoff is capped at it, and a backend asking (Retry-After) for longer is given up on.',
      0,
    ),
    60_000,
  ),
  maxQueue: v.optional(
    wholeNumber('Most deliveries waiting per notifier; when full, the oldest waiting one is dropped.', 1),
    1000,
  ),
});

export type NotificationDispatcherSettings = v.InferInput<typeof notificationDispatcherSettings>;

export interface NotificationDispatcherOptions extends NotificationDispatcherSettings {
  readonly notifiers: readonly Notifier[];
  /** When given, the dispatcher delivers its notifiable events and reports give-ups on it as `adapter:error`. */
  readonly bus?: EventBus;
  /** Receives a warning for every dropped or given-up delivery. Silent by default. */
  readonly logger?: Logger;
  /** Injected for tests: waits `ms`, rejecting or resolving early when `signal` fires. */
  readonly wait?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface NotificationDispatcher {
  /** Queues `event` for every notifier that wants it and returns at once; never throws. */
  dispatch(event: NotificationEvent): void;
  /** Resolves once every queued delivery has finished (delivered, given up or dropped). Never rejects. */
  flush(): Promise<void>;
  /**
   * Stops listening to the bus, aborts in-flight deliveries, forgets queued ones and resolves when
   * all have stopped. Idempotent. The notifiers themselves are left to their owner to dispose.
   */
  dispose(): Promise<void>;
}

interface Lane {
  readonly notifier: Notifier;
  readonly wants: ReadonlySet<NotifiableEventName>;
  readonly queue: NotificationEvent[];
  /** The running drain, while there is one. */
  running: Promise<void> | undefined;
}

const notifiable: ReadonlySet<string> = new Set(notifiableEvents);

const defaultWait = (ms: number, signal: AbortSignal): Promise<void> =>
  sleep(ms, undefined, { signal }).then(() => undefined);

function eventFields(event: NotificationEvent): LogFields {
  return {
    event: event.type,
    project: event.project,
    stage: event.stage,
    ...('deployId' in event ? { deployId: event.deployId } : {}),
  };
}

/**
 * Delivers notifiable events to notifiers without ever holding up whoever emitted them: each
 * notifier has its own in-order queue, each attempt is bounded by `timeoutMs`, retryable failures
 * are retried with exponential backoff, and a delivery given up on is reported, not thrown.
 */
export function createNotificationDispatcher(options: NotificationDispatcherOptions): NotificationDispatcher {
  const settings = parseOptions(
    notificationDispatcherSettings,
    {
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      backoffMs: options.backoffMs,
      maxRetryDelayMs: options.maxRetryDelayMs,
      maxQueue: options.maxQueue,
    },
    { subject: 'notification dispatcher options' },
  );
  const logger = options.logger ?? silentLogger;
  const wait = options.wait ?? defaultWait;
  const { bus } = options;
  const lifetime = new AbortController();
  const lanes: Lane[] = options.notifiers.map((notifier) => ({
    notifier,
    wants: new Set(notifier.events ?? notifiableEvents),
    queue: [],
    running: undefined,
  }));

  // Runs on the emitter's stack: a throwing logger must not reach it.
  const log = (level: LogLevel, message: string, fields: LogFields): void => {
    try {
      logger[level](message, fields);
    } catch {
      // Nothing left to report it to.
    }
  };

  /** One attempt, settled by the notifier, by `timeoutMs` or by dispose, whichever comes first. */
  const attempt = (notifier: Notifier, event: NotificationEvent): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const controller = new AbortController();
      const settle = (error?: unknown) => {
        clearTimeout(timer);
        lifetime.signal.removeEventListener('abort', onDispose);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onDispose = () => {
        const error = new CoreError('ABORTED', `Delivery of ${event.type} to ${notifier.id} was aborted`, {
          details: { notifier: notifier.id, event: event.type },
          cause: lifetime.signal.reason,
        });
        settle(error);
        controller.abort(error);
      };
      // Not left to the notifier: one that ignores its signal must not stall the queue.
      const timer = setTimeout(() => {
        const error = new CoreError(
          'TIMEOUT',
          `${notifier.id} did not deliver ${event.type} within ${settings.timeoutMs} ms`,
          { details: { notifier: notifier.id, event: event.type, timeoutMs: settings.timeoutMs } },
        );
        settle(error);
        controller.abort(error);
      }, settings.timeoutMs);
      lifetime.signal.addEventListener('abort', onDispose, { once: true });
      Promise.resolve()
        .then(() => notifier.notify({ event, signal: controller.signal }))
        .then(
          () => settle(),
          (error: unknown) => settle(error ?? new Error('notify rejected without a reason')),
        );
    });

  const giveUp = (lane: Lane, event: NotificationEvent, error: CoreError, attempts: number, why: string) => {
    log('warn', `Gave up delivering ${event.type} to ${lane.notifier.id}: ${why}`, {
      notifier: lane.notifier.id,
      ...eventFields(event),
      attempts,
      error: error.toJSON(),
    });
    bus?.emit({
      type: 'adapter:error',
      at: new Date().toISOString(),
      adapterId: lane.notifier.id,
      operation: 'notify',
      error: error.toJSON(),
    });
  };

  /** Delivers one event with retries; never throws. */
  const deliver = async (lane: Lane, event: NotificationEvent): Promise<void> => {
    for (let attempts = 1; ; attempts++) {
      if (lifetime.signal.aborted) return;
      let error: CoreError;
      try {
        await attempt(lane.notifier, event);
        if (attempts > 1) {
          log('debug', `Delivered ${event.type} to ${lane.notifier.id} after ${attempts} attempts`, {
            notifier: lane.notifier.id,
            ...eventFields(event),
            attempts,
          });
        }
        return;
      } catch (thrown) {
        error = toCoreError(thrown);
      }
      if (lifetime.signal.aborted) return;
      if (!error.retryable) return giveUp(lane, event, error, attempts, `${error.code} is not retryable`);
      if (attempts > settings.retries)
        return giveUp(lane, event, error, attempts, `${attempts} attempts failed`);
      const backoff = Math.min(settings.backoffMs * 2 ** (attempts - 1), settings.maxRetryDelayMs);
      if (error.retryAfterMs !== undefined && error.retryAfterMs > settings.maxRetryDelayMs) {
        const why = `it asked to wait ${error.retryAfterMs} ms, more than ${settings.maxRetryDelayMs} ms`;
        return giveUp(lane, event, error, attempts, why);
      }
      const delay = Math.max(backoff, error.retryAfterMs ?? 0);
      log('debug', `Retrying ${event.type} to ${lane.notifier.id} in ${delay} ms`, {
        notifier: lane.notifier.id,
        ...eventFields(event),
        attempts,
        error: error.toJSON(),
      });
      try {
        await wait(delay, lifetime.signal);
      } catch {
        // Only dispose interrupts the pause; the check at the top of the loop ends the delivery.
      }
    }
  };

  const drain = async (lane: Lane): Promise<void> => {
    // Never call a notifier on the emitter's stack.
    await Promise.resolve();
    for (let event = lane.queue.shift(); event !== undefined; event = lane.queue.shift()) {
      if (lifetime.signal.aborted) break;
      await deliver(lane, event);
    }
    // Synchronously after the queue was seen empty: a later dispatch starts a new drain.
    lane.running = undefined;
  };

  const enqueue = (lane: Lane, event: NotificationEvent): void => {
    lane.queue.push(event);
    if (lane.queue.length > settings.maxQueue) {
      const dropped = lane.queue.shift() as NotificationEvent;
      log('warn', `Notification queue of ${lane.notifier.id} is full: dropped ${dropped.type}`, {
        notifier: lane.notifier.id,
        ...eventFields(dropped),
        maxQueue: settings.maxQueue,
      });
    }
    lane.running ??= drain(lane);
  };

  const dispatch = (event: NotificationEvent): void => {
    if (lifetime.signal.aborted || !notifiable.has(event.type)) return;
    for (const lane of lanes) {
      if (lane.wants.has(event.type)) enqueue(lane, event);
    }
  };

  const unsubscribes: Unsubscribe[] = bus
    ? notifiableEvents.map((name) => bus.on(name, (event) => dispatch(event)))
    : [];

  const flush = async (): Promise<void> => {
    // Deliveries may queue more (a bus listener reacting to adapter:error): loop until all are idle.
    for (;;) {
      const running = lanes.flatMap((lane) => (lane.running ? [lane.running] : []));
      if (running.length === 0) return;
      await Promise.all(running);
    }
  };

  let disposing: Promise<void> | undefined;
  const dispose = (): Promise<void> => {
    disposing ??= (async () => {
      for (const unsubscribe of unsubscribes) unsubscribe();
      const pending = lanes.reduce((total, lane) => total + lane.queue.length, 0);
      for (const lane of lanes) lane.queue.length = 0;
      if (pending > 0)
        log('warn', `Dropped ${pending} queued notifications on dispose`, { dropped: pending });
      lifetime.abort(new CoreError('ABORTED', 'The notification dispatcher was disposed'));
      await flush();
    })();
    return disposing;
  };

  return { dispatch, flush, dispose };
}
