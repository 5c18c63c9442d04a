import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { CoreError, isCoreError } from '@docker-watcher/core';
import { toStoreError } from './_errors.ts';
import { latestSchemaVersion, type MigrationResult, migrate, schemaVersionOf } from './_migrations.ts';
import { loadNodeSqlite } from './_node-sqlite.ts';

export const memoryPath = ':memory:';

export interface OpenOptions {
  readonly path: string;
  readonly busyTimeoutMs: number;
  readonly synchronous: 'normal' | 'full';
  readonly integrityCheck: 'header' | 'quick';
}

export interface OpenedDatabase {
  readonly db: DatabaseSync;
  /** Absolute path of the file, or `:memory:`. */
  readonly path: string;
  readonly migration: MigrationResult;
  /** What `PRAGMA journal_mode` answered: `wal`, unless the file system cannot do WAL. */
  readonly journalMode: string;
}

/**
 * Opens (or creates) the store's file and brings its schema to the latest version. Everything that
 * could reject the file is checked before anything is written to it: a file that is not ours, is
 * damaged or comes from a newer version is left byte for byte as it was.
 */
export function openDatabase(options: OpenOptions): OpenedDatabase {
  const path = options.path === memoryPath ? memoryPath : resolve(options.path);
  const facts = { path, operation: 'open', busyTimeoutMs: options.busyTimeoutMs };
  if (path !== memoryPath) {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (error) {
      throw new CoreError('CONFIG_INVALID', `SQLite store ${path}: its folder cannot be created`, {
        cause: error,
        details: { path },
      });
    }
  }
  const sqlite = loadNodeSqlite();
  let db: DatabaseSync;
  try {
    db = new sqlite.DatabaseSync(path, { enableForeignKeyConstraints: true });
  } catch (error) {
    throw toStoreError(error, facts);
  }
  try {
    db.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs}`);
    // The first reads of the file: they fail on anything that is not a SQLite database.
    const version = schemaVersionOf(db);
    const tables = db
      .prepare(
        "SELECT count(*) AS count FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
      )
      .get() as { count: number };
    if (version > latestSchemaVersion) {
      throw new CoreError(
        'CONFIG_INVALID',
        `SQLite store ${path} has schema version ${version}, written by a newer @docker-watcher/store-sqlite ` +
          `(this one knows versions up to ${latestSchemaVersion}); it was left as it is: upgrade the package or restore a backup`,
        { details: { path, schemaVersion: version, knownVersion: latestSchemaVersion } },
      );
    }
    if (version === 0 && tables.count > 0) {
      throw new CoreError(
        'CONFIG_INVALID',
        `SQLite store ${path} is a SQLite database of something else (it has tables but no Docker Watcher schema); it was left as it is`,
        { details: { path } },
      );
    }
    if (options.integrityCheck === 'quick') quickCheck(db, path);
    const journal = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string } | undefined;
    db.exec(`PRAGMA synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    let migration: MigrationResult;
    try {
      migration = migrate(db);
    } catch (error) {
      if (!isCoreError(error, 'INTERNAL')) throw error;
      throw new CoreError(
        'INTERNAL',
        `SQLite store ${path} could not be migrated from schema version ${version} to ${latestSchemaVersion} ` +
          `(${error.message}); nothing was changed: the migrations run in one transaction`,
        { cause: error, retryable: false, details: { path, schemaVersion: version, ...error.details } },
      );
    }
    return { db, path, migration, journalMode: journal?.journal_mode ?? 'unknown' };
  } catch (error) {
    db.close();
    throw toStoreError(error, facts);
  }
}

function quickCheck(db: DatabaseSync, path: string): void {
  const rows = db.prepare('PRAGMA quick_check(5)').all() as Array<{ quick_check: string }>;
  const problems = rows.map((row) => row.quick_check).filter((text) => text !== 'ok');
  if (problems.length === 0) return;
  throw new CoreError(
    'INTERNAL',
    `SQLite store ${path} is corrupt (quick_check: ${problems.join('; ')}); it was left as it is: restore it from a backup`,
    { retryable: false, details: { path, problems } },
  );
}
