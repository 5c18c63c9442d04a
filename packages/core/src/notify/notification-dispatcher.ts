import { setTimeout as sleep } from 'node:timers/promises';
import * as v from 'valibot';
import { parseOptions } from '../config.ts';
import { type NotificationEvent, type Notifier, notifiableEvents } from '../contracts/notifier.ts';
import { CoreError } from '../errors.ts';
import type { EventBus, Unsubscribe } from '../events.ts';
import { type LogFields, type Logger, type LogLevel, silentLogger } from '../logger.ts';
import { type DeliveryContext, deliverItem, describeItem, itemFields } from './notification-delivery.ts';
import {
  mergeDropped,
  type NotificationChannelStats,
  NotificationLane,
  type QueueItem,
} from './notification-lane.ts';
import { compileRoutes, type NotificationRoute } from './notification-routes.ts';

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
    wholeNumber(
      'Most deliveries waiting per channel; when full, the oldest waiting one is dropped (and reported).',
      1,
    ),
    1000,
  ),
  batchWindowMs: v.optional(
    wholeNumber(
      'Events reaching a channel within this long after a first one go out as one digest message; 0 sends each at once.',
      0,
    ),
    0,
  ),
  maxBatch: v.optional(wholeNumber('Most events in one digest; a fuller burst makes several.', 1), 50),
});

export type NotificationDispatcherSettings = v.InferInput<typeof notificationDispatcherSettings>;

/** A notifier and the routes that choose what reaches it. */
export interface NotificationChannel {
  readonly notifier: Notifier;
  /** An event goes out when any route lets it through; without routes, every event the notifier wants. */
  readonly routes?: readonly NotificationRoute[];
}

