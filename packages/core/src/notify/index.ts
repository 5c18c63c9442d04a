export * from './message.ts';
export * from './notification-dispatcher.ts';
export type { NotificationChannelStats } from './notification-lane.ts';
export * from './notification-routes.ts';
export * from './template.ts';
export * from './webhook-notifier.ts';
export * from './webhook-notifier-options.ts';
