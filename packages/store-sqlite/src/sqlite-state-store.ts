import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import {
  type AdapterContext,
  type Approval,
  type AuditEvent,
  adapterId,
  CoreError,
  type DeployListFilter,
  type DeployRecord,
  defineStateStore,
  type FeedEntry,
  type IdempotencyClaim,
  type IdempotentAnswer,
  instantiate,
  type JournalEntry,
  type Lease,
  type Logger,
  type LogLine,
  onceDisposer,
  type RepositoryMark,
  type StateStore,
  silentLogger,
  throwIfAborted,
} from '@docker-watcher/core';
import {
  type BackupSecret,
  type BackupStore,
  checkName,
  checkRevision,
  conflict,
  copy,
  createKeyring,
  defaultFeedReadLimit,
  deployBody,
  expiryOf,
  feedKeepOf,
  makeBackup,
  mergeMarkTags,
  openSecret,
  parseBackup,
  type SealedSecret,
  type SecretStore,
  type StoreBackup,
  type StoreBackupCounts,
  sealSecret,
  sliceLimit,
  stageBody,
  toJournalEntry,
} from '@docker-watcher/core/store-kit';
import type * as v from 'valibot';
import { memoryPath, openDatabase } from './_database.ts';
import { toStoreError } from './_errors.ts';
import { latestSchemaVersion, rollback } from './_migrations.ts';
import {
  base64,
  type DeployRow,
  deployColumns,
  type JournalRow,
  json,
  parse,
  type SecretRow,
  type StageRow,
  sealedOf,
  toDeploy,
  toStage,
} from './_rows.ts';
import { type SqliteStateStoreOptions, sqliteStateStoreOptions, sqliteStateStoreSecrets } from './options.ts';

/**
 * The StateStore contract plus what only this store offers: JSON backups and encrypted secrets.
 * Secret values are never logged and never part of an error.
 */
export interface SqliteStateStore extends StateStore, BackupStore, SecretStore {
  /** Absolute path of the database file, or `:memory:`. */
  readonly path: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

interface MarkRow {
  registry: string;
  repository: string;
  mark: number;
  tags: string;
  since: string;
  cleared: number;
}

/** `limit` as `Array.prototype.slice` reads it, as a SQLite LIMIT (-1: none). */
const sqlLimit = (limit: number | undefined): number => sliceLimit(limit) ?? -1;

/** The WHERE conditions of a deploy listing; an unknown `before` matches nothing, like a cursor past the end. */
function deployConditions(filter: Omit<DeployListFilter, 'limit'>): {
  where: string[];
  params: SQLInputValue[];
} {
  const where: string[] = [];
  const params: SQLInputValue[] = [];
  const add = (condition: string, ...values: SQLInputValue[]) => {
    where.push(condition);
    params.push(...values);
  };
  if (filter.before !== undefined) add('pos < (SELECT pos FROM deploys WHERE id = ?)', filter.before);
  if (filter.project !== undefined) add('project = ?', filter.project);
  if (filter.stage !== undefined) add('stage = ?', filter.stage);
  // Written out literally so that the partial index deploys_unfinished applies.
  if (filter.unfinished === true) where.push('finished = 0');
  if (filter.states !== undefined)
    add(`state IN (${filter.states.map(() => '?').join(', ') || 'NULL'})`, ...filter.states);
  if (filter.trigger !== undefined) add("json_extract(body, '$.trigger') = ?", filter.trigger);
  if (filter.since !== undefined) add('created_at >= ?', filter.since);
  if (filter.until !== undefined) add('created_at < ?', filter.until);
  return { where, params };
}

function buildSqliteStateStore(
  options: v.InferOutput<typeof sqliteStateStoreOptions>,
  context: AdapterContext,
): SqliteStateStore {
  const id = adapterId('store', 'sqlite', context.instance);
  const logger = (context.logger ?? silentLogger).child({ adapter: id });
  const keyring = createKeyring(options.encryptionKey, options.previousKeys);
  const opened = openDatabase(options);
  const { db, path } = opened;
  logger.info('SQLite store opened', {
    path,
    schemaVersion: opened.migration.to,
    migrationsApplied: opened.migration.applied,
    journalMode: opened.journalMode,
  });
  if (path !== memoryPath && opened.journalMode !== 'wal') {
    logger.warn('SQLite store runs without WAL: readers wait for writers', {
      path,
      journalMode: opened.journalMode,
    });
  }

  const statements = new Map<string, StatementSync>();
  const sql = (text: string): StatementSync => {
    let statement = statements.get(text);
    if (!statement) {
      statement = db.prepare(text);
      statements.set(text, statement);
    }
    return statement;
  };
  const lifecycle = onceDisposer(async () => {
    statements.clear();
    db.close();
    logger.debug('SQLite store closed', { path });
  });

  warnAboutUnknownKeys(db, keyring.keys, logger);

  /** Runs one operation: aborted or disposed → throws; SQLite failures become CoreErrors naming the file. */
  const run = async <T>(operation: string, signal: AbortSignal | undefined, effect: () => T): Promise<T> => {
    throwIfAborted(signal);
    if (lifecycle.disposed()) {
      throw new CoreError('UNAVAILABLE', `${id} is disposed`, {
        retryable: false,
        details: { adapter: id, operation },
      });
    }
    try {
      return effect();
    } catch (error) {
      const mapped = toStoreError(error, { path, operation, busyTimeoutMs: options.busyTimeoutMs });
      if (mapped.code === 'INTERNAL') logger.error(`${operation} failed`, { error: mapped });
      throw mapped;
    }
  };

  /** All writes of one operation commit together or not at all; IMMEDIATE takes the write lock up front. */
  const write = <T>(effect: () => T): T => {
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = effect();
      db.exec('COMMIT');
      return result;
    } catch (error) {
      rollback(db);
      throw error;
    }
  };

