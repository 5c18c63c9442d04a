export * from './email-notifier.ts';
export * from './options.ts';
export * from './render.ts';
export * from './service-url.ts';
