import {
  type AdapterContext,
  type Approval,
  type AuditEvent,
  adapterId,
  type CallOptions,
  CoreError,
  type DeployListFilter,
  type DeployRecord,
  defineStateStore,
  type FeedEntry,
  type IdempotencyClaim,
  type IdempotentAnswer,
  instantiate,
  isCoreError,
  type JournalEntry,
  type Lease,
  type LogLine,
  onceDisposer,
  type RepositoryMark,
  type StateStore,
  silentLogger,
  stageKey,
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
  maxTime,
  mergeMarkTags,
  openSecret,
  parseBackup,
  type SecretStore,
  type StoreBackup,
  type StoreBackupCounts,
  sealSecret,
  sliceLimit,
  stageBody,
  toJournalEntry,
} from '@docker-watcher/core/store-kit';
import pg from 'pg';
import type * as v from 'valibot';
import { type ChangeFeed, createChangeFeed } from './_change-feed.ts';
import { clientConfig, describeTarget, passwordOf, type Queryable } from './_connection.ts';
import { sqlStateOf, toStoreError } from './_errors.ts';
import { latestSchemaVersion, migrate, quoteIdent } from './_migrations.ts';
import {
  type DeployRow,
  deployColumns,
  type JournalRow,
  journalColumns,
  json,
  type SecretRow,
  type StageRow,
  sealedOf,
  secretColumns,
  stageColumns,
  toDeploy,
  toStage,
} from './_rows.ts';
import { changeChannel, changePayload, type StoreChangeKind, type StoreChangeListener } from './changes.ts';
import {
  type PostgresStateStoreOptions,
  postgresStateStoreOptions,
  postgresStateStoreSecrets,
} from './options.ts';

export interface PostgresStoreStatus {
  readonly schemaVersion: number;
  /** `<version>-<name>` of the migrations this store applied when it opened; empty when another replica did. */
  readonly migrationsApplied: readonly string[];
}

/**
 * The StateStore contract plus what only this store offers: a change feed, JSON backups and
 * encrypted secrets. Secret values, keys and the database password are never logged and never
 * part of an error.
 */
export interface PostgresStateStore extends StateStore, BackupStore, SecretStore {
  /** The connection URL without its password. */
  readonly target: string;
  readonly schema: string;
  /**
   * Connects and brings the schema to the latest version (once; calls do it themselves). Call it at
   * start-up to fail fast on a wrong URL, password or schema.
   */
  open(params?: CallOptions): Promise<PostgresStoreStatus>;
  /**
   * Calls `listener` after every committed write of any store on this schema, this one included,
   * through LISTEN/NOTIFY on a connection of its own that reconnects. `resync` follows every
   * (re)connection: changes in between are not replayed. Returns the unsubscribe function.
   */
  onChange(listener: StoreChangeListener): () => void;
}

type Options = v.InferOutput<typeof postgresStateStoreOptions>;

/** One transaction's view: queries, and the changes to announce when it commits. */
interface Tx extends Queryable {
  changed(kind: Exclude<StoreChangeKind, 'resync'>, key: string): void;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** A ttl the database can add to `now()`: NaN is 0, beyond a Date's range is infinity. */
function databaseTtl(ttlMs: number): number {
  if (Number.isNaN(ttlMs)) return 0;
  if (ttlMs >= maxTime) return Number.POSITIVE_INFINITY;
  return Math.max(-maxTime / 1000, ttlMs);
}

/** The database's clock plus a ttl (parameter `$n`, milliseconds as float8). */
const expirySql = (param: string): string =>
  `CASE WHEN ${param}::float8 = 'Infinity' THEN 'infinity'::timestamptz ELSE now() + ${param}::float8 * interval '1 millisecond' END`;

/** `limit` as `Array.prototype.slice` reads it, as a SQL LIMIT (null: none). */
function sqlLimit(limit: number | undefined): number | null {
  const count = sliceLimit(limit);
  return count === undefined ? null : Math.min(Number.MAX_SAFE_INTEGER, count);
}

/** Rows per statement when a backup is imported: big enough to be fast, small enough for one message. */
const importBatch = 2_000;

function batches<T>(items: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let index = 0; index < items.length; index += importBatch)
    result.push(items.slice(index, index + importBatch));
  return result;
}

/** The WHERE conditions of a deploy listing, with `$n` parameters; `param` adds more. */
function deployConditions(filter: Omit<DeployListFilter, 'limit'>, deploysTable: string) {
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  // An unknown `before` matches nothing, like a cursor past the end.
  if (filter.before !== undefined)
    where.push(`pos < (SELECT pos FROM ${deploysTable} WHERE id = ${param(filter.before)})`);
  if (filter.project !== undefined) where.push(`project = ${param(filter.project)}`);
  if (filter.stage !== undefined) where.push(`stage = ${param(filter.stage)}`);
  // Written out literally so that the partial index deploys_unfinished applies.
  if (filter.unfinished === true) where.push('NOT finished');
  if (filter.states !== undefined) where.push(`state = ANY(${param([...filter.states])}::text[])`);
  if (filter.trigger !== undefined) where.push(`body ->> 'trigger' = ${param(filter.trigger)}`);
  if (filter.since !== undefined) where.push(`created_at >= ${param(filter.since)}`);
  if (filter.until !== undefined) where.push(`created_at < ${param(filter.until)}`);
  return { where, values, param };
}