  /** Several reads from one snapshot, even while another process writes. */
  const read = <T>(effect: () => T): T => {
    db.exec('BEGIN');
    try {
      const result = effect();
      db.exec('COMMIT');
      return result;
    } catch (error) {
      rollback(db);
      throw error;
    }
  };

  const stageRow = (project: string, stage: string): StageRow | undefined =>
    sql('SELECT project, stage, revision, body, updated_at FROM stages WHERE project = ? AND stage = ?').get(
      project,
      stage,
    ) as StageRow | undefined;

  const deployRow = (deployId: string): DeployRow | undefined =>
    sql(`SELECT ${deployColumns} FROM deploys WHERE id = ?`).get(deployId) as DeployRow | undefined;

  const journalOf = (pos: number): JournalEntry[] =>
    (
      sql('SELECT deploy, seq, state, at, note FROM deploy_journal WHERE deploy = ? ORDER BY seq').all(
        pos,
      ) as unknown as JournalRow[]
    ).map(toJournalEntry);

  /** Deploys with their journals, in the order of `rows`, with one query for all journals. */
  const withJournals = (rows: readonly DeployRow[]): DeployRecord[] => {
    if (rows.length === 0) return [];
    const journals = new Map<number, JournalEntry[]>();
    const journalRows = sql(
      'SELECT deploy, seq, state, at, note FROM deploy_journal WHERE deploy IN (SELECT value FROM json_each(?)) ORDER BY deploy, seq',
    ).all(json(rows.map((row) => row.pos))) as unknown as JournalRow[];
    for (const row of journalRows) {
      const entries = journals.get(row.deploy) ?? [];
      entries.push(toJournalEntry(row));
      journals.set(row.deploy, entries);
    }
    return rows.map((row) => toDeploy(row, journals.get(row.pos) ?? []));
  };

  const appendJournal = (pos: number, entry: JournalEntry): void => {
    sql('INSERT INTO deploy_journal (deploy, seq, state, at, note) VALUES (?, ?, ?, ?, ?)').run(
      pos,
      entry.seq,
      entry.state,
      entry.at,
      entry.note ?? null,
    );
  };

