export * from './options.ts';
export * from './render.ts';
export * from './service-url.ts';
export * from './teams-notifier.ts';
