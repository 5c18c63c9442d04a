import type * as v from 'valibot';
import type { DockerWatcherEvent } from '../events.ts';
import type { Adapter, AdapterDefinition, CallOptions } from './adapter.ts';

/** The events worth telling people about. */
export const notifiableEvents = [
  'deploy:succeeded',
  'deploy:failed',
  'deploy:rolled-back',
  'deploy:awaiting-confirmation',
] as const;

export type NotifiableEventName = (typeof notifiableEvents)[number];
export type NotificationEvent = Extract<DockerWatcherEvent, { type: NotifiableEventName }>;

export interface Notifier extends Adapter {
  /** Which events this notifier wants; all notifiable events when absent. */
  readonly events?: readonly NotifiableEventName[];
  /** Delivers one event. Throws a retryable `CoreError` when delivery may succeed later. */
  notify(params: CallOptions & { readonly event: NotificationEvent }): Promise<void>;
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
