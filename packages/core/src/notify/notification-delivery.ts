import type { NotificationEvent, Notifier } from '../contracts/notifier.ts';
import { CoreError, toCoreError } from '../errors.ts';
import type { EventBus } from '../events.ts';
import type { LogFields, LogLevel } from '../logger.ts';
import type { NotificationLane, QueueItem } from './notification-lane.ts';

export interface DeliverySettings {
  readonly timeoutMs: number;
  readonly retries: number;
  readonly backoffMs: number;
  readonly maxRetryDelayMs: number;
}

export interface DeliveryContext {
  readonly settings: DeliverySettings;
  /** Aborted at dispose: ends attempts and pauses at once. */
  readonly lifetime: AbortSignal;
  readonly wait: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly log: (level: LogLevel, message: string, fields: LogFields) => void;
  readonly bus: EventBus | undefined;
}

export function itemFields(item: QueueItem): LogFields {
  const [event] = item.events;
  if (item.events.length !== 1 || event === undefined) {
    return item.events.length === 0
      ? { event: 'dropped-report', dropped: item.dropped?.count ?? 0 }
      : { event: 'digest', events: item.events.length };
  }
  return {
    event: event.type,
    ...('project' in event ? { project: event.project, stage: event.stage } : {}),
    ...('deployId' in event ? { deployId: event.deployId } : {}),
  };
}

export const describeItem = (item: QueueItem): string =>
  item.events.length === 1
    ? (item.events[0] as NotificationEvent).type
    : item.events.length === 0
      ? 'a report of dropped notifications'
      : `a digest of ${item.events.length} events`;

/** Calls the notifier for one item: `notify` for an event, `notifyDigest` for a digest or a drop report. */
function call(notifier: Notifier, item: QueueItem, signal: AbortSignal): Promise<void> | undefined {
  const [event] = item.events;
  if (!item.digest && event) return notifier.notify({ event, signal });
  const digest = { events: item.events, ...(item.dropped ? { dropped: item.dropped } : {}) };
  return notifier.notifyDigest?.({ digest, signal });
}

/** One attempt, settled by the notifier, by `timeoutMs` or by dispose, whichever comes first. */
function attempt(context: DeliveryContext, notifier: Notifier, item: QueueItem): Promise<void> {
  const { settings, lifetime } = context;
  return new Promise<void>((resolve, reject) => {
    const what = describeItem(item);
    const controller = new AbortController();
    const settle = (error?: unknown) => {
      clearTimeout(timer);
      lifetime.removeEventListener('abort', onDispose);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onDispose = () => {
      const error = new CoreError('ABORTED', `Delivery of ${what} to ${notifier.id} was aborted`, {
        details: { notifier: notifier.id },
        cause: lifetime.reason,
      });
      settle(error);
      controller.abort(error);
    };
    // Not left to the notifier: one that ignores its signal must not stall the queue.
    const timer = setTimeout(() => {
      const error = new CoreError(
        'TIMEOUT',
        `${notifier.id} did not deliver ${what} within ${settings.timeoutMs} ms`,
        {
          details: { notifier: notifier.id, timeoutMs: settings.timeoutMs },
        },
      );
      settle(error);
      controller.abort(error);
    }, settings.timeoutMs);
    lifetime.addEventListener('abort', onDispose, { once: true });
    Promise.resolve()
      .then(() => call(notifier, item, controller.signal))
      .then(
        () => settle(),
        (error: unknown) => settle(error ?? new Error('notify rejected without a reason')),
      );
  });
}

/** The pause before the next attempt, or why there is none. */
function nextDelay(settings: DeliverySettings, error: CoreError, attempts: number): number | string {
  if (!error.retryable) return `${error.code} is not retryable`;
  if (attempts > settings.retries) return `${attempts} attempts failed`;
  if (error.retryAfterMs !== undefined && error.retryAfterMs > settings.maxRetryDelayMs) {
    return `it asked to wait ${error.retryAfterMs} ms, more than ${settings.maxRetryDelayMs} ms`;
  }
  const backoff = Math.min(settings.backoffMs * 2 ** (attempts - 1), settings.maxRetryDelayMs);
  return Math.max(backoff, error.retryAfterMs ?? 0);
}

function giveUp(
  context: DeliveryContext,
  lane: NotificationLane,
  item: QueueItem,
  failure: { readonly error: CoreError; readonly attempts: number; readonly why: string },
): void {
  const { error, attempts, why } = failure;
  lane.failed += item.events.length;
  lane.lose(item.events);
  context.log('warn', `Gave up delivering ${describeItem(item)} to ${lane.notifier.id}: ${why}`, {
    notifier: lane.notifier.id,
    ...itemFields(item),
    attempts,
    error: error.toJSON(),
  });
  context.bus?.emit({
    type: 'adapter:error',
    at: new Date().toISOString(),
    adapterId: lane.notifier.id,
    operation: item.digest ? 'notifyDigest' : 'notify',
    error: error.toJSON(),
  });
}

/**
 * Delivers one item with retries: exponential backoff from `backoffMs`, or the delay the service
 * asked for when longer (given up on when it asks for more than `maxRetryDelayMs`). Never throws;
 * true when the item was delivered.
 */
export async function deliverItem(
  context: DeliveryContext,
  lane: NotificationLane,
  item: QueueItem,
): Promise<boolean> {
  const { lifetime, log } = context;
  for (let attempts = 1; ; attempts++) {
    if (lifetime.aborted) return false;
    let error: CoreError;
    try {
      await attempt(context, lane.notifier, item);
      lane.sent += 1;
      lane.delivered += item.events.length;
      if (attempts > 1) {
        log('debug', `Delivered ${describeItem(item)} to ${lane.notifier.id} after ${attempts} attempts`, {
          notifier: lane.notifier.id,
          ...itemFields(item),
          attempts,
        });
      }
      return true;
    } catch (thrown) {
      error = toCoreError(thrown);
    }
    if (lifetime.aborted) return false;
    if (error.code === 'RATE_LIMITED') lane.rateLimited += 1;
    const delay = nextDelay(context.settings, error, attempts);
    if (typeof delay === 'string') {
      giveUp(context, lane, item, { error, attempts, why: delay });
      return false;
    }
    lane.retries += 1;
    log('debug', `Retrying ${describeItem(item)} to ${lane.notifier.id} in ${delay} ms`, {
      notifier: lane.notifier.id,
      ...itemFields(item),
      attempts,
      error: error.toJSON(),
    });
    try {
      await context.wait(delay, lifetime);
    } catch {
      // Only dispose interrupts the pause; the check at the top of the loop ends the delivery.
    }
  }
}
