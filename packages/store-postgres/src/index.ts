export * from './backup.ts';
export * from './changes.ts';
export * from './options.ts';
export * from './postgres-state-store.ts';
