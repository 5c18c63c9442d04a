import type { ChannelStats } from './compose-notifications.ts';

const escapeLabel = (value: string) =>
  value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** Per-channel delivery metrics in the Prometheus text format, one family after another. */
export function notificationMetricLines(stats: readonly ChannelStats[]): string[] {
  const labels = (channel: ChannelStats, extra = '') =>
    `{channel="${escapeLabel(channel.name)}",type="${escapeLabel(channel.type)}"${extra}}`;
  const families: Array<[string, string, string, (channel: ChannelStats) => string[]]> = [
    [
      'docker_watcher_notifications_sent_total',
      'Messages a notification channel accepted (a digest is one).',
      'counter',
      (channel) => [`${labels(channel)} ${channel.sent}`],
    ],
    [
      'docker_watcher_notification_events_total',
      'Events per notification channel by outcome: delivered, failed (given up on) or dropped (queue full, or left at shutdown).',
      'counter',
      (channel) => [
        `${labels(channel, ',outcome="delivered"')} ${channel.delivered}`,
        `${labels(channel, ',outcome="failed"')} ${channel.failed}`,
        `${labels(channel, ',outcome="dropped"')} ${channel.dropped}`,
      ],
    ],
    [
      'docker_watcher_notification_retries_total',
      'Delivery attempts after a first one.',
      'counter',
      (channel) => [`${labels(channel)} ${channel.retries}`],
    ],
    [
      'docker_watcher_notification_rate_limited_total',
      'Answers of a notification service that asked to wait.',
      'counter',
      (channel) => [`${labels(channel)} ${channel.rateLimited}`],
    ],
    [
      'docker_watcher_notification_queue_depth',
      'Events waiting for a notification channel (queued or in a batching window).',
      'gauge',
      (channel) => [`${labels(channel)} ${channel.waiting}`],
    ],
  ];
  return families.flatMap(([metric, help, type, values]) => [
    `# HELP ${metric} ${help}`,
    `# TYPE ${metric} ${type}`,
    ...stats.flatMap((channel) => values(channel).map((value) => `${metric}${value}`)),
  ]);
}