function buildPostgresStateStore(options: Options, context: AdapterContext): PostgresStateStore {
  const id = adapterId('store', 'postgres', context.instance);
  const logger = (context.logger ?? silentLogger).child({ adapter: id });
  const keyring = createKeyring(options.encryptionKey, options.previousKeys);
  const { schema } = options;
  const target = describeTarget(options.url);
  const password = passwordOf(options);
  const config = clientConfig({
    url: options.url,
    password: options.password,
    connectTimeoutMs: options.connectTimeoutMs,
    queryTimeoutMs: options.queryTimeoutMs,
    applicationName: context.instance ? `docker-watcher/${context.instance}` : 'docker-watcher',
  });
  const facts = (operation: string) => ({
    target,
    schema,
    operation,
    connectTimeoutMs: options.connectTimeoutMs,
    queryTimeoutMs: options.queryTimeoutMs,
    password,
  });

  const s = quoteIdent(schema);
  const T = {
    stages: `${s}.stages`,
    deploys: `${s}.deploys`,
    journal: `${s}.deploy_journal`,
    streams: `${s}.log_streams`,
    lines: `${s}.log_lines`,
    approvals: `${s}.approvals`,
    events: `${s}.seen_events`,
    audit: `${s}.audit`,
    leases: `${s}.leases`,
    secrets: `${s}.secrets`,
    marks: `${s}.repository_marks`,
    feed: `${s}.feed`,
    feedSequence: `${s}.feed_sequence`,
    idempotency: `${s}.idempotency_keys`,
  };

  const pool = new pg.Pool({ ...config, max: options.poolSize });
  // Idle connections break when the server restarts: the pool drops them and opens new ones.
  pool.on('error', (error) => {
    logger.warn('PostgreSQL store lost an idle connection; the next call opens a new one', {
      error: toStoreError(error, facts('idle')),
    });
  });
  const feed: ChangeFeed = createChangeFeed({
    config,
    schema,
    logger,
    retryMaxMs: options.listenRetryMaxMs,
    toError: (error) => toStoreError(error, facts('listen')),
  });

  const usedBefore = new WeakSet<pg.PoolClient>();

  /**
   * One pooled connection for one operation; a connection that broke is destroyed, not reused.
   * When a pooled connection turns out dead at its first statement (the server ended it while it
   * was idle), the operation runs again on the next one, until a new connection answers or fails:
   * nothing of it reached the database, or it was a single idempotent lease statement.
   */
  const withClient = async <T>(effect: (client: Queryable) => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      const client = await pool.connect();
      const reused = usedBefore.has(client);
      usedBefore.add(client);
      let broken: Error | undefined;
      let answered = 0;
      // Without a listener, an error on a checked-out connection would crash the process.
      const onError = (error: Error) => {
        broken ??= error;
      };
      client.on('error', onError);
      const queryable: Queryable = {
        query: async (text, values) => {
          const result = await client.query(text, values);
          answered += 1;
          return result as never;
        },
      };
      try {
        return await effect(queryable);
      } catch (error) {
        const state = sqlStateOf(error);
        const healthy = isCoreError(error) || (state !== undefined && !/^(08|57P)/.test(state));
        if (!healthy) broken ??= error instanceof Error ? error : new Error(String(error));
        if (healthy || !reused || answered > 0 || attempt > options.poolSize) throw error;
        logger.debug('A pooled connection was dead at its first statement; trying a new one', {
          error: toStoreError(error, facts('retry')),
        });
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    }
  };

  let opening: Promise<PostgresStoreStatus> | undefined;
  const openSchema = () =>
    withClient(async (client) => {
      const migration = await migrate(client, { schema });
      const keys = await client.query<{ key_id: string; count: number }>(
        `SELECT key_id, count(*) AS count FROM ${T.secrets} GROUP BY key_id`,
      );
      const unknown = keys.rows.filter((row) => !keyring.keys.has(row.key_id));
      logger.info('PostgreSQL store opened', {
        target,
        schema,
        schemaVersion: migration.to,
        migrationsApplied: migration.applied,
      });
      if (unknown.length > 0) {
        logger.warn(
          'Some secrets are encrypted with keys that are not configured: reading them fails with CONFIG_INVALID',
          {
            keyIds: unknown.map((row) => row.key_id),
            secrets: unknown.reduce((sum, row) => sum + row.count, 0),
          },
        );
      }
      return { schemaVersion: migration.to, migrationsApplied: migration.applied };
    });
  /** Opens once; a failed attempt is forgotten, so that the next call tries again. */
  const open = (): Promise<PostgresStoreStatus> => {
    if (!opening) {
      const attempt = openSchema().catch((error: unknown) => {
        throw toStoreError(error, facts('open'));
      });
      opening = attempt;
      attempt.catch(() => {
        if (opening === attempt) opening = undefined;
      });
    }
    return opening;
  };

  const lifecycle = onceDisposer(async () => {
    await feed.close();
    await opening?.catch(() => undefined);
    await pool.end();
    logger.debug('PostgreSQL store closed', { target, schema });
  });

  // Connect and migrate right away, as the SQLite store does at open; a failure waits for the next call.
  open().catch((error: unknown) => {
    logger.warn('PostgreSQL store could not open yet; the next call tries again', { error });
  });

  /** Runs one operation: aborted or disposed → throws; failures become CoreErrors naming the database. */
  const run = async <T>(
    operation: string,
    signal: AbortSignal | undefined,
    effect: (client: Queryable) => Promise<T>,
    check?: () => void,
  ): Promise<T> => {
    throwIfAborted(signal);
    if (lifecycle.disposed()) {
      throw new CoreError('UNAVAILABLE', `${id} is disposed`, {
        retryable: false,
        details: { adapter: id, operation },
      });
    }
    check?.();
    try {
      await open();
      throwIfAborted(signal);
      return await withClient(effect);
    } catch (error) {
      const mapped = toStoreError(error, facts(operation));
      if (mapped.code === 'INTERNAL') logger.error(`${operation} failed`, { error: mapped });
      throw mapped;
    }
  };

  /** All writes of one operation commit together, with their change notifications, or not at all. */
  const write = async <T>(client: Queryable, effect: (tx: Tx) => Promise<T>): Promise<T> => {
    const changes: string[] = [];
    const tx: Tx = {
      query: (text, values) => client.query(text, values),
      changed: (kind, key) => {
        changes.push(changePayload(schema, kind, key));
      },
    };
    await client.query('BEGIN');
    try {
      const result = await effect(tx);
      if (changes.length > 0) {
        await client.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [
          changeChannel,
          changes,
        ]);
      }
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  };

  /** Several reads from one snapshot, while other replicas write. */
  const read = async <T>(client: Queryable, effect: () => Promise<T>): Promise<T> => {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      const result = await effect();
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  };

  const rows = async <R extends pg.QueryResultRow>(
    client: Queryable,
    text: string,
    values?: unknown[],
  ): Promise<R[]> => (await client.query<R>(text, values)).rows;

  const stageRow = async (client: Queryable, project: string, stage: string) =>
    (
      await rows<StageRow>(
        client,
        `SELECT ${stageColumns} FROM ${T.stages} WHERE project = $1 AND stage = $2`,
        [project, stage],
      )
    )[0];

  const deployRow = async (client: Queryable, deployId: string, lock = false) =>
    (
      await rows<DeployRow>(
        client,
        `SELECT ${deployColumns} FROM ${T.deploys} WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
        [deployId],
      )
    )[0];

  /** Deploys with their journals, in the order of `deploys`, with one query for all journals. */
  const withJournals = async (client: Queryable, deploys: readonly DeployRow[]): Promise<DeployRecord[]> => {
    if (deploys.length === 0) return [];
    const journals = new Map<number, JournalEntry[]>();
    const journalRows = await rows<JournalRow>(
      client,
      `SELECT ${journalColumns} FROM ${T.journal} WHERE deploy = ANY($1::bigint[]) ORDER BY deploy, seq`,
      [deploys.map((row) => row.pos)],
    );
    for (const row of journalRows) {
      const entries = journals.get(row.deploy) ?? [];
      entries.push(toJournalEntry(row));
      journals.set(row.deploy, entries);
    }
    return deploys.map((row) => toDeploy(row, journals.get(row.pos) ?? []));
  };

  const putSecretRow = async (
    tx: Tx,
    name: string,
    sealed: { keyId: string; iv: Uint8Array; tag: Uint8Array; ciphertext: Uint8Array },
    updatedAt: string,
  ) => {
    await tx.query(
      `INSERT INTO ${T.secrets} (${secretColumns}) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (name) DO UPDATE SET key_id = excluded.key_id, iv = excluded.iv, tag = excluded.tag,
         ciphertext = excluded.ciphertext, updated_at = excluded.updated_at`,
      [
        name,
        sealed.keyId,
        Buffer.from(sealed.iv),
        Buffer.from(sealed.tag),
        Buffer.from(sealed.ciphertext),
        updatedAt,
      ],
    );
  };

  const auditOf = (row: { seq: number; body: Omit<AuditEvent, 'seq'> }): AuditEvent => ({
    ...row.body,
    seq: row.seq,
  });

  return {
    id,
    target,
    schema,
    capabilities: { sharedLeases: true, durable: true },

    open: async ({ signal } = {}) => {
      throwIfAborted(signal);
      if (lifecycle.disposed()) {
        throw new CoreError('UNAVAILABLE', `${id} is disposed`, {
          retryable: false,
          details: { adapter: id },
        });
      }
      return open();
    },

    onChange: (listener) => {
      if (lifecycle.disposed()) {
        throw new CoreError('UNAVAILABLE', `${id} is disposed`, {
          retryable: false,
          details: { adapter: id },
        });
      }
      return feed.subscribe(listener);
    },

    getStage: ({ signal, project, stage }) =>
      run('getStage', signal, async (client) => {
        const row = await stageRow(client, project, stage);
        return row ? toStage(row) : undefined;
      }),

    listStages: ({ signal, project } = {}) =>
      run('listStages', signal, async (client) => {
        const found =
          project === undefined
            ? await rows<StageRow>(client, `SELECT ${stageColumns} FROM ${T.stages}`)
            : await rows<StageRow>(client, `SELECT ${stageColumns} FROM ${T.stages} WHERE project = $1`, [
                project,
              ]);
        // Sorted like the in-memory store (locale order), not by the database's collation.
        return found
          .map(toStage)
          .sort((a, b) => a.project.localeCompare(b.project) || a.stage.localeCompare(b.stage));
      }),

    putStage: ({ signal, state, expectedRevision }) =>
      run(
        'putStage',
        signal,
        (client) => {
          const body = stageBody(state, options.historyLimit);
          const updatedAt = iso(Date.now());
          return write(client, async (tx) => {
            const changed =
              expectedRevision === 0
                ? await tx.query(
                    `INSERT INTO ${T.stages} (${stageColumns}) VALUES ($1, $2, 1, $3, $4)
                     ON CONFLICT (project, stage) DO NOTHING`,
                    [state.project, state.stage, json(body), updatedAt],
                  )
                : await tx.query(
                    `UPDATE ${T.stages} SET revision = revision + 1, body = $3, updated_at = $4
                     WHERE project = $1 AND stage = $2 AND revision = $5`,
                    [state.project, state.stage, json(body), updatedAt, expectedRevision],
                  );
            if (changed.rowCount === 0) {
              const actual = (await stageRow(tx, state.project, state.stage))?.revision ?? 0;
              throw conflict(`Stage ${state.project}/${state.stage}`, expectedRevision, actual, {
                project: state.project,
                stage: state.stage,
              });
            }
            tx.changed('stage', stageKey(state));
            return toStage({
              project: state.project,
              stage: state.stage,
              revision: expectedRevision + 1,
              body: copy(body),
              updated_at: updatedAt,
            });
          });
        },
        () => checkRevision(expectedRevision),
      ),

    createDeploy: ({ signal, deploy }) =>
      run('createDeploy', signal, async (client) => {
        const at = iso(Date.now());
        const record: DeployRecord = {
          ...copy(deploy),
          finished: deploy.finished ?? false,
          revision: 1,
          journal: [{ seq: 1, state: deploy.state, at }],
          createdAt: at,
          updatedAt: at,
        };
        await write(client, async (tx) => {
          const inserted = await tx.query<{ pos: number }>(
            `INSERT INTO ${T.deploys} (id, project, stage, revision, state, finished, body, created_at, updated_at)
             VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $7) ON CONFLICT (id) DO NOTHING RETURNING pos`,
            [
              record.id,
              record.project,
              record.stage,
              record.state,
              record.finished,
              json(deployBody(record)),
              at,
            ],
          );
          const pos = inserted.rows[0]?.pos;
          if (pos === undefined) {
            throw new CoreError('CONFLICT', `Deploy ${record.id} exists already`, {
              details: { deployId: record.id },
            });
          }
          await tx.query(`INSERT INTO ${T.journal} (${journalColumns}) VALUES ($1, 1, $2, $3, NULL)`, [
            pos,
            record.state,
            at,
          ]);
          tx.changed('deploy', record.id);
        });
        return copy(record);
      }),

    getDeploy: ({ signal, id: deployId }) =>
      run('getDeploy', signal, (client) =>
        read(client, async () => {
          const row = await deployRow(client, deployId);
          return row ? (await withJournals(client, [row]))[0] : undefined;
        }),
      ),

    updateDeploy: ({ signal, id: deployId, expectedRevision, update }) =>
      run(
        'updateDeploy',
        signal,
        (client) =>
          write(client, async (tx) => {
            const row = await deployRow(tx, deployId, true);
            if (!row)
              throw new CoreError('NOT_FOUND', `Deploy ${deployId} does not exist`, {
                details: { deployId },
              });
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
            await tx.query(
              `UPDATE ${T.deploys} SET revision = revision + 1, state = $2, finished = $3, body = $4, updated_at = $5
               WHERE pos = $1`,
              [row.pos, state, finished, json(body), at],
            );
            if (state !== current.state || update.note !== undefined) {
              await tx.query(
                `INSERT INTO ${T.journal} (${journalColumns})
                 SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4 FROM ${T.journal} WHERE deploy = $1`,
                [row.pos, state, at, update.note ?? null],
              );
            }
            tx.changed('deploy', deployId);
            const [updated] = await withJournals(tx, [
              {
                ...row,
                revision: row.revision + 1,
                state,
                finished,
                body: copy(body),
                updated_at: at,
              },
            ]);
            return updated as DeployRecord;
          }),
        () => checkRevision(expectedRevision),
      ),

    listDeploys: ({ signal, limit, ...conditions } = {}) =>
      run('listDeploys', signal, (client) => {
        const { where, values, param } = deployConditions(conditions, T.deploys);
        const filter = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
        return read(client, async () => {
          const found = await rows<DeployRow>(
            client,
            `SELECT ${deployColumns} FROM ${T.deploys} ${filter} ORDER BY pos DESC LIMIT ${param(sqlLimit(limit))}::bigint`,
            values,
          );
          return withJournals(client, found);
        });
      }),

    appendLog: ({ signal, deployId, lines }) =>
      run('appendLog', signal, async (client) => {
        if (lines.length === 0) return;
        await write(client, async (tx) => {
          await tx.query(
            `INSERT INTO ${T.streams} (deploy_id) VALUES ($1) ON CONFLICT (deploy_id) DO NOTHING`,
            [deployId],
          );
          // The row lock makes appenders of one deploy (on any replica) take turns for the numbers.
          const stream = (
            await rows<{ id: number }>(tx, `SELECT id FROM ${T.streams} WHERE deploy_id = $1 FOR UPDATE`, [
              deployId,
            ])
          )[0]?.id;
          await tx.query(
            `INSERT INTO ${T.lines} (stream, seq, at, level, line)
             SELECT $1, (SELECT coalesce(max(seq), 0) FROM ${T.lines} WHERE stream = $1) + entry.n,
                    entry.at, entry.level, entry.line
             FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS entry (at, level, line, n)`,
            [
              stream,
              lines.map((line) => line.at),
              lines.map((line) => line.level),
              lines.map((line) => line.line),
            ],
          );
          tx.changed('log', deployId);
        });
      }),

    readLog: ({ signal, deployId, after = 0, limit }) =>
      run('readLog', signal, async (client) => {
        // Sequence numbers are whole numbers from 1: `after` is compared as the whole number below it.
        if (Number.isNaN(after) || after >= 2 ** 31) return [];
        const floor = after === Number.NEGATIVE_INFINITY ? 0 : Math.max(0, Math.floor(after));
        const found = await rows<LogLine>(
          client,
          `SELECT line.seq, line.at, line.level, line.line FROM ${T.lines} AS line
           JOIN ${T.streams} AS stream ON stream.id = line.stream
           WHERE stream.deploy_id = $1 AND line.seq > $2 ORDER BY line.seq LIMIT $3::bigint`,
          [deployId, floor, sqlLimit(limit)],
        );
        return found.map(
          (line): LogLine => ({ seq: line.seq, at: line.at, level: line.level, line: line.line }),
        );
      }),

    putApproval: ({ signal, approval }) =>
      run('putApproval', signal, async (client) => {
        await write(client, async (tx) => {
          await tx.query(
            `INSERT INTO ${T.approvals} (id, project, stage, status, body) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET project = excluded.project, stage = excluded.stage,
               status = excluded.status, body = excluded.body`,
            [approval.id, approval.project, approval.stage, approval.status, json(approval)],
          );
          tx.changed('approval', approval.id);
        });
        return copy(approval);
      }),

    getApproval: ({ signal, id: approvalId }) =>
      run('getApproval', signal, async (client) => {
        const [row] = await rows<{ body: Approval }>(
          client,
          `SELECT body FROM ${T.approvals} WHERE id = $1`,
          [approvalId],
        );
        return row?.body;
      }),

    listApprovals: (params) =>
      run('listApprovals', params?.signal, async (client) => {
        const found = await rows<{ body: Approval }>(
          client,
          `SELECT body FROM ${T.approvals} WHERE ($1::text IS NULL OR project = $1)
             AND ($2::text IS NULL OR stage = $2) AND ($3::text IS NULL OR status = $3) ORDER BY pos`,
          [params?.project ?? null, params?.stage ?? null, params?.status ?? null],
        );
        return found.map((row) => row.body);
      }),

    rememberEvent: ({ signal, source, eventId, ttlMs }) =>
      run('rememberEvent', signal, (client) =>
        write(client, async (tx) => {
          // The database's clock decides expiry, so that every replica agrees on it.
          const inserted = await tx.query(
            `INSERT INTO ${T.events} (source, event_id, expires_at) VALUES ($1, $2, ${expirySql('$3')})
             ON CONFLICT (source, event_id) DO UPDATE SET expires_at = excluded.expires_at
             WHERE ${T.events}.expires_at <= now()`,
            [source, eventId, databaseTtl(ttlMs)],
          );
          // A bounded sweep that skips rows other replicas are sweeping: no waits, no deadlocks.
          await tx.query(
            `DELETE FROM ${T.events} WHERE ctid IN (
               SELECT ctid FROM ${T.events} WHERE expires_at <= now() LIMIT 100 FOR UPDATE SKIP LOCKED)`,
          );
          const fresh = inserted.rowCount === 1;
          if (fresh) tx.changed('event', `${source}/${eventId}`);
          return fresh;
        }),
      ),

    claimIdempotencyKey: ({ signal, key, fingerprint, claim, claimTtlMs }) =>
      run('claimIdempotencyKey', signal, (client) =>
        write(client, async (tx): Promise<IdempotencyClaim> => {
          // Takes a free or expired key, or locks the row that holds it until commit, so that the
          // read after it sees that row as it is: two replicas claiming at once get one claim.
          const taken = await tx.query(
            `INSERT INTO ${T.idempotency} (key, fingerprint, claim, answer, expires_at)
             VALUES ($1, $2, $3, NULL, ${expirySql('$4')})
             ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, claim = excluded.claim,
               answer = NULL, expires_at = excluded.expires_at
             WHERE ${T.idempotency}.expires_at <= now()`,
            [key, fingerprint, claim, databaseTtl(claimTtlMs)],
          );
          await tx.query(
            `DELETE FROM ${T.idempotency} WHERE ctid IN (
               SELECT ctid FROM ${T.idempotency} WHERE expires_at <= now() LIMIT 100 FOR UPDATE SKIP LOCKED)`,
          );
          if (taken.rowCount === 1) return { state: 'claimed' };
          const found = (
            await tx.query(`SELECT fingerprint, answer FROM ${T.idempotency} WHERE key = $1`, [key])
          ).rows[0] as { fingerprint: string; answer: IdempotentAnswer | null } | undefined;
          if (found?.answer) return { state: 'done', fingerprint: found.fingerprint, answer: found.answer };
          return { state: 'running', fingerprint: found?.fingerprint ?? fingerprint };
        }),
      ),

    finishIdempotencyKey: ({ signal, key, claim, answer, ttlMs }) =>
      run('finishIdempotencyKey', signal, (client) =>
        write(client, async (tx) => {
          if (answer)
            await tx.query(
              `UPDATE ${T.idempotency} SET answer = $3, expires_at = ${expirySql('$4')}
               WHERE key = $1 AND claim = $2 AND answer IS NULL`,
              [key, claim, JSON.stringify(answer), databaseTtl(ttlMs)],
            );
          else
            await tx.query(`DELETE FROM ${T.idempotency} WHERE key = $1 AND claim = $2 AND answer IS NULL`, [
              key,
              claim,
            ]);
        }),
      ),

    appendAudit: ({ signal, event }) =>
      run('appendAudit', signal, (client) => {
        const { seq: _seq, ...fields } = copy(event) as AuditEvent;
        return write(client, async (tx) => {
          const [row] = await rows<{ seq: number }>(
            tx,
            `INSERT INTO ${T.audit} (at, body) VALUES ($1, $2) RETURNING seq`,
            [fields.at, json(fields)],
          );
          const seq = row?.seq ?? 0;
          tx.changed('audit', String(seq));
          return { ...fields, seq };
        });
      }),

    listAudit: ({ signal, limit, before, actor, action } = {}) =>
      run('listAudit', signal, async (client) =>
        (
          await rows<{ seq: number; body: Omit<AuditEvent, 'seq'> }>(
            client,
            `SELECT seq, body FROM ${T.audit} WHERE ($2::bigint IS NULL OR seq < $2)
               AND ($3::text IS NULL OR body ->> 'actor' = $3) AND ($4::text IS NULL OR body ->> 'action' = $4)
             ORDER BY seq DESC LIMIT $1::bigint`,
            [sqlLimit(limit), before ?? null, actor ?? null, action ?? null],
          )
        ).map(auditOf),
      ),

    markRepository: ({ signal, registry, repository, tags }) =>
      run('markRepository', signal, (client) => {
        checkName('registry', registry);
        checkName('repository', repository);
        return write(client, async (tx): Promise<RepositoryMark> => {
          // The row lock serialises replicas marking the same repository.
          await tx.query(
            `INSERT INTO ${T.marks} (registry, repository, mark, tags, since, cleared)
             VALUES ($1, $2, 0, '[]', '', true) ON CONFLICT (registry, repository) DO NOTHING`,
            [registry, repository],
          );
          const [current] = await rows<{ mark: string; tags: string[]; since: string; cleared: boolean }>(
            tx,
            `SELECT mark, tags, since, cleared FROM ${T.marks} WHERE registry = $1 AND repository = $2 FOR UPDATE`,
            [registry, repository],
          );
          const open = current !== undefined && !current.cleared;
          const next: RepositoryMark = {
            registry,
            repository,
            tags: mergeMarkTags(open ? current.tags : [], tags),
            mark: Number(current?.mark ?? 0) + 1,
            since: open ? current.since : iso(Date.now()),
          };
          await tx.query(
            `UPDATE ${T.marks} SET mark = $3, tags = $4, since = $5, cleared = false
             WHERE registry = $1 AND repository = $2`,
            [registry, repository, next.mark, json(next.tags), next.since],
          );
          return next;
        });
      }),

    listRepositoryMarks: ({ signal } = {}) =>
      run('listRepositoryMarks', signal, async (client) =>
        (
          await rows<{ registry: string; repository: string; mark: string; tags: string[]; since: string }>(
            client,
            `SELECT registry, repository, mark, tags, since FROM ${T.marks} WHERE NOT cleared
             ORDER BY since, registry, repository`,
          )
        ).map(
          (row): RepositoryMark => ({
            registry: row.registry,
            repository: row.repository,
            tags: row.tags,
            mark: Number(row.mark),
            since: row.since,
          }),
        ),
      ),

    clearRepositoryMark: ({ signal, registry, repository, mark }) =>
      run('clearRepositoryMark', signal, async (client) => {
        const cleared = await client.query(
          `UPDATE ${T.marks} SET cleared = true, tags = '[]'
           WHERE registry = $1 AND repository = $2 AND mark = $3 AND NOT cleared`,
          [registry, repository, mark],
        );
        return cleared.rowCount === 1;
      }),

    appendFeed: ({ signal, events, keep }) =>
      run('appendFeed', signal, (client) =>
        write(client, async (tx): Promise<FeedEntry[]> => {
          if (events.length === 0) return [];
          // The counter's row lock is held until commit: appenders commit in the order of their numbers.
          const [counter] = await rows<{ seq: number }>(
            tx,
            `UPDATE ${T.feedSequence} SET seq = seq + $1 WHERE id = 1 RETURNING seq`,
            [events.length],
          );
          const newest = counter?.seq ?? 0;
          const first = newest - events.length + 1;
          await tx.query(
            `INSERT INTO ${T.feed} (seq, body)
             SELECT $1::bigint + entry.n - 1, entry.body FROM unnest($2::json[]) WITH ORDINALITY AS entry (body, n)`,
            [first, events.map((event) => json(event))],
          );
          await tx.query(`DELETE FROM ${T.feed} WHERE seq <= $1`, [newest - feedKeepOf(keep)]);
          tx.changed('feed', String(newest));
          return events.map((event, index) => ({ seq: first + index, event: copy(event) }));
        }),
      ),

    readFeed: ({ signal, after, limit, newest } = {}) =>
      run('readFeed', signal, async (client) => {
        const count = sqlLimit(limit ?? defaultFeedReadLimit);
        const found = newest
          ? await rows<FeedEntry & { body: FeedEntry['event'] }>(
              client,
              `SELECT seq, body FROM (SELECT seq, body FROM ${T.feed} ORDER BY seq DESC LIMIT $1::bigint) AS last
               ORDER BY seq`,
              [count],
            )
          : await rows<FeedEntry & { body: FeedEntry['event'] }>(
              client,
              `SELECT seq, body FROM ${T.feed} WHERE seq > $1 ORDER BY seq LIMIT $2::bigint`,
              [after ?? 0, count],
            );
        return found.map((row): FeedEntry => ({ seq: row.seq, event: row.body }));
      }),

    acquireLease: ({ signal, name, holder, ttlMs }) =>
      run('acquireLease', signal, async (client): Promise<Lease | undefined> => {
        // Taken before the statement, whose now() is later: this expiry never passes the database's.
        const started = Date.now();
        // One statement, so one transaction: the row lock of ON CONFLICT serialises racing replicas,
        // and the database's clock alone decides whether the current lease has expired.
        const taken = await client.query(
          `WITH taken AS (
             INSERT INTO ${T.leases} (name, holder, expires_at) VALUES ($1, $2, ${expirySql('$3')})
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
             WHERE ${T.leases}.expires_at <= now() OR ${T.leases}.holder = excluded.holder
             RETURNING holder)
           SELECT pg_notify($4, $5) FROM taken`,
          [name, holder, databaseTtl(ttlMs), changeChannel, changePayload(schema, 'lease', name)],
        );
        if (taken.rowCount === 0) return undefined;
        return { name, holder, expiresAt: iso(expiryOf(started, ttlMs) - options.leaseMarginMs) };
      }),

    releaseLease: ({ signal, name, holder }) =>
      run('releaseLease', signal, async (client) => {
        await client.query(
          `WITH released AS (DELETE FROM ${T.leases} WHERE name = $1 AND holder = $2 RETURNING name)
           SELECT pg_notify($3, $4) FROM released`,
          [name, holder, changeChannel, changePayload(schema, 'lease', name)],
        );
      }),

    exportJson: ({ signal } = {}) =>
      run('exportJson', signal, (client) =>
        read(client, async (): Promise<StoreBackup> => {
          const stages = (
            await rows<StageRow>(
              client,
              `SELECT ${stageColumns} FROM ${T.stages} ORDER BY project COLLATE "C", stage COLLATE "C"`,
            )
          ).map(toStage);
          const deployRows = await rows<DeployRow>(
            client,
            `SELECT ${deployColumns} FROM ${T.deploys} ORDER BY pos`,
          );
          const journals = new Map<number, JournalEntry[]>();
          for (const row of await rows<JournalRow>(
            client,
            `SELECT ${journalColumns} FROM ${T.journal} ORDER BY deploy, seq`,
          )) {
            const entries = journals.get(row.deploy) ?? [];
            entries.push(toJournalEntry(row));
            journals.set(row.deploy, entries);
          }
          const logs = new Map<string, LogLine[]>();
          for (const { deploy_id, seq, at, level, line } of await rows<LogLine & { deploy_id: string }>(
            client,
            `SELECT stream.deploy_id, line.seq, line.at, line.level, line.line
             FROM ${T.lines} AS line JOIN ${T.streams} AS stream ON stream.id = line.stream
             ORDER BY stream.id, line.seq`,
          )) {
            const lines = logs.get(deploy_id) ?? [];
            lines.push({ seq, at, level, line });
            logs.set(deploy_id, lines);
          }
          const approvals = (
            await rows<{ body: Approval }>(client, `SELECT body FROM ${T.approvals} ORDER BY pos`)
          ).map((row) => row.body);
          const audit = (
            await rows<{ seq: number; body: Omit<AuditEvent, 'seq'> }>(
              client,
              `SELECT seq, body FROM ${T.audit} ORDER BY seq`,
            )
          ).map(auditOf);
          const secrets = (
            await rows<SecretRow>(
              client,
              `SELECT ${secretColumns} FROM ${T.secrets} ORDER BY name COLLATE "C"`,
            )
          ).map(
            (row): BackupSecret => ({
              name: row.name,
              keyId: row.key_id,
              iv: row.iv.toString('base64'),
              tag: row.tag.toString('base64'),
              ciphertext: row.ciphertext.toString('base64'),
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

    importJson: ({ signal, data }) => {
      let backup: StoreBackup;
      return run(
        'importJson',
        signal,
        (client) =>
          write(client, async (tx): Promise<StoreBackupCounts> => {
            // Other replicas may read meanwhile, but not write: the emptiness checked below holds until commit.
            const imported = [
              T.stages,
              T.deploys,
              T.journal,
              T.streams,
              T.lines,
              T.approvals,
              T.audit,
              T.secrets,
            ];
            await tx.query(`LOCK TABLE ${imported.join(', ')} IN EXCLUSIVE MODE`);
            const [count] = await rows<{ count: number }>(
              tx,
              `SELECT (SELECT count(*) FROM ${T.stages}) + (SELECT count(*) FROM ${T.deploys})
                 + (SELECT count(*) FROM ${T.lines}) + (SELECT count(*) FROM ${T.approvals})
                 + (SELECT count(*) FROM ${T.audit}) + (SELECT count(*) FROM ${T.secrets}) AS count`,
            );
            if ((count?.count ?? 0) > 0) {
              throw new CoreError(
                'CONFLICT',
                `PostgreSQL store ${target} (schema ${schema}) has data already: a backup is imported into an empty store only`,
                { details: { target, schema } },
              );
            }
            for (const batch of batches(backup.stages)) {
              await tx.query(
                `INSERT INTO ${T.stages} (${stageColumns})
                 SELECT r.project, r.stage, r.revision, r.body, r.updated_at
                 FROM json_to_recordset($1::json) AS r (project text, stage text, revision integer, body json, updated_at text)`,
                [
                  json(
                    batch.map((stage) => ({
                      ...stage,
                      body: stageBody(stage, options.historyLimit),
                      updated_at: stage.updatedAt,
                    })),
                  ),
                ],
              );
            }
            for (const batch of batches(backup.deploys)) {
              // Inserted in backup order, so that positions keep the order of creation.
              await tx.query(
                `INSERT INTO ${T.deploys} (id, project, stage, revision, state, finished, body, created_at, updated_at)
                 SELECT r.id, r.project, r.stage, r.revision, r.state, r.finished, r.body, r.created_at, r.updated_at
                 FROM json_to_recordset($1::json) AS r (id text, project text, stage text,
                   revision integer, state text, finished boolean, body json, created_at text, updated_at text, n bigint)
                 ORDER BY r.n`,
                [
                  json(
                    batch.map((deploy, n) => ({
                      ...deploy,
                      n,
                      body: deployBody(deploy),
                      created_at: deploy.createdAt,
                      updated_at: deploy.updatedAt,
                    })),
                  ),
                ],
              );
              await tx.query(
                `INSERT INTO ${T.journal} (${journalColumns})
                 SELECT deploy.pos, r.seq, r.state, r.at, r.note
                 FROM json_to_recordset($1::json) AS r (deploy_id text, seq integer, state text, at text, note text)
                 JOIN ${T.deploys} AS deploy ON deploy.id = r.deploy_id`,
                [
                  json(
                    batch.flatMap((deploy) =>
                      deploy.journal.map((entry) => ({ ...entry, deploy_id: deploy.id })),
                    ),
                  ),
                ],
              );
            }
            let logLines = 0;
            for (const { deployId, lines } of backup.logs) {
              const [stream] = await rows<{ id: number }>(
                tx,
                `INSERT INTO ${T.streams} (deploy_id) VALUES ($1) RETURNING id`,
                [deployId],
              );
              for (const batch of batches(lines)) {
                await tx.query(
                  `INSERT INTO ${T.lines} (stream, seq, at, level, line)
                   SELECT $1, r.seq, r.at, r.level, r.line
                   FROM json_to_recordset($2::json) AS r (seq integer, at text, level text, line text)`,
                  [stream?.id, json(batch)],
                );
              }
              logLines += lines.length;
            }
            for (const batch of batches(backup.approvals)) {
              await tx.query(
                `INSERT INTO ${T.approvals} (id, project, stage, status, body)
                 SELECT r.id, r.project, r.stage, r.status, r.body
                 FROM json_to_recordset($1::json) AS r (id text, project text, stage text,
                   status text, body json, n bigint)
                 ORDER BY r.n`,
                [json(batch.map((approval, n) => ({ ...approval, n, body: approval })))],
              );
            }
            for (const batch of batches(backup.audit)) {
              await tx.query(
                `INSERT INTO ${T.audit} (seq, at, body)
                 SELECT r.seq, r.at, r.body FROM json_to_recordset($1::json) AS r (seq bigint, at text, body json)`,
                [json(batch.map(({ seq, ...fields }) => ({ seq, at: fields.at, body: fields })))],
              );
            }
            // Numbering goes on where the backup ended.
            await tx.query(
              `SELECT setval(pg_get_serial_sequence($1, 'seq'), max(seq)) FROM ${T.audit} HAVING count(*) > 0`,
              [T.audit],
            );
            for (const batch of batches(backup.secrets)) {
              await tx.query(
                `INSERT INTO ${T.secrets} (${secretColumns})
                 SELECT r.name, r.key_id, decode(r.iv, 'base64'), decode(r.tag, 'base64'),
                        decode(r.ciphertext, 'base64'), r.updated_at
                 FROM json_to_recordset($1::json) AS r (name text, key_id text, iv text, tag text,
                   ciphertext text, updated_at text)`,
                [
                  json(
                    batch.map((secret) => ({
                      ...secret,
                      key_id: secret.keyId,
                      updated_at: secret.updatedAt,
                    })),
                  ),
                ],
              );
            }
            tx.changed('import', '');
            logger.info('PostgreSQL store imported a backup', {
              target,
              schema,
              exportedAt: backup.exportedAt,
            });
            return {
              stages: backup.stages.length,
              deploys: backup.deploys.length,
              logLines,
              approvals: backup.approvals.length,
              audit: backup.audit.length,
              secrets: backup.secrets.length,
            };
          }),
        () => {
          backup = parseBackup(data);
        },
      );
    },

    putSecret: ({ signal, name, value }) => {
      let sealed: ReturnType<typeof sealSecret>;
      return run(
        'putSecret',
        signal,
        (client) =>
          write(client, async (tx) => {
            await putSecretRow(tx, name, sealed, iso(Date.now()));
            tx.changed('secret', name);
          }),
        () => {
          checkName('Secret name', name);
          if (typeof value !== 'string')
            throw new CoreError('BAD_REQUEST', `The value of secret "${name}" must be a string`);
          sealed = sealSecret(keyring, name, value);
        },
      );
    },

    getSecret: ({ signal, name }) =>
      run(
        'getSecret',
        signal,
        async (client) => {
          const [row] = await rows<SecretRow>(
            client,
            `SELECT ${secretColumns} FROM ${T.secrets} WHERE name = $1`,
            [name],
          );
          return row ? openSecret(keyring, name, sealedOf(row)) : undefined;
        },
        () => checkName('Secret name', name),
      ),

    deleteSecret: ({ signal, name }) =>
      run(
        'deleteSecret',
        signal,
        (client) =>
          write(client, async (tx) => {
            const deleted = await tx.query(`DELETE FROM ${T.secrets} WHERE name = $1`, [name]);
            if (deleted.rowCount === 0) return false;
            tx.changed('secret', name);
            return true;
          }),
        () => checkName('Secret name', name),
      ),

    listSecretNames: ({ signal } = {}) =>
      run('listSecretNames', signal, async (client) =>
        (await rows<{ name: string }>(client, `SELECT name FROM ${T.secrets} ORDER BY name COLLATE "C"`)).map(
          (row) => row.name,
        ),
      ),

    rotateSecrets: ({ signal } = {}) => {
      const keyId = keyring.currentId;
      return run(
        'rotateSecrets',
        signal,
        async (client) => {
          const result = await write(client, async (tx) => {
            const stored = await rows<SecretRow>(
              tx,
              `SELECT ${secretColumns} FROM ${T.secrets} ORDER BY name FOR UPDATE`,
            );
            const stale = stored.filter((row) => row.key_id !== keyId);
            const at = iso(Date.now());
            // Every stale secret is opened before any is rewritten: an unknown key changes nothing.
            const resealed = stale.map((row) => ({
              name: row.name,
              sealed: sealSecret(keyring, row.name, openSecret(keyring, row.name, sealedOf(row))),
            }));
            for (const { name, sealed } of resealed) {
              await putSecretRow(tx, name, sealed, at);
              tx.changed('secret', name);
            }
            return { rotated: stale.length, total: stored.length, keyId: keyId as string };
          });
          logger.info('PostgreSQL store re-encrypted secrets', { target, schema, ...result });
          return result;
        },
        () => {
          if (keyId === undefined)
            throw new CoreError('CONFIG_INVALID', 'Rotating secrets needs the encryptionKey option');
        },
      );
    },

    dispose: lifecycle.dispose,
  };
}

export const postgresStateStore = defineStateStore({
  name: 'postgres',
  options: postgresStateStoreOptions,
  secrets: postgresStateStoreSecrets,
  create: buildPostgresStateStore,
});

/**
 * The engine's memory in PostgreSQL, for several server replicas on one database: compare-and-set
 * stages and deploys, journals, logs, approvals, webhook replay protection, audit, leases on the
 * database's clock, a LISTEN/NOTIFY change feed, JSON backups and secrets encrypted at rest.
 * Creating it connects and migrates in the background; the first call waits for that.
 */
export function createPostgresStateStore(
  options: PostgresStateStoreOptions,
  context: AdapterContext = {},
): PostgresStateStore {
  return instantiate(postgresStateStore, options, context);
}
