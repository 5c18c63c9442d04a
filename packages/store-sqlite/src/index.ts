// The backup format lives in core, shared by the durable stores; re-exported here as before.
export {
  type BackupSecret,
  parseBackup,
  type StoreBackup,
  type StoreBackupCounts,
  storeBackupFormat,
} from '@docker-watcher/core/store-kit';
export * from './options.ts';
export * from './sqlite-state-store.ts';
