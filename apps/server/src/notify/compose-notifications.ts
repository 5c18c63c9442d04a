import {
  createNotificationDispatcher,
  type EventBus,
  instantiate,
  type Logger,
  type NotificationChannelStats,
  type NotificationDispatcher,
  type Notifier,
} from '@docker-watcher/core';
import type { NotifySettings } from '../config/notify.ts';

export interface ChannelStats extends NotificationChannelStats {
  /** The channel's name in the config (`team-chat`, `discord`). */
  readonly name: string;
  /** Its service: slack, discord, …, email, generic, webhook. */
  readonly type: string;
}

/** The notification channels of a config, delivering the bus's events through one dispatcher. */
export interface ComposedNotifications {
  readonly dispatcher: NotificationDispatcher;
  readonly channels: ReadonlyArray<{
    readonly name: string;
    readonly type: string;
    readonly notifier: Notifier;
  }>;
  stats(): ChannelStats[];
  /**
   * Sends what is queued for at most `graceMs` (a channel that is down must not hold a shutdown or
   * a reload), drops the rest with a warning that counts it, and closes the channels.
   */
  close(graceMs: number): Promise<void>;
}

/** Creates each channel through its definition (options validated once) and the dispatcher over them. */
export function composeNotifications(
  settings: NotifySettings,
  params: { readonly bus: EventBus; readonly logger: Logger },
): ComposedNotifications {
  const logger = params.logger.child({ component: 'notify' });
  const channels = settings.channels.map((spec) => ({
    name: spec.name,
    type: spec.channel,
    routes: spec.routes,
    notifier: instantiate(spec.definition, spec.options, {
      logger: logger.child({ channel: spec.name }),
      instance: spec.name,
      path: spec.path,
    }),
  }));
  const dispatcher = createNotificationDispatcher({
    ...settings.dispatcher,
    notifiers: channels.map((channel) => ({ notifier: channel.notifier, routes: channel.routes })),
    bus: params.bus,
    logger,
  });
  let closing: Promise<void> | undefined;
  return {
    dispatcher,
    channels,
    stats: () =>
      dispatcher.stats().map((stats, index) => ({
        ...stats,
        name: channels[index]?.name ?? stats.notifier,
        type: channels[index]?.type ?? '',
      })),
    close(graceMs) {
      closing ??= (async () => {
        const drained = await dispatcher.flush({ timeoutMs: graceMs });
        if (!drained) logger.warn(`notifications still undelivered after ${graceMs} ms are dropped`);
        await dispatcher.dispose();
        for (const channel of channels) {
          await channel.notifier.dispose().catch((error: unknown) => {
            logger.warn('a notification channel failed to close', {
              channel: channel.name,
              error: String(error),
            });
          });
        }
      })();
      return closing;
    },
  };
}
