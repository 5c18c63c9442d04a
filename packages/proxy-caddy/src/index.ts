export * from './caddy-proxy.ts';
export * from './options.ts';
