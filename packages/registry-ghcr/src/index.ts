export * from './ghcr-registry.ts';
export * from './options.ts';
