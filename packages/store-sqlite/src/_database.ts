import { existsSync, mkdirSync, statSync } from 'node:fs';
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
  refuseEmptyFile(path);
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
    checkRows(db, path);
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

/**
 * A file that exists with 0 bytes was a store once (truncated, a failed copy, a full disk) far more
 * often than it is meant to start one: taking it for a new store loses the history, and the server
 * then replaces running containers as if from scratch. Deleting it is how one says "start anew".
 */
function refuseEmptyFile(path: string): void {
  if (path === memoryPath) return;
  const size = (() => {
    try {
      return statSync(path).size;
    } catch {
      return undefined;
    }
  })();
  // Another process creating the store right now has its journal beside the still empty file.
  if (size !== 0 || existsSync(`${path}-journal`) || existsSync(`${path}-wal`)) return;
  throw new CoreError(
    'CONFIG_INVALID',
    `SQLite store ${path} is an empty file (0 bytes), not a new store: it was left as it is. ` +
      'Restore a backup, or delete the file to start a new store',
    { details: { path } },
  );
}

/** The JSON columns of each table, and how a row is named in an error. */
const jsonColumns = [
  { table: 'stages', column: 'body', row: "project || '/' || stage" },
  { table: 'deploys', column: 'body', row: 'id' },
  { table: 'approvals', column: 'body', row: 'id' },
  { table: 'audit', column: 'body', row: 'seq' },
  { table: 'repository_marks', column: 'tags', row: "registry || ' ' || repository" },
] as const;

/**
 * Rows whose JSON does not parse would let the store open and then fail every operation that meets
 * them, naming neither table nor row: they are looked for at open, before anything is written (one
 * scan per table; `json_valid` is SQLite's own), and named.
 */
function checkRows(db: DatabaseSync, path: string): void {
  const broken: string[] = [];
  const present = new Set(
    (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as Array<{ name: string }>).map(
      (t) => t.name,
    ),
  );
  for (const { table, column, row } of jsonColumns) {
    // An older schema may not have the table yet: its migration creates it empty.
    if (!present.has(table)) continue;
    const rows = db
      .prepare(`SELECT ${row} AS name FROM ${table} WHERE json_valid(${column}) = 0 LIMIT 5`)
      .all() as Array<{ name: string | number }>;
    for (const { name } of rows) broken.push(`${table} ${name} (${column})`);
  }
  if (broken.length === 0) return;
  throw new CoreError(
    'CONFIG_INVALID',
    `SQLite store ${path} has rows whose JSON does not parse: ${broken.join(', ')}; it was left as it is: ` +
      'restore a backup or repair those rows',
    { details: { path, rows: broken } },
  );
}
