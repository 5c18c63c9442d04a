import type * as v from 'valibot';
import type { DockerWatcherEvent } from '../events.ts';
import type { Adapter, AdapterDefinition, CallOptions } from './adapter.ts';

/** The events worth telling people about. */
export const notifiableEvents = [
  'deploy:started',
  'deploy:succeeded',
  'deploy:failed',
  'deploy:rolled-back',
  'deploy:awaiting-confirmation',
  'release:available',
  'adapter:error',
  'engine:leadership',
  'labels:invalid',
] as const;

export type NotifiableEventName = (typeof notifiableEvents)[number];
export type NotificationEvent = Extract<DockerWatcherEvent, { type: NotifiableEventName }>;

/**
 * What a route sends when it names no events: failures, releases waiting for a person, and
 * labelled containers left alone for their labels (said once per distinct set of problems).
 * Successes and starts are for chosen stages; adapter errors and leadership changes are opt-in,
 * because a registry outage reports on every poll cycle.
 */
export const defaultNotificationEvents: readonly NotifiableEventName[] = Object.freeze([
  'deploy:failed',
  'deploy:rolled-back',
  'deploy:awaiting-confirmation',
  'release:available',
  'labels:invalid',
]);

/** Notifications a channel never got (its queue overflowed, or it stayed down past the retries). */
export interface DroppedNotifications {
  readonly count: number;
  /** How many of each event type; a digest counts once per event in it. */
  readonly types: Readonly<Partial<Record<NotifiableEventName, number>>>;
  /** When the first and the last of them happened, as ISO 8601 timestamps. */
  readonly from: string;
  readonly to: string;
}

/**
 * Several notifications as one message: a burst within the batching window, or (`events` empty)
 * only the report of what was dropped.
 */
export interface NotificationDigest {
  readonly events: readonly NotificationEvent[];
  readonly dropped?: DroppedNotifications;
}

export interface Notifier extends Adapter {
  /** Which events this notifier wants; all notifiable events when absent. */
  readonly events?: readonly NotifiableEventName[];
  /** Delivers one event. Throws a retryable `CoreError` when delivery may succeed later. */
  notify(params: CallOptions & { readonly event: NotificationEvent }): Promise<void>;
  /**
   * Delivers several events (or a report of dropped ones) as one message. Optional: without it the
   * dispatcher delivers a batch one event at a time and reports drops in its logs only.
   */
  notifyDigest?(params: CallOptions & { readonly digest: NotificationDigest }): Promise<void>;
}

export type NotifierDefinition<
  S extends v.GenericSchema = v.GenericSchema,
  A extends Notifier = Notifier,
> = AdapterDefinition<'notifier', S, A>;

export function defineNotifier<S extends v.GenericSchema, A extends Notifier>(
  definition: Omit<NotifierDefinition<S, A>, 'kind'>,
): NotifierDefinition<S, A> {
  return { kind: 'notifier', ...definition };
}
