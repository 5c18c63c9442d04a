export * from './options.ts';
export * from './static-index-registry.ts';
