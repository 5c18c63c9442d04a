import type {
  DroppedNotifications,
  NotifiableEventName,
  NotificationEvent,
  Notifier,
} from '../contracts/notifier.ts';
import type { RouteMatcher } from './notification-routes.ts';

/** One delivery waiting in a lane: a single event, a digest of a burst, or a report of dropped ones. */
export interface QueueItem {
  readonly events: readonly NotificationEvent[];
  /** Delivered with `notifyDigest` (a burst, or the drop report when `events` is empty). */
  readonly digest: boolean;
  readonly dropped?: DroppedNotifications;
}

/** A channel's delivery counters, as `/metrics` shows them. */
export interface NotificationChannelStats {
  /** The notifier's id, e.g. `notifier:slack/team`. */
  readonly notifier: string;
  /** Events waiting: queued, and collected in an open batching window. */
  readonly waiting: number;
  /** Messages the channel accepted (a digest is one message). */
  readonly sent: number;
  /** Events those messages told of. */
  readonly delivered: number;
  /** Events given up on: an answer that no retry changes, or retries used up. */
  readonly failed: number;
  /** Events dropped unsent because the queue was full, or left queued at dispose. */
  readonly dropped: number;
  /** Attempts after a first one. */
  readonly retries: number;
  /** Answers that asked to wait (rate limits). */
  readonly rateLimited: number;
}

/** Adds events to a running summary of what a channel lost. */
export function addDropped(
  summary: DroppedNotifications | undefined,
  events: readonly NotificationEvent[],
): DroppedNotifications | undefined {
  if (events.length === 0) return summary;
  const types: Partial<Record<NotifiableEventName, number>> = { ...summary?.types };
  for (const event of events) types[event.type] = (types[event.type] ?? 0) + 1;
  const times = events.map((event) => event.at).sort();
  const first = times[0] as string;
  const last = times[times.length - 1] as string;
  return {
    count: (summary?.count ?? 0) + events.length,
    types,
    from: summary ? ([summary.from, first].sort()[0] as string) : first,
    to: summary ? ([summary.to, last].sort()[1] as string) : last,
  };
}

/** Adds one summary to another (a drop report that could not be delivered goes back in). */
export function mergeDropped(
  summary: DroppedNotifications | undefined,
  more: DroppedNotifications,
): DroppedNotifications {
  if (summary === undefined) return more;
  const types: Partial<Record<NotifiableEventName, number>> = { ...summary.types };
  for (const [type, count] of Object.entries(more.types) as Array<[NotifiableEventName, number]>) {
    types[type] = (types[type] ?? 0) + count;
  }
  return {
    count: summary.count + more.count,
    types,
    from: [summary.from, more.from].sort()[0] as string,
    to: [summary.to, more.to].sort()[1] as string,
  };
}

/** The state of one channel: its queue, its open batch, what it lost, its counters. */
export class NotificationLane {
  readonly notifier: Notifier;
  readonly matches: RouteMatcher;
  readonly queue: QueueItem[] = [];
  /** Events of the open batching window, and its timer. */
  batch: { events: NotificationEvent[]; timer: NodeJS.Timeout } | undefined;
  /** The running drain, while there is one. */
  running: Promise<void> | undefined;
  /** The item being delivered (attempts and pauses between them). */
  current: QueueItem | undefined;
  /** What was lost since the last drop report went out. */
  lost: DroppedNotifications | undefined;
  sent = 0;
  delivered = 0;
  failed = 0;
  dropped = 0;
  retries = 0;
  rateLimited = 0;

  constructor(notifier: Notifier, matches: RouteMatcher) {
    this.notifier = notifier;
    this.matches = matches;
  }

  get canDigest(): boolean {
    return typeof this.notifier.notifyDigest === 'function';
  }

  /** Items of a closed batch: one digest when the notifier takes digests, else one item per event. */
  itemsOf(events: readonly NotificationEvent[]): QueueItem[] {
    if (events.length === 1 || !this.canDigest)
      return events.map((event) => ({ events: [event], digest: false }));
    return [{ events, digest: true }];
  }

  /** Counts `events` as lost for the next drop report. */
  lose(events: readonly NotificationEvent[]): void {
    this.lost = addDropped(this.lost, events);
  }

  stats(): NotificationChannelStats {
    const queued = [...this.queue, ...(this.current ? [this.current] : [])].reduce(
      (total, item) => total + item.events.length,
      0,
    );
    return {
      notifier: this.notifier.id,
      waiting: queued + (this.batch?.events.length ?? 0),
      sent: this.sent,
      delivered: this.delivered,
      failed: this.failed,
      dropped: this.dropped,
      retries: this.retries,
      rateLimited: this.rateLimited,
    };
  }
}
