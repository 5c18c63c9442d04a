// A schema written at version 1 (by migration 1 alone, with rows in every table) is migrated on
// open to the latest version and every row survives; a failing migration changes nothing; replicas
// opening together migrate once; schemas the store does not know are refused and left alone.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { latestSchemaVersion, migrate, migrations } from '../src/_migrations.ts';
import {
  v1AppliedAt,
  v1Approvals,
  v1Audit,
  v1Deploys,
  v1Logs,
  v1Stages,
  writeV1Rows,
} from './fixtures/schema-v1-data.ts';
import { livePostgres, rejection } from './live-postgres.ts';

const live = livePostgres();

/** A client of its own, for migrate() (which needs one connection for its transaction). */
async function withClient<T>(effect: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: live.server.url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await effect(client);
  } finally {
    await client.end();
  }
}

async function v1Schema(): Promise<string> {
  const schema = live.schema();
  await withClient(async (client) => {
    expect(await migrate(client, { schema, target: 1, now: () => new Date(v1AppliedAt) })).toEqual({
      from: 0,
      to: 1,
      applied: ['1-initial'],
    });
    await writeV1Rows(client, schema);
  });
  return schema;
}

async function counts(schema: string): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const table of [
    'stages',
    'deploys',
    'log_streams',
    'log_lines',
    'approvals',
    'seen_events',
    'audit',
    'leases',
  ]) {
    const [row] = await live.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM "${schema}".${table}`,
    );
    result[table] = row?.count ?? -1;
  }
  return result;
}

const tablesOf = async (schema: string) =>
  (
    await live.query<{ name: string }>(
      'SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 ORDER BY 1',
      [schema],
    )
  ).map((row) => row.name);

describe('migrations', () => {
  it('are numbered 1, 2, 3… without gaps, with kebab-case names', () => {
    migrations.forEach((migration, index) => {
      expect(migration.version).toBe(index + 1);
      expect(migration.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    });
    expect(latestSchemaVersion).toBe(migrations.length);
  });

  it('take a schema at version 1 to the latest on open and keep every row', async () => {
    const schema = await v1Schema();
    const before = await counts(schema);
    expect(before).toEqual({
      stages: 2,
      deploys: 3,
      log_streams: 2,
      log_lines: 3,
      approvals: 2,
      seen_events: 1,
      audit: 2,
      leases: 1,
    });
    const store = live.store({ schema });
    expect(await store.open()).toEqual({
      schemaVersion: latestSchemaVersion,
      migrationsApplied: [
        '2-deploy-journal-table-and-list-indexes',
        '3-encrypted-secrets',
        '4-repository-marks',
        '5-event-feed-and-listing-indexes',
        '6-idempotency-keys',
      ],
    });

    for (const { body, ...stage } of v1Stages) {
      expect(await store.getStage({ project: stage.project, stage: stage.stage })).toEqual({
        ...stage,
        ...body,
      });
    }
    for (const { body, ...deploy } of v1Deploys) {
      const read = await store.getDeploy({ id: deploy.id });
      expect(read).toEqual({ ...deploy, ...body });
      // The free-form fields keep their order through the migration's rewrite of the body.
      expect(Object.keys(read?.data ?? {})).toEqual(['candidate', 'zebra', 'apple']);
    }
    expect((await store.listDeploys()).map((deploy) => deploy.id)).toEqual(['d-3', 'd-2', 'd-1']);
    expect((await store.listDeploys({ unfinished: true })).map((deploy) => deploy.id)).toEqual(['d-3']);
    for (const { deployId, lines } of v1Logs) expect(await store.readLog({ deployId })).toEqual(lines);
    expect(await store.listApprovals()).toEqual(v1Approvals);
    expect(await store.listAudit()).toEqual([...v1Audit].reverse());
    expect(await store.rememberEvent({ source: 'registry:gitea', eventId: 'evt-1', ttlMs: 60_000 })).toBe(
      false,
    );
    expect(await store.acquireLease({ name: 'engine', holder: 'server-b', ttlMs: 60_000 })).toBeUndefined();

    // The migrated store goes on where the old one stopped.
    const next = await store.updateDeploy({
      id: 'd-3',
      expectedRevision: 2,
      update: { state: 'starting', note: 'after migration' },
    });
    expect(next.journal.map((entry) => entry.seq)).toEqual([1, 2, 3]);
    expect(
      (await store.appendAudit({ event: { at: '2026-02-01T00:00:00.000Z', actor: 'c', action: 'x' } })).seq,
    ).toBe(3);
    await store.appendLog({
      deployId: 'd-1',
      lines: [{ at: '2026-02-01T00:00:00.000Z', level: 'info', line: 'more' }],
    });
    expect((await store.readLog({ deployId: 'd-1', after: 2 }))[0]?.seq).toBe(3);

    const applied = await live.query<{ version: number; applied_at: string }>(
      `SELECT version, applied_at FROM "${schema}".schema_migrations ORDER BY version`,
    );
    expect(applied.map((row) => row.version)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(applied[0]?.applied_at).toBe(v1AppliedAt);
    const [journal] = await live.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM "${schema}".deploy_journal`,
    );
    expect(journal?.count).toBe(v1Deploys.reduce((sum, deploy) => sum + deploy.body.journal.length, 0) + 1);
    expect(
      await live.query(`SELECT id FROM "${schema}".deploys WHERE (body -> 'journal') IS NOT NULL`),
    ).toEqual([]);
    expect(await counts(schema)).toEqual({ ...before, audit: 3, log_lines: 4 });
  });

  it('change nothing when one fails half-way', async () => {
    const schema = await v1Schema();
    // A journal entry without a state cannot become a deploy_journal row (state is NOT NULL).
    await live.query(
      `UPDATE "${schema}".deploys SET body = jsonb_set(body::jsonb, '{journal,1,state}', 'null')::json WHERE id = 'd-2'`,
    );
    const bodies = await live.query(`SELECT id, body::text FROM "${schema}".deploys ORDER BY pos`);
    const before = await counts(schema);

    const store = live.store({ schema });
    const error = await rejection(store.open());
    expect(error).toMatchObject({
      code: 'INTERNAL',
      retryable: false,
      details: { migration: '2-deploy-journal-table-and-list-indexes', sqlState: '23502' },
    });
    expect(error.message).toMatch(
      /migration 2-deploy-journal-table-and-list-indexes failed: null value in column "state"/,
    );
    // Every call reports the same, and nothing is written.
    expect(await rejection(store.listStages())).toMatchObject({ code: 'INTERNAL' });

    expect(await live.query(`SELECT max(version) AS version FROM "${schema}".schema_migrations`)).toEqual([
      { version: 1 },
    ]);
    expect(await live.query(`SELECT id, body::text FROM "${schema}".deploys ORDER BY pos`)).toEqual(bodies);
    expect(await tablesOf(schema)).not.toContain('deploy_journal');
    expect(await tablesOf(schema)).not.toContain('secrets');
    expect(await counts(schema)).toEqual(before);
  });

  it('run once when replicas open a new schema together', async () => {
    const schema = live.schema();
    const stores = Array.from({ length: 5 }, () => live.store({ schema }));
    const opened = await Promise.all(stores.map((store) => store.open()));
    expect(opened.filter((status) => status.migrationsApplied.length > 0)).toHaveLength(1);
    for (const status of opened) expect(status.schemaVersion).toBe(latestSchemaVersion);
    expect(await live.query(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`)).toEqual([
      { version: 1 },
      { version: 2 },
      { version: 3 },
      { version: 4 },
      { version: 5 },
      { version: 6 },
    ]);
  });

  it('refuse a schema from a newer version and leave it as it is', async () => {
    const schema = live.schema();
    await live.store({ schema }).open();
    await live.query(`INSERT INTO "${schema}".schema_migrations VALUES (99, 'from-the-future', now()::text)`);
    const error = await rejection(live.store({ schema }).listStages());
    expect(error).toMatchObject({
      code: 'CONFIG_INVALID',
      details: { schema, schemaVersion: 99, knownVersion: latestSchemaVersion },
    });
    expect(error.message).toMatch(/version 99, written by a newer @docker-watcher\/store-postgres/);
    expect(await live.query(`SELECT max(version) AS version FROM "${schema}".schema_migrations`)).toEqual([
      { version: 99 },
    ]);
  });

  it('refuse a schema holding tables of something else and leave it as it is', async () => {
    const schema = live.schema();
    await live.query(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".notes (text text)`);
    const error = await rejection(live.store({ schema }).open());
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', details: { schema } });
    expect(error.message).toMatch(/holds tables of something else/);
    expect(await tablesOf(schema)).toEqual(['notes']);
  });

  it('stop at a target version and continue from it later', async () => {
    const schema = live.schema();
    await withClient(async (client) => {
      await migrate(client, { schema, target: 2 });
      expect(await tablesOf(schema)).not.toContain('secrets');
      expect(await migrate(client, { schema })).toMatchObject({
        from: 2,
        to: 6,
        applied: [
          '3-encrypted-secrets',
          '4-repository-marks',
          '5-event-feed-and-listing-indexes',
          '6-idempotency-keys',
        ],
      });
      expect(await migrate(client, { schema })).toEqual({ from: 6, to: 6, applied: [] });
    });
  });
});
