import type { DatabaseSync } from 'node:sqlite';
import { CoreError } from '@docker-watcher/core';
import { sqliteBusy, sqliteCodeOf, sqliteLocked } from './_errors.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * The schema's history. A released migration never changes: a new schema is a new entry. Records
 * keep their queried fields in columns and the rest as JSON in `body`.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
      CREATE TABLE stages (
        project TEXT NOT NULL,
        stage TEXT NOT NULL,
        revision INTEGER NOT NULL,
        body TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (project, stage)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE deploys (
        pos INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        project TEXT NOT NULL,
        stage TEXT NOT NULL,
        revision INTEGER NOT NULL,
        state TEXT NOT NULL,
        finished INTEGER NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE log_streams (
        id INTEGER PRIMARY KEY,
        deploy_id TEXT NOT NULL UNIQUE
      ) STRICT;
      CREATE TABLE log_lines (
        stream INTEGER NOT NULL REFERENCES log_streams (id),
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        level TEXT NOT NULL,
        line TEXT NOT NULL,
        PRIMARY KEY (stream, seq)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE approvals (
        pos INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        project TEXT NOT NULL,
        stage TEXT NOT NULL,
        status TEXT NOT NULL,
        body TEXT NOT NULL
      ) STRICT;
      CREATE TABLE seen_events (
        source TEXT NOT NULL,
        event_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (source, event_id)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        body TEXT NOT NULL
      ) STRICT;
      CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    // The journal moves out of the deploy's JSON, so that a step transition appends one row instead
    // of rewriting a growing document; the indexes serve listDeploys, listApprovals and event expiry.
    version: 2,
    name: 'deploy-journal-table-and-list-indexes',
    sql: `
      CREATE TABLE deploy_journal (
        deploy INTEGER NOT NULL REFERENCES deploys (pos),
        seq INTEGER NOT NULL,
        state TEXT NOT NULL,
        at TEXT NOT NULL,
        note TEXT,
        PRIMARY KEY (deploy, seq)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO deploy_journal (deploy, seq, state, at, note)
        SELECT deploys.pos, json_extract(entry.value, '$.seq'), json_extract(entry.value, '$.state'),
               json_extract(entry.value, '$.at'), json_extract(entry.value, '$.note')
        FROM deploys, json_each(deploys.body, '$.journal') AS entry;
      UPDATE deploys SET body = json_remove(body, '$.journal');
      CREATE INDEX deploys_by_project ON deploys (project, pos);
      CREATE INDEX deploys_by_stage ON deploys (project, stage, pos);
      CREATE INDEX deploys_unfinished ON deploys (pos) WHERE finished = 0;
      CREATE INDEX approvals_by_stage ON approvals (project, stage, status);
      CREATE INDEX seen_events_by_expiry ON seen_events (expires_at);
    `,
  },
  {
    version: 3,
    name: 'encrypted-secrets',
    sql: `
      CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        key_id TEXT NOT NULL,
        iv BLOB NOT NULL,
        tag BLOB NOT NULL,
        ciphertext BLOB NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    // Repositories a webhook reported changed, until the engine acted on them. A cleared mark keeps
    // its row (cleared = 1), so that the repository's next mark gets a larger number.
    version: 4,
    name: 'repository-marks',
    sql: `
      CREATE TABLE repository_marks (
        registry TEXT NOT NULL,
        repository TEXT NOT NULL,
        mark INTEGER NOT NULL,
        tags TEXT NOT NULL,
        since TEXT NOT NULL,
        cleared INTEGER NOT NULL,
        PRIMARY KEY (registry, repository)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    // The event feed every server on the store streams from, numbered in one sequence; the indexes
    // serve the API's listings of approvals across stages and deploys by time.
    version: 5,
    name: 'event-feed-and-listing-indexes',
    sql: `
      CREATE TABLE feed (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        body TEXT NOT NULL
      ) STRICT;
      CREATE INDEX approvals_by_status ON approvals (status, pos);
      CREATE INDEX deploys_by_created ON deploys (created_at);
    `,
  },
  {
    // Idempotency keys of the API's POSTs, so that a retry on any server of the store gets the
    // first answer: a claim while the request runs (answer NULL), then its answer until expiry.
    version: 6,
    name: 'idempotency-keys',
    sql: `
      CREATE TABLE idempotency_keys (
        key TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        claim TEXT NOT NULL,
        answer TEXT,
        expires_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);
    `,
  },
];

export const latestSchemaVersion: number = migrations.at(-1)?.version ?? 0;

export function schemaVersionOf(db: DatabaseSync): number {
  const row = db.prepare('PRAGMA user_version').get() as { user_version: number } | undefined;
  return row?.user_version ?? 0;
}

export interface MigrationResult {
  readonly from: number;
  readonly to: number;
  /** `<version>-<name>` of each migration applied now, oldest first. */
  readonly applied: readonly string[];
}

/**
 * Takes the schema to `target` (the latest by default) in one write transaction: either every
 * pending migration is applied and recorded, or none is. Each is recorded in `schema_migrations`
 * and the version in `PRAGMA user_version`, which the store reads at open.
 */
export function migrate(
  db: DatabaseSync,
  options: { readonly target?: number; readonly now?: () => Date } = {},
): MigrationResult {
  const target = options.target ?? latestSchemaVersion;
  const now = options.now ?? (() => new Date());
  db.exec('BEGIN IMMEDIATE');
  try {
    // Read again under the write lock: another process may have migrated since the caller looked.
    const from = schemaVersionOf(db);
    if (from > target) {
      throw new CoreError(
        'CONFIG_INVALID',
        `The database is at schema version ${from}, newer than ${target}`,
        {
          details: { schemaVersion: from, knownVersion: target },
        },
      );
    }
    const pending = migrations.filter((migration) => migration.version > from && migration.version <= target);
    if (pending.length > 0) {
      db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at TEXT NOT NULL
      ) STRICT`);
      const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
      for (const migration of pending) {
        try {
          db.exec(migration.sql);
        } catch (error) {
          throw migrationFailed(migration, error);
        }
        record.run(migration.version, migration.name, now().toISOString());
        db.exec(`PRAGMA user_version = ${migration.version}`);
      }
    }
    db.exec('COMMIT');
    return {
      from,
      to: Math.max(from, pending.at(-1)?.version ?? from),
      applied: pending.map((m) => `${m.version}-${m.name}`),
    };
  } catch (error) {
    rollback(db);
    throw error;
  }
}

/** A migration that cannot apply to the rows it finds; lock contention stays as it is, to be retried. */
function migrationFailed(migration: Migration, error: unknown): unknown {
  if (sqliteCodeOf(error) === sqliteBusy || sqliteCodeOf(error) === sqliteLocked) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new CoreError('INTERNAL', `migration ${migration.version}-${migration.name} failed: ${reason}`, {
    cause: error,
    retryable: false,
    details: { migration: `${migration.version}-${migration.name}` },
  });
}

/** Rolls back the open transaction, if any; a failed rollback must not hide the original error. */
export function rollback(db: DatabaseSync): void {
  try {
    db.exec('ROLLBACK');
  } catch {
    // No transaction was open (SQLite rolls back itself on some errors).
  }
}
