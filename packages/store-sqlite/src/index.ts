export * from './backup.ts';
export * from './options.ts';
export * from './sqlite-state-store.ts';
