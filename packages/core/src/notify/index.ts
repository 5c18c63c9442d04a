export * from './notification-dispatcher.ts';
export * from './webhook-notifier.ts';
export * from './webhook-notifier-options.ts';
