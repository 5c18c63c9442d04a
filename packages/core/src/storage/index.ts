export * from './backup.ts';
export * from './secret-box.ts';
export * from './store-helpers.ts';
