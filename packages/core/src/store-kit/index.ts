// `@docker-watcher/core/store-kit`: what a durable StateStore shares with the others (argument
// checks, revision conflicts, ttls, limits, the backup format, sealed secrets). For store authors;
// SDK users get these types from the store packages.
export * from './backup.ts';
export * from './secret-box.ts';
export * from './store-helpers.ts';