export interface NotificationDispatcherOptions extends NotificationDispatcherSettings {
  /** Notifiers (every event they want) or channels (what their routes let through). */
  readonly notifiers: readonly (Notifier | NotificationChannel)[];
  /** When given, the dispatcher delivers its notifiable events and reports give-ups on it as `adapter:error`. */
  readonly bus?: EventBus;
  /** Receives a warning for every dropped or given-up delivery. Silent by default. */
  readonly logger?: Logger;
  /** Injected for tests: waits `ms`, rejecting or resolving early when `signal` fires. */
  readonly wait?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface NotificationDispatcher {
  /** Routes `event` to every channel that takes it and returns at once; never throws. */
  dispatch(event: NotificationEvent): void;
  /**
   * Sends open batches at once and resolves when every queued delivery has finished (delivered,
   * given up or dropped), or after `timeoutMs` when given. Never rejects. Resolves `true` when all
   * finished.
   */
  flush(options?: { readonly timeoutMs?: number }): Promise<boolean>;
  /** Counters per channel, in the order the notifiers were given. */
  stats(): NotificationChannelStats[];
  /**
   * Stops listening to the bus, aborts in-flight deliveries, drops queued ones (counted and
   * logged) and resolves when all have stopped. Idempotent. The notifiers are left to their owner.
   */
  dispose(): Promise<void>;
}

const defaultWait = (ms: number, signal: AbortSignal): Promise<void> =>
  sleep(ms, undefined, { signal }).then(() => undefined);

/** A notifier's own delivery failures are never notified: two broken channels would report each other forever. */
const isNotifierError = (event: NotificationEvent) =>
  event.type === 'adapter:error' && event.adapterId.startsWith('notifier:');

/**
 * Delivers notifiable events to channels without ever holding up whoever emitted them: each channel
 * has its own in-order, bounded queue (the oldest waiting delivery is dropped when full, and what
 * was lost is reported in the channel once it answers again), a burst within `batchWindowMs` is one
 * digest, each attempt is bounded by `timeoutMs`, retryable failures are retried with exponential
 * backoff or after the delay the service asked for, and a delivery given up on is reported, not thrown.
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
      batchWindowMs: options.batchWindowMs,
      maxBatch: options.maxBatch,
    },
    { subject: 'notification dispatcher options' },
  );
  return new Dispatcher(options, settings);
}

const notifiable: ReadonlySet<string> = new Set(notifiableEvents);

class Dispatcher implements NotificationDispatcher {
  readonly #settings: v.InferOutput<typeof notificationDispatcherSettings>;
  readonly #logger: Logger;
  readonly #lifetime = new AbortController();
  readonly #lanes: NotificationLane[];
  readonly #delivery: DeliveryContext;
  readonly #unsubscribes: Unsubscribe[];
  #disposing: Promise<void> | undefined;

  constructor(
    options: NotificationDispatcherOptions,
    settings: v.InferOutput<typeof notificationDispatcherSettings>,
  ) {
    this.#settings = settings;
    this.#logger = options.logger ?? silentLogger;
    this.#lanes = options.notifiers.map((entry) => {
      const channel: NotificationChannel = 'notifier' in entry ? entry : { notifier: entry };
      return new NotificationLane(channel.notifier, compileRoutes(channel.routes, channel.notifier.events));
    });
    const { bus } = options;
    this.#delivery = {
      settings,
      lifetime: this.#lifetime.signal,
      wait: options.wait ?? defaultWait,
      log: (level, message, fields) => this.#log(level, message, fields),
      bus,
    };
    this.#unsubscribes = bus
      ? notifiableEvents.map((name) => bus.on(name, (event) => this.dispatch(event)))
      : [];
  }

  dispatch(event: NotificationEvent): void {
    if (this.#lifetime.signal.aborted || !notifiable.has(event.type) || isNotifierError(event)) return;
    for (const lane of this.#lanes) {
      if (lane.matches(event)) this.#route(lane, event);
    }
  }

  async flush(options: { readonly timeoutMs?: number } = {}): Promise<boolean> {
    if (options.timeoutMs === undefined) {
      await this.#drained();
      return true;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), options.timeoutMs);
    });
    const result = await Promise.race([this.#drained().then(() => true as const), timedOut]);
    clearTimeout(timer);
    return result;
  }

  stats(): NotificationChannelStats[] {
    return this.#lanes.map((lane) => lane.stats());
  }

  dispose(): Promise<void> {
    this.#disposing ??= (async () => {
      for (const unsubscribe of this.#unsubscribes) unsubscribe();
      let pending = 0;
      for (const lane of this.#lanes) {
        if (lane.batch) clearTimeout(lane.batch.timer);
        const left = [...(lane.batch?.events ?? []), ...lane.queue.flatMap((item) => item.events)];
        lane.batch = undefined;
        lane.queue.length = 0;
        lane.dropped += left.length;
        pending += left.length;
      }
      if (pending > 0)
        this.#log('warn', `Dropped ${pending} queued notifications on dispose`, { dropped: pending });
      this.#lifetime.abort(new CoreError('ABORTED', 'The notification dispatcher was disposed'));
      await this.#drained();
    })();
    return this.#disposing;
  }

  // Runs on the emitter's stack too: a throwing logger must not reach it.
  #log(level: LogLevel, message: string, fields: LogFields): void {
    try {
      this.#logger[level](message, fields);
    } catch {
      // Nothing left to report it to.
    }
  }

  #route(lane: NotificationLane, event: NotificationEvent): void {
    const { batchWindowMs, maxBatch } = this.#settings;
    if (batchWindowMs === 0) {
      this.#enqueue(lane, [{ events: [event], digest: false }]);
      return;
    }
    if (lane.batch === undefined) {
      const timer = setTimeout(() => this.#closeBatch(lane), batchWindowMs);
      lane.batch = { events: [], timer };
    }
    lane.batch.events.push(event);
    if (lane.batch.events.length >= maxBatch) this.#closeBatch(lane);
  }

  #closeBatch(lane: NotificationLane): void {
    const { batch } = lane;
    if (batch === undefined) return;
    clearTimeout(batch.timer);
    lane.batch = undefined;
    this.#enqueue(lane, lane.itemsOf(batch.events));
  }

  #enqueue(lane: NotificationLane, items: readonly QueueItem[]): void {
    const { maxQueue } = this.#settings;
    for (const item of items) {
      lane.queue.push(item);
      if (lane.queue.length <= maxQueue) continue;
      const dropped = lane.queue.shift() as QueueItem;
      lane.dropped += dropped.events.length;
      lane.lose(dropped.events);
      this.#log(
        'warn',
        `Notification queue of ${lane.notifier.id} is full: dropped ${describeItem(dropped)}`,
        {
          notifier: lane.notifier.id,
          ...itemFields(dropped),
          maxQueue,
        },
      );
    }
    lane.running ??= this.#drain(lane);
  }

  async #drain(lane: NotificationLane): Promise<void> {
    // Never call a notifier on the emitter's stack.
    await Promise.resolve();
    const { signal } = this.#lifetime;
    for (let item = lane.queue.shift(); item !== undefined; item = lane.queue.shift()) {
      if (signal.aborted) break;
      lane.current = item;
      const delivered = await deliverItem(this.#delivery, lane, item);
      lane.current = undefined;
      const report = item.events.length === 0 ? item.dropped : undefined;
      // A report that could not go out waits for the next delivery that does.
      if (!delivered && report && !signal.aborted) lane.lost = mergeDropped(lane.lost, report);
      else if (delivered && lane.lost !== undefined && lane.canDigest) {
        // The channel answers again: it hears what it missed, first.
        lane.queue.unshift({ events: [], digest: true, dropped: lane.lost });
        lane.lost = undefined;
      }
    }
    // Synchronously after the queue was seen empty: a later dispatch starts a new drain.
    lane.running = undefined;
  }

  async #drained(): Promise<void> {
    // Deliveries may queue more (a drop report, a bus listener reacting to adapter:error): loop until idle.
    for (;;) {
      for (const lane of this.#lanes) this.#closeBatch(lane);
      const running = this.#lanes.flatMap((lane) => (lane.running ? [lane.running] : []));
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }
}
