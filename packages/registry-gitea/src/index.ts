export * from './gitea-registry.ts';
export * from './options.ts';
