export * from './npm-proxy.ts';
export * from './options.ts';
