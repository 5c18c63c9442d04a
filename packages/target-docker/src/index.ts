export * from './docker-target.ts';
export * from './options.ts';