  const insertDeploy = (record: DeployRecord): number => {
    const inserted = sql(
      `INSERT INTO deploys (id, project, stage, revision, state, finished, body, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    ).run(
      record.id,
      record.project,
      record.stage,
      record.revision,
      record.state,
      record.finished ? 1 : 0,
      json(deployBody(record)),
      record.createdAt,
      record.updatedAt,
    );
    if (inserted.changes === 0) {
      throw new CoreError('CONFLICT', `Deploy ${record.id} exists already`, {
        details: { deployId: record.id },
      });
    }
    const pos = Number(inserted.lastInsertRowid);
    for (const entry of record.journal) appendJournal(pos, entry);
    return pos;
  };

  const logStream = (deployId: string): number => {
    sql('INSERT INTO log_streams (deploy_id) VALUES (?) ON CONFLICT (deploy_id) DO NOTHING').run(deployId);
    return (sql('SELECT id FROM log_streams WHERE deploy_id = ?').get(deployId) as { id: number }).id;
  };

  const insertLogLine = (stream: number, line: LogLine): void => {
    sql('INSERT INTO log_lines (stream, seq, at, level, line) VALUES (?, ?, ?, ?, ?)').run(
      stream,
      line.seq,
      line.at,
      line.level,
      line.line,
    );
  };

  const putApprovalRow = (approval: Approval): void => {
    sql(
      `INSERT INTO approvals (id, project, stage, status, body) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET project = excluded.project, stage = excluded.stage,
         status = excluded.status, body = excluded.body`,
    ).run(approval.id, approval.project, approval.stage, approval.status, json(approval));
  };

  const putSecretRow = (name: string, sealed: SealedSecret, updatedAt: string): void => {
    sql(
      `INSERT INTO secrets (name, key_id, iv, tag, ciphertext, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET key_id = excluded.key_id, iv = excluded.iv, tag = excluded.tag,
         ciphertext = excluded.ciphertext, updated_at = excluded.updated_at`,
    ).run(name, sealed.keyId, sealed.iv, sealed.tag, sealed.ciphertext, updatedAt);
  };

  const isEmpty = (): boolean => {
    const row = sql(
      `SELECT (SELECT count(*) FROM stages) + (SELECT count(*) FROM deploys) + (SELECT count(*) FROM log_lines)
        + (SELECT count(*) FROM approvals) + (SELECT count(*) FROM audit) + (SELECT count(*) FROM secrets) AS count`,
    ).get() as { count: number };
    return row.count === 0;
  };

  return {
    id,
    path,
    capabilities: { sharedLeases: path !== memoryPath, durable: path !== memoryPath },

    getStage: ({ signal, project, stage }) =>
      run('getStage', signal, () => {
        const row = stageRow(project, stage);
        return row ? toStage(row) : undefined;
      }),

    listStages: ({ signal, project } = {}) =>
      run('listStages', signal, () => {
        const rows = (project === undefined
          ? sql('SELECT project, stage, revision, body, updated_at FROM stages').all()
          : sql('SELECT project, stage, revision, body, updated_at FROM stages WHERE project = ?').all(
              project,
            )) as unknown as StageRow[];
        // Sorted like the in-memory store (locale order), not by SQLite's byte order.
        return rows
          .map(toStage)
          .sort((a, b) => a.project.localeCompare(b.project) || a.stage.localeCompare(b.stage));
      }),

    putStage: ({ signal, state, expectedRevision }) =>
      run('putStage', signal, () => {
        checkRevision(expectedRevision);
        const body = stageBody(state, options.historyLimit);
        const updatedAt = iso(Date.now());
        return write(() => {
          const changed =
            expectedRevision === 0
              ? sql(
                  `INSERT INTO stages (project, stage, revision, body, updated_at) VALUES (?, ?, 1, ?, ?)
                   ON CONFLICT (project, stage) DO NOTHING`,
                ).run(state.project, state.stage, json(body), updatedAt).changes
              : sql(
                  `UPDATE stages SET revision = revision + 1, body = ?, updated_at = ?
                   WHERE project = ? AND stage = ? AND revision = ?`,
                ).run(json(body), updatedAt, state.project, state.stage, expectedRevision).changes;
          if (changed === 0) {
            const actual = stageRow(state.project, state.stage)?.revision ?? 0;
            throw conflict(`Stage ${state.project}/${state.stage}`, expectedRevision, actual, {
              project: state.project,
              stage: state.stage,
            });
          }
          return toStage({
            project: state.project,
            stage: state.stage,
            revision: expectedRevision + 1,
            body: json(body),
            updated_at: updatedAt,
          });
        });
      }),

    createDeploy: ({ signal, deploy }) =>
      run('createDeploy', signal, () => {
        const at = iso(Date.now());
        const record: DeployRecord = {
          ...copy(deploy),
          finished: deploy.finished ?? false,
          revision: 1,
          journal: [{ seq: 1, state: deploy.state, at }],
          createdAt: at,
          updatedAt: at,
        };
        write(() => insertDeploy(record));
        return copy(record);
      }),

    getDeploy: ({ signal, id: deployId }) =>
      run('getDeploy', signal, () =>
        read(() => {
          const row = deployRow(deployId);
          return row ? toDeploy(row, journalOf(row.pos)) : undefined;
        }),
      ),

    updateDeploy: ({ signal, id: deployId, expectedRevision, update }) =>
      run('updateDeploy', signal, () => {
        checkRevision(expectedRevision);
        return write(() => {
          const row = deployRow(deployId);
          if (!row)
            throw new CoreError('NOT_FOUND', `Deploy ${deployId} does not exist`, { details: { deployId } });
          if (row.revision !== expectedRevision) {
            throw conflict(`Deploy ${deployId}`, expectedRevision, row.revision, { deployId });
          }
          const at = iso(Date.now());
          const current = toDeploy(row, []);
          const state = update.state ?? current.state;
          const body = deployBody({
            ...current,
            ...(update.error === undefined ? {} : { error: copy(update.error) }),
            data: update.data === undefined ? current.data : { ...current.data, ...copy(update.data) },
          });
          const finished = update.finished ?? current.finished;
          const changed = sql(
            `UPDATE deploys SET revision = revision + 1, state = ?, finished = ?, body = ?, updated_at = ?
             WHERE pos = ? AND revision = ?`,
          ).run(state, finished ? 1 : 0, json(body), at, row.pos, expectedRevision).changes;
          if (changed === 0)
            throw conflict(`Deploy ${deployId}`, expectedRevision, row.revision, { deployId });
          if (state !== current.state || update.note !== undefined) {
            const last = sql('SELECT max(seq) AS seq FROM deploy_journal WHERE deploy = ?').get(row.pos) as {
              seq: number | null;
            };
            appendJournal(row.pos, {
              seq: (last.seq ?? 0) + 1,
              state,
              at,
              ...(update.note === undefined ? {} : { note: update.note }),
            });
          }
          return toDeploy(
            {
              ...row,
              revision: row.revision + 1,
              state,
              finished: finished ? 1 : 0,
              body: json(body),
              updated_at: at,
            },
            journalOf(row.pos),
          );
        });
      }),

    listDeploys: ({ signal, limit, ...conditions } = {}) =>
      run('listDeploys', signal, () => {
        const { where, params } = deployConditions(conditions);
        const filter = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
        return read(() => {
          const rows = sql(`SELECT ${deployColumns} FROM deploys ${filter} ORDER BY pos DESC LIMIT ?`).all(
            ...params,
            sqlLimit(limit),
          ) as unknown as DeployRow[];
          return withJournals(rows);
        });
      }),

    appendLog: ({ signal, deployId, lines }) =>
      run('appendLog', signal, () => {
        if (lines.length === 0) return;
        write(() => {
          const stream = logStream(deployId);
          const last = sql('SELECT max(seq) AS seq FROM log_lines WHERE stream = ?').get(stream) as {
            seq: number | null;
          };
          let seq = last.seq ?? 0;
          for (const line of lines) {
            seq += 1;
            insertLogLine(stream, { seq, at: line.at, level: line.level, line: line.line });
          }
        });
      }),

    readLog: ({ signal, deployId, after = 0, limit }) =>
      run('readLog', signal, () =>
        (
          sql(
            `SELECT log_lines.seq, log_lines.at, log_lines.level, log_lines.line FROM log_lines
             JOIN log_streams ON log_streams.id = log_lines.stream
             WHERE log_streams.deploy_id = ? AND log_lines.seq > ? ORDER BY log_lines.seq LIMIT ?`,
          ).all(deployId, after, sqlLimit(limit)) as unknown as LogLine[]
        ).map((line): LogLine => ({ seq: line.seq, at: line.at, level: line.level, line: line.line })),
      ),

    putApproval: ({ signal, approval }) =>
      run('putApproval', signal, () => {
        write(() => putApprovalRow(approval));
        return copy(approval);
      }),

    getApproval: ({ signal, id: approvalId }) =>
      run('getApproval', signal, () => {
        const row = sql('SELECT body FROM approvals WHERE id = ?').get(approvalId) as
          | { body: string }
          | undefined;
        return row ? parse<Approval>(row.body) : undefined;
      }),

    listApprovals: (params) =>
      run('listApprovals', params?.signal, () => {
        const where: string[] = [];
        const values: SQLInputValue[] = [];
        for (const [column, value] of [
          ['project', params?.project],
          ['stage', params?.stage],
          ['status', params?.status],
        ] as const) {
          if (value === undefined) continue;
          where.push(`${column} = ?`);
          values.push(value);
        }
        const filter = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
        const rows = sql(`SELECT body FROM approvals ${filter} ORDER BY pos`).all(...values);
        return (rows as unknown as Array<{ body: string }>).map((row) => parse<Approval>(row.body));
      }),

    rememberEvent: ({ signal, source, eventId, ttlMs }) =>
      run('rememberEvent', signal, () => {
        const now = Date.now();
        return write(() => {
          sql('DELETE FROM seen_events WHERE expires_at <= ?').run(now);
          const inserted = sql(
            'INSERT INTO seen_events (source, event_id, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
          ).run(source, eventId, expiryOf(now, ttlMs));
          return inserted.changes > 0;
        });
      }),

    claimIdempotencyKey: ({ signal, key, fingerprint, claim, claimTtlMs }) =>
      run('claimIdempotencyKey', signal, () => {
        const now = Date.now();
        return write((): IdempotencyClaim => {
          sql('DELETE FROM idempotency_keys WHERE expires_at <= ?').run(now);
          const found = sql('SELECT fingerprint, answer FROM idempotency_keys WHERE key = ?').get(key) as
            | { fingerprint: string; answer: string | null }
            | undefined;
          if (found?.answer != null)
            return {
              state: 'done',
              fingerprint: found.fingerprint,
              answer: parse<IdempotentAnswer>(found.answer),
            };
          if (found) return { state: 'running', fingerprint: found.fingerprint };
          sql(
            'INSERT INTO idempotency_keys (key, fingerprint, claim, answer, expires_at) VALUES (?, ?, ?, NULL, ?)',
          ).run(key, fingerprint, claim, expiryOf(now, claimTtlMs));
          return { state: 'claimed' };
        });
      }),

    finishIdempotencyKey: ({ signal, key, claim, answer, ttlMs }) =>
      run('finishIdempotencyKey', signal, () => {
        write(() => {
          if (answer)
            sql(
              'UPDATE idempotency_keys SET answer = ?, expires_at = ? WHERE key = ? AND claim = ? AND answer IS NULL',
            ).run(JSON.stringify(answer), expiryOf(Date.now(), ttlMs), key, claim);
          else
            sql('DELETE FROM idempotency_keys WHERE key = ? AND claim = ? AND answer IS NULL').run(
              key,
              claim,
            );
        });
      }),

    markRepository: ({ signal, registry, repository, tags }) =>
      run('markRepository', signal, () => {
        checkName('registry', registry);
        checkName('repository', repository);
        return write((): RepositoryMark => {
          const current = sql(
            'SELECT mark, tags, since, cleared FROM repository_marks WHERE registry = ? AND repository = ?',
          ).get(registry, repository) as MarkRow | undefined;
          const open = current !== undefined && current.cleared === 0;
          const next: RepositoryMark = {
            registry,
            repository,
            tags: mergeMarkTags(open ? parse<string[]>(current.tags) : [], tags),
            mark: (current?.mark ?? 0) + 1,
            since: open ? current.since : iso(Date.now()),
          };
          sql(
            `INSERT INTO repository_marks (registry, repository, mark, tags, since, cleared) VALUES (?, ?, ?, ?, ?, 0)
             ON CONFLICT (registry, repository) DO UPDATE SET mark = excluded.mark, tags = excluded.tags,
               since = excluded.since, cleared = 0`,
          ).run(registry, repository, next.mark, json(next.tags), next.since);
          return next;
        });
      }),

    listRepositoryMarks: ({ signal } = {}) =>
      run('listRepositoryMarks', signal, () =>
        (
          sql(
            `SELECT registry, repository, mark, tags, since FROM repository_marks WHERE cleared = 0
             ORDER BY since, registry, repository`,
          ).all() as unknown as MarkRow[]
        ).map(
          (row): RepositoryMark => ({
            registry: row.registry,
            repository: row.repository,
            tags: parse<string[]>(row.tags),
            mark: row.mark,
            since: row.since,
          }),
        ),
      ),

    clearRepositoryMark: ({ signal, registry, repository, mark }) =>
      run('clearRepositoryMark', signal, () =>
        write(
          () =>
            sql(
              `UPDATE repository_marks SET cleared = 1, tags = '[]'
               WHERE registry = ? AND repository = ? AND mark = ? AND cleared = 0`,
            ).run(registry, repository, mark).changes > 0,
        ),
      ),

    appendAudit: ({ signal, event }) =>
      run('appendAudit', signal, () => {
        const { seq: _seq, ...fields } = copy(event) as AuditEvent;
        const inserted = write(() =>
          sql('INSERT INTO audit (at, body) VALUES (?, ?)').run(fields.at, json(fields)),
        );
        return { ...fields, seq: Number(inserted.lastInsertRowid) };
      }),

    listAudit: ({ signal, limit, before, actor, action } = {}) =>
      run('listAudit', signal, () => {
        const where: string[] = [];
        const values: SQLInputValue[] = [];
        if (before !== undefined) {
          where.push('seq < ?');
          values.push(before);
        }
        if (actor !== undefined) {
          where.push("json_extract(body, '$.actor') = ?");
          values.push(actor);
        }
        if (action !== undefined) {
          where.push("json_extract(body, '$.action') = ?");
          values.push(action);
        }
        const filter = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
        return (
          sql(`SELECT seq, body FROM audit ${filter} ORDER BY seq DESC LIMIT ?`).all(
            ...values,
            sqlLimit(limit),
          ) as unknown as Array<{
            seq: number;
            body: string;
          }>
        ).map((row): AuditEvent => ({ ...parse<Omit<AuditEvent, 'seq'>>(row.body), seq: row.seq }));
      }),

    appendFeed: ({ signal, events, keep }) =>
      run('appendFeed', signal, () =>
        write(() => {
          const entries = events.map(
            (event): FeedEntry => ({
              seq: Number(sql('INSERT INTO feed (body) VALUES (?)').run(json(event)).lastInsertRowid),
              event: copy(event),
            }),
          );
          const newest = entries.at(-1)?.seq;
          if (newest !== undefined) sql('DELETE FROM feed WHERE seq <= ?').run(newest - feedKeepOf(keep));
          return entries;
        }),
      ),

    readFeed: ({ signal, after, limit, newest } = {}) =>
      run('readFeed', signal, () => {
        const count = sqlLimit(limit ?? defaultFeedReadLimit);
        const rows = (newest
          ? sql(
              'SELECT seq, body FROM (SELECT seq, body FROM feed ORDER BY seq DESC LIMIT ?) ORDER BY seq',
            ).all(count)
          : sql('SELECT seq, body FROM feed WHERE seq > ? ORDER BY seq LIMIT ?').all(
              after ?? 0,
              count,
            )) as unknown as Array<{ seq: number; body: string }>;
        return rows.map((row): FeedEntry => ({ seq: row.seq, event: parse(row.body) }));
      }),

    acquireLease: ({ signal, name, holder, ttlMs }) =>
      run('acquireLease', signal, (): Lease | undefined => {
        const now = Date.now();
        return write(() => {
          const current = sql('SELECT holder, expires_at FROM leases WHERE name = ?').get(name) as
            | { holder: string; expires_at: number }
            | undefined;
          if (current && current.holder !== holder && current.expires_at > now) return undefined;
          const expiresAt = expiryOf(now, ttlMs);
          sql(
            `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at`,
          ).run(name, holder, expiresAt);
          return { name, holder, expiresAt: iso(expiresAt) };
        });
      }),

    releaseLease: ({ signal, name, holder }) =>
      run('releaseLease', signal, () => {
        sql('DELETE FROM leases WHERE name = ? AND holder = ?').run(name, holder);
      }),

    exportJson: ({ signal } = {}) =>
      run('exportJson', signal, () =>
        read((): StoreBackup => {
          const stages = (
            sql(
              'SELECT project, stage, revision, body, updated_at FROM stages ORDER BY project, stage',
            ).all() as unknown as StageRow[]
          ).map(toStage);
          const deployRows = sql(
            `SELECT ${deployColumns} FROM deploys ORDER BY pos`,
          ).all() as unknown as DeployRow[];
          const journals = new Map<number, JournalEntry[]>();
          for (const row of sql(
            'SELECT deploy, seq, state, at, note FROM deploy_journal ORDER BY deploy, seq',
          ).all() as unknown as JournalRow[]) {
            const entries = journals.get(row.deploy) ?? [];
            entries.push(toJournalEntry(row));
            journals.set(row.deploy, entries);
          }
          const logs = new Map<string, LogLine[]>();
          const lineRows = sql(
            `SELECT log_streams.deploy_id, log_lines.seq, log_lines.at, log_lines.level, log_lines.line
             FROM log_lines JOIN log_streams ON log_streams.id = log_lines.stream ORDER BY log_streams.id, log_lines.seq`,
          ).all() as unknown as Array<LogLine & { deploy_id: string }>;
          for (const { deploy_id, seq, at, level, line } of lineRows) {
            const lines = logs.get(deploy_id) ?? [];
            lines.push({ seq, at, level, line });
            logs.set(deploy_id, lines);
          }
          const approvals = (
            sql('SELECT body FROM approvals ORDER BY pos').all() as unknown as Array<{ body: string }>
          ).map((row) => parse<Approval>(row.body));
          const audit = (
            sql('SELECT seq, body FROM audit ORDER BY seq').all() as unknown as Array<{
              seq: number;
              body: string;
            }>
          ).map((row): AuditEvent => ({ ...parse<Omit<AuditEvent, 'seq'>>(row.body), seq: row.seq }));
          const secrets = (
            sql(
              'SELECT name, key_id, iv, tag, ciphertext, updated_at FROM secrets ORDER BY name',
            ).all() as unknown as SecretRow[]
          ).map(
            (row): BackupSecret => ({
              name: row.name,
              keyId: row.key_id,
              iv: base64(row.iv),
              tag: base64(row.tag),
              ciphertext: base64(row.ciphertext),
              updatedAt: row.updated_at,
            }),
          );
          return makeBackup({
            schemaVersion: latestSchemaVersion,
            stages,
            deploys: deployRows.map((row) => toDeploy(row, journals.get(row.pos) ?? [])),
            logs: [...logs].map(([deployId, lines]) => ({ deployId, lines })),
            approvals,
            audit,
            secrets,
          });
        }),
      ),

    importJson: ({ signal, data }) =>
      run('importJson', signal, () => {
        const backup = parseBackup(data);
        return write((): StoreBackupCounts => {
          if (!isEmpty()) {
            throw new CoreError(
              'CONFLICT',
              `SQLite store ${path} has data already: a backup is imported into an empty store only`,
              {
                details: { path },
              },
            );
          }
          for (const stage of backup.stages) {
            sql('INSERT INTO stages (project, stage, revision, body, updated_at) VALUES (?, ?, ?, ?, ?)').run(
              stage.project,
              stage.stage,
              stage.revision,
              json(stageBody(stage, options.historyLimit)),
              stage.updatedAt,
            );
          }
          for (const deploy of backup.deploys) insertDeploy(deploy);
          let logLines = 0;
          for (const { deployId, lines } of backup.logs) {
            const stream = logStream(deployId);
            for (const line of lines) insertLogLine(stream, line);
            logLines += lines.length;
          }
          for (const approval of backup.approvals) putApprovalRow(approval);
          for (const event of backup.audit) {
            const { seq, ...fields } = event;
            sql('INSERT INTO audit (seq, at, body) VALUES (?, ?, ?)').run(seq, fields.at, json(fields));
          }
          for (const secret of backup.secrets) {
            const bytes = (text: string) => Buffer.from(text, 'base64');
            putSecretRow(
              secret.name,
              {
                keyId: secret.keyId,
                iv: bytes(secret.iv),
                tag: bytes(secret.tag),
                ciphertext: bytes(secret.ciphertext),
              },
              secret.updatedAt,
            );
          }
          logger.info('SQLite store imported a backup', { path, exportedAt: backup.exportedAt });
          return {
            stages: backup.stages.length,
            deploys: backup.deploys.length,
            logLines,
            approvals: backup.approvals.length,
            audit: backup.audit.length,
            secrets: backup.secrets.length,
          };
        });
      }),

    putSecret: ({ signal, name, value }) =>
      run('putSecret', signal, () => {
        checkName('Secret name', name);
        if (typeof value !== 'string')
          throw new CoreError('BAD_REQUEST', `The value of secret "${name}" must be a string`);
        const sealed = sealSecret(keyring, name, value);
        write(() => putSecretRow(name, sealed, iso(Date.now())));
      }),

    getSecret: ({ signal, name }) =>
      run('getSecret', signal, () => {
        checkName('Secret name', name);
        const row = sql(
          'SELECT name, key_id, iv, tag, ciphertext, updated_at FROM secrets WHERE name = ?',
        ).get(name) as SecretRow | undefined;
        return row ? openSecret(keyring, name, sealedOf(row)) : undefined;
      }),

    deleteSecret: ({ signal, name }) =>
      run('deleteSecret', signal, () => {
        checkName('Secret name', name);
        return write(() => sql('DELETE FROM secrets WHERE name = ?').run(name).changes > 0);
      }),

    listSecretNames: ({ signal } = {}) =>
      run('listSecretNames', signal, () =>
        (sql('SELECT name FROM secrets ORDER BY name').all() as unknown as Array<{ name: string }>).map(
          (row) => row.name,
        ),
      ),

    rotateSecrets: ({ signal } = {}) =>
      run('rotateSecrets', signal, () => {
        const keyId = keyring.currentId;
        if (keyId === undefined)
          throw new CoreError('CONFIG_INVALID', 'Rotating secrets needs the encryptionKey option');
        const result = write(() => {
          const rows = sql(
            'SELECT name, key_id, iv, tag, ciphertext, updated_at FROM secrets ORDER BY name',
          ).all() as unknown as SecretRow[];
          const stale = rows.filter((row) => row.key_id !== keyId);
          const at = iso(Date.now());
          // Every stale secret is opened before any is rewritten: an unknown key changes nothing.
          const resealed = stale.map((row) => ({
            name: row.name,
            sealed: sealSecret(keyring, row.name, openSecret(keyring, row.name, sealedOf(row))),
          }));
          for (const { name, sealed } of resealed) putSecretRow(name, sealed, at);
          return { rotated: stale.length, total: rows.length, keyId };
        });
        logger.info('SQLite store re-encrypted secrets', { path, ...result });
        return result;
      }),

    dispose: lifecycle.dispose,
  };
}

/** Tells the operator at start-up, without any value, that some secrets cannot be read with the configured keys. */
function warnAboutUnknownKeys(db: DatabaseSync, keys: ReadonlyMap<string, Buffer>, logger: Logger): void {
  const rows = db
    .prepare('SELECT key_id, count(*) AS count FROM secrets GROUP BY key_id')
    .all() as unknown as Array<{
    key_id: string;
    count: number;
  }>;
  const unknown = rows.filter((row) => !keys.has(row.key_id));
  if (unknown.length > 0) {
    logger.warn(
      'Some secrets are encrypted with keys that are not configured: reading them fails with CONFIG_INVALID',
      {
        keyIds: unknown.map((row) => row.key_id),
        secrets: unknown.reduce((sum, row) => sum + row.count, 0),
      },
    );
  }
}

export const sqliteStateStore = defineStateStore({
  name: 'sqlite',
  options: sqliteStateStoreOptions,
  secrets: sqliteStateStoreSecrets,
  create: buildSqliteStateStore,
});

/**
 * The engine's memory in one SQLite file (node:sqlite, WAL): compare-and-set stages and deploys,
 * journals, logs, approvals, webhook replay protection, audit and leases, plus JSON backups and
 * secrets encrypted at rest. Opening migrates the file; problems with it are reported at once.
 */
export function createSqliteStateStore(
  options: SqliteStateStoreOptions = {},
  context: AdapterContext = {},
): SqliteStateStore {
  return instantiate(sqliteStateStore, options, context);
}
