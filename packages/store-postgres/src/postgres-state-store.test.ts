import { createMemoryLogger, isCoreError, type LogLine } from '@docker-watcher/core';
import { populateBackupFixture, withoutExportTime } from '@docker-watcher/core/testing';
import { createSqliteStateStore } from '@docker-watcher/store-sqlite';
import { describe, expect, it } from 'vitest';
import { digest, keys, livePostgres, rejection } from '../test/live-postgres.ts';
import type { PostgresStateStore } from './postgres-state-store.ts';

const live = livePostgres();
const release = (tag: string, char: string) => ({ tag, digest: digest(char) });

/** Every text the schema's tables hold, bytea included, to look for plaintext. */
async function dumpOf(schema: string): Promise<string> {
  const tables = await live.query<{ name: string }>(
    'SELECT tablename AS name FROM pg_tables WHERE schemaname = $1',
    [schema],
  );
  let dump = '';
  for (const { name } of tables) {
    for (const row of await live.query(`SELECT * FROM "${schema}"."${name}"`)) {
      for (const value of Object.values(row))
        dump += Buffer.isBuffer(value) ? value.toString('latin1') : JSON.stringify(value);
    }
  }
  return dump;
}

describe('createPostgresStateStore', () => {
  it('opens and migrates a new schema, with an id naming the instance and a target without the password', async () => {
    const logger = createMemoryLogger();
    const schema = live.schema();
    await live.query("CREATE ROLE owner LOGIN PASSWORD 'owner-pw' SUPERUSER");
    const url = `postgres://owner:owner-pw@127.0.0.1:${live.server.port}/postgres?application_name=mine`;
    const store = live.store({ url, schema }, { instance: 'main', logger });
    expect(store.id).toBe('store:postgres/main');
    expect(store.target).toBe(`postgres://owner@127.0.0.1:${live.server.port}/postgres`);
    expect(store.schema).toBe(schema);
    expect(store.capabilities).toEqual({ sharedLeases: true, durable: true });
    expect(await store.open()).toEqual({
      schemaVersion: 6,
      migrationsApplied: [
        '1-initial',
        '2-deploy-journal-table-and-list-indexes',
        '3-encrypted-secrets',
        '4-repository-marks',
        '5-event-feed-and-listing-indexes',
        '6-idempotency-keys',
      ],
    });
    const tables = await live.query<{ name: string }>(
      'SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 ORDER BY 1',
      [schema],
    );
    expect(tables.map((table) => table.name)).toEqual([
      'approvals',
      'audit',
      'deploy_journal',
      'deploys',
      'feed',
      'feed_sequence',
      'idempotency_keys',
      'leases',
      'log_lines',
      'log_streams',
      'repository_marks',
      'schema_migrations',
      'secrets',
      'seen_events',
      'stages',
    ]);
    expect(logger.entries.find((entry) => entry.message === 'PostgreSQL store opened')?.fields).toMatchObject(
      {
        adapter: 'store:postgres/main',
        schema,
        schemaVersion: 6,
      },
    );
    expect(JSON.stringify(logger.entries)).not.toContain('owner-pw');
  });

  it('refuses calls after dispose with a non-retryable UNAVAILABLE', async () => {
    const store = live.store();
    await store.dispose();
    expect(await rejection(store.listStages())).toMatchObject({ code: 'UNAVAILABLE', retryable: false });
    expect(await rejection(store.open())).toMatchObject({ code: 'UNAVAILABLE', retryable: false });
    expect(() => store.onChange(() => undefined)).toThrow(expect.objectContaining({ code: 'UNAVAILABLE' }));
  });

  it('rejects a bad expectedRevision with BAD_REQUEST and writes nothing', async () => {
    const store = live.store();
    const state = { project: 'p', stage: 'dev', autoDeploy: true, history: [] };
    expect(await rejection(store.putStage({ state, expectedRevision: -1 }))).toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect(await rejection(store.putStage({ state, expectedRevision: 1.5 }))).toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect(await store.listStages()).toEqual([]);
  });

  it('keeps the stored revision and body when a compare-and-set loses to another replica', async () => {
    const store = live.store();
    const other = live.store({ schema: store.schema });
    const state = { project: 'p', stage: 'dev', autoDeploy: true, history: [] };
    await store.putStage({ state, expectedRevision: 0 });
    const winner = await other.putStage({ state: { ...state, pin: 'v2' }, expectedRevision: 1 });
    const error = await rejection(
      store.putStage({ state: { ...state, autoDeploy: false }, expectedRevision: 1 }),
    );
    expect(error).toMatchObject({ code: 'CONFLICT', details: { expectedRevision: 1, actualRevision: 2 } });
    expect(await store.getStage({ project: 'p', stage: 'dev' })).toEqual(winner);
  });

  it('lets exactly one of many racing writers win each revision', async () => {
    const replicas = [live.store(), live.store(), live.store()];
    const schema = replicas[0]?.schema as string;
    const stores = [replicas[0], live.store({ schema }), live.store({ schema })] as PostgresStateStore[];
    await Promise.all(replicas.slice(1).map((replica) => replica.dispose()));
    const state = { project: 'p', stage: 'dev', autoDeploy: true, history: [] };
    await stores[0]?.putStage({ state, expectedRevision: 0 });
    for (let revision = 1; revision <= 5; revision++) {
      const outcomes = await Promise.allSettled(
        stores.flatMap((store, index) =>
          [0, 1].map((n) =>
            store.putStage({ state: { ...state, pin: `${index}-${n}` }, expectedRevision: revision }),
          ),
        ),
      );
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'CONFLICT' });
      }
    }
    expect((await stores[1]?.getStage({ project: 'p', stage: 'dev' }))?.revision).toBe(6);
  });

  it('numbers log lines without gaps or duplicates while replicas append at once', async () => {
    const store = live.store();
    const other = live.store({ schema: store.schema });
    const at = new Date().toISOString();
    await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        (n % 2 === 0 ? store : other).appendLog({
          deployId: 'd-1',
          lines: [
            { at, level: 'info', line: `${n}-a` },
            { at, level: 'info', line: `${n}-b` },
          ],
        }),
      ),
    );
    const lines = await store.readLog({ deployId: 'd-1' });
    expect(lines.map((line) => line.seq)).toEqual(Array.from({ length: 40 }, (_, n) => n + 1));
    // The two lines of one call stay together.
    for (let index = 0; index < 40; index += 2)
      expect(lines[index + 1]?.line).toBe(lines[index]?.line.replace('-a', '-b'));
    expect((await store.readLog({ deployId: 'd-1', after: 38.5 })).map((line) => line.seq)).toEqual([39, 40]);
    expect(await store.readLog({ deployId: 'd-1', after: Number.NaN })).toEqual([]);
    expect(await store.readLog({ deployId: 'd-1', after: Number.POSITIVE_INFINITY })).toEqual([]);
    expect(await store.readLog({ deployId: 'd-1', after: Number.NEGATIVE_INFINITY, limit: 1 })).toHaveLength(
      1,
    );
  });

  it('takes fractional and unbounded ttls like the in-memory store', async () => {
    const store = live.store();
    expect(await store.rememberEvent({ source: 's', eventId: 'a', ttlMs: 1_000.5 })).toBe(true);
    expect(await store.rememberEvent({ source: 's', eventId: 'b', ttlMs: Number.POSITIVE_INFINITY })).toBe(
      true,
    );
    expect(await store.rememberEvent({ source: 's', eventId: 'b', ttlMs: 1 })).toBe(false);
    expect(await store.rememberEvent({ source: 's', eventId: 'c', ttlMs: Number.NaN })).toBe(true);
    expect(await store.rememberEvent({ source: 's', eventId: 'c', ttlMs: 1e300 })).toBe(true);
    const lease = await store.acquireLease({ name: 'l', holder: 'a', ttlMs: Number.POSITIVE_INFINITY });
    expect(lease?.expiresAt).toBe(new Date(8.64e15).toISOString());
    expect(await store.acquireLease({ name: 'l', holder: 'b', ttlMs: 1 })).toBeUndefined();
    expect(await store.acquireLease({ name: 'm', holder: 'a', ttlMs: 0.25 })).toMatchObject({ holder: 'a' });
    expect(await store.acquireLease({ name: 'n', holder: 'a', ttlMs: -5 })).toMatchObject({ holder: 'a' });
    expect(await store.acquireLease({ name: 'n', holder: 'b', ttlMs: 1_000 })).toMatchObject({ holder: 'b' });
  });

  it('rejects a missing value or a NUL character with BAD_REQUEST and writes nothing', async () => {
    const store = live.store();
    const line = { at: new Date().toISOString(), level: 'info', line: null } as unknown as LogLine;
    expect(await rejection(store.appendLog({ deployId: 'd', lines: [line] }))).toMatchObject({
      code: 'BAD_REQUEST',
      details: { sqlState: '23502' },
    });
    const nul = { at: new Date().toISOString(), level: 'info' as const, line: 'a\u0000b' };
    expect(await rejection(store.appendLog({ deployId: 'd', lines: [nul] }))).toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect(await store.readLog({ deployId: 'd' })).toEqual([]);
  });

  it('lists deploys with filters combined, like the in-memory store', async () => {
    const store = live.store({ encryptionKey: keys.first });
    await populateBackupFixture(store);
    const ids = (list: ReadonlyArray<{ id: string }>) => list.map((deploy) => deploy.id);
    expect(ids(await store.listDeploys())).toEqual(['d-3', 'd-2', 'd-1']);
    expect(ids(await store.listDeploys({ unfinished: true }))).toEqual(['d-3']);
    expect(ids(await store.listDeploys({ before: 'd-3', unfinished: true }))).toEqual([]);
    expect(ids(await store.listDeploys({ before: 'missing' }))).toEqual([]);
    expect(ids(await store.listDeploys({ limit: 0 }))).toEqual([]);
    expect(ids(await store.listDeploys({ limit: -3 }))).toEqual([]);
    expect(ids(await store.listDeploys({ limit: 1.7 }))).toEqual(['d-3']);
    expect(ids(await store.listDeploys({ stage: 'dev', limit: Number.POSITIVE_INFINITY }))).toEqual([
      'd-3',
      'd-2',
      'd-1',
    ]);
    const [newest] = await store.listDeploys({ limit: 1 });
    expect(newest?.journal.map((entry) => entry.state)).toEqual(['pending', 'pulling']);
    expect(newest?.journal[1]?.note).toBe('pull');
    expect(await store.listApprovals({ project: 'web-app', stage: 'prod', status: 'pending' })).toHaveLength(
      1,
    );
    expect(await store.listApprovals({ project: 'web-app', stage: 'prod' })).toHaveLength(2);
    expect(await store.listApprovals()).toHaveLength(2);
  });

  it('keeps the key order of free-form fields', async () => {
    const store = live.store();
    const created = await store.createDeploy({
      deploy: {
        id: 'd',
        project: 'p',
        stage: 'dev',
        release: release('v1', 'a'),
        trigger: 'auto',
        state: 'pending',
        data: { zebra: 1, apple: 2, mango: { b: 1, a: 2 } },
      },
    });
    const read = await store.getDeploy({ id: 'd' });
    expect(JSON.stringify(read?.data)).toBe(JSON.stringify(created.data));
  });
});

describe('secrets', () => {
  it('stores values encrypted: no plaintext in any table', async () => {
    const store = live.store({ encryptionKey: keys.first });
    await store.putSecret({ name: 'npm-password', value: 'plain-text-password-123' });
    await store.putSecret({ name: 'gitea-token', value: 'token-456' });
    expect(await store.getSecret({ name: 'npm-password' })).toBe('plain-text-password-123');
    expect(await store.getSecret({ name: 'missing' })).toBeUndefined();
    expect(await store.listSecretNames()).toEqual(['gitea-token', 'npm-password']);
    const dump = await dumpOf(store.schema);
    expect(dump).toContain('npm-password');
    expect(dump).not.toContain('plain-text-password-123');
    await store.putSecret({ name: 'gitea-token', value: 'token-789' });
    expect(await store.getSecret({ name: 'gitea-token' })).toBe('token-789');
    expect(await store.deleteSecret({ name: 'gitea-token' })).toBe(true);
    expect(await store.deleteSecret({ name: 'gitea-token' })).toBe(false);
    expect(await store.listSecretNames()).toEqual(['npm-password']);
  });

  it('needs encryptionKey to store a secret', async () => {
    const store = live.store();
    expect(await rejection(store.putSecret({ name: 'x', value: 'y' }))).toMatchObject({
      code: 'CONFIG_INVALID',
    });
    expect(await rejection(store.rotateSecrets())).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(await rejection(store.putSecret({ name: '', value: 'y' }))).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('fails a read with the wrong key clearly, and destroys nothing', async () => {
    const right = live.store({ encryptionKey: keys.first });
    const { schema } = right;
    await right.putSecret({ name: 'npm-password', value: 'kept-value' });
    await right.dispose();

    const logger = createMemoryLogger();
    const wrong = live.store({ schema, encryptionKey: keys.second }, { logger });
    await wrong.open();
    expect(logger.entries.find((entry) => entry.level === 'warn')?.message).toMatch(
      /keys that are not configured/,
    );
    const error = await rejection(wrong.getSecret({ name: 'npm-password' }));
    expect(isCoreError(error, 'CONFIG_INVALID')).toBe(true);
    expect(error.message).toMatch(
      /npm-password.*encrypted with key k-[0-9a-f]{16}, which is neither encryptionKey nor one of previousKeys/,
    );
    expect(error.retryable).toBe(false);
    for (const secret of ['kept-value', keys.first, keys.second])
      expect(`${error.message}${JSON.stringify(error)}`).not.toContain(secret);
    expect(await rejection(wrong.rotateSecrets())).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(await wrong.listSecretNames()).toEqual(['npm-password']);

    const again = live.store({ schema, encryptionKey: keys.first });
    expect(await again.getSecret({ name: 'npm-password' })).toBe('kept-value');
  });

  it('rotates: previousKeys keep old secrets readable, rotateSecrets re-encrypts them under the new key', async () => {
    const first = live.store({ encryptionKey: keys.first });
    const { schema } = first;
    await first.putSecret({ name: 'a', value: 'value a' });
    await first.putSecret({ name: 'b', value: 'value b' });

    const during = live.store({ schema, encryptionKey: keys.second, previousKeys: [keys.first] });
    expect(await during.getSecret({ name: 'a' })).toBe('value a');
    await during.putSecret({ name: 'c', value: 'value c' });
    const result = await during.rotateSecrets();
    expect(result).toMatchObject({ rotated: 2, total: 3 });
    expect(result.keyId).toMatch(/^k-/);
    expect(await during.rotateSecrets()).toMatchObject({ rotated: 0, total: 3 });

    const after = live.store({ schema, encryptionKey: keys.second });
    expect(await Promise.all(['a', 'b', 'c'].map((name) => after.getSecret({ name })))).toEqual([
      'value a',
      'value b',
      'value c',
    ]);
    expect(await live.query(`SELECT DISTINCT key_id FROM "${schema}".secrets`)).toEqual([
      { key_id: result.keyId },
    ]);
    // The replica that still has only the old key now fails clearly, and still changes nothing.
    expect(await rejection(first.getSecret({ name: 'a' }))).toMatchObject({ code: 'CONFIG_INVALID' });
  });
});

describe('exportJson / importJson', () => {
  it('round-trip everything but leases and remembered events into an empty store', async () => {
    const source = live.store({ encryptionKey: keys.first });
    await populateBackupFixture(source);
    await source.acquireLease({ name: 'engine', holder: 'a', ttlMs: 60_000 });
    const backup = await source.exportJson();
    expect(backup).toMatchObject({ format: 'docker-watcher.store-backup', version: 1, schemaVersion: 6 });
    expect(backup.deploys.map((deploy) => deploy.id)).toEqual(['d-1', 'd-2', 'd-3']);
    expect(JSON.stringify(backup)).not.toContain('gitea-secret-value');

    const target = live.store({ encryptionKey: keys.first });
    const counts = await target.importJson({ data: JSON.stringify(backup) });
    expect(counts).toEqual({ stages: 2, deploys: 3, logLines: 7, approvals: 2, audit: 2, secrets: 1 });
    expect(withoutExportTime(await target.exportJson())).toEqual(withoutExportTime(backup));

    for (const id of ['d-1', 'd-2', 'd-3'])
      expect(await target.getDeploy({ id })).toEqual(await source.getDeploy({ id }));
    expect(await target.listStages()).toEqual(await source.listStages());
    expect(await target.listApprovals()).toEqual(await source.listApprovals());
    expect(await target.listAudit()).toEqual(await source.listAudit());
    expect(await target.readLog({ deployId: 'orphan' })).toEqual(
      await source.readLog({ deployId: 'orphan' }),
    );
    expect(await target.getSecret({ name: 'gitea-token' })).toBe('gitea-secret-value');
    expect((await target.acquireLease({ name: 'engine', holder: 'b', ttlMs: 1_000 }))?.holder).toBe('b');

    // Numbering goes on where the backup ended.
    const at = new Date().toISOString();
    await target.appendLog({ deployId: 'd-1', lines: [{ at, level: 'info', line: 'after import' }] });
    expect((await target.readLog({ deployId: 'd-1' })).map((line) => line.seq)).toEqual([1, 2, 3]);
    expect((await target.appendAudit({ event: { at, actor: 'c', action: 'x' } })).seq).toBe(3);
    await target.createDeploy({
      deploy: {
        id: 'd-4',
        project: 'web-app',
        stage: 'dev',
        release: release('dev-4', 'd'),
        trigger: 'auto',
        state: 'pending',
        data: {},
      },
    });
    expect((await target.listDeploys({ limit: 1 }))[0]?.id).toBe('d-4');
    const updated = await target.updateDeploy({
      id: 'd-3',
      expectedRevision: 2,
      update: { state: 'succeeded', finished: true },
    });
    expect(updated.journal.map((entry) => entry.seq)).toEqual([1, 2, 3]);
  });

  it('move between the SQLite and the PostgreSQL store both ways, secrets included', async () => {
    const sqlite = createSqliteStateStore({ path: ':memory:', encryptionKey: keys.first });
    live.defer(() => sqlite.dispose());
    await sqlite.putStage({
      state: { project: 'p', stage: 'dev', autoDeploy: true, history: [release('v1', 'a')] },
      expectedRevision: 0,
    });
    await sqlite.createDeploy({
      deploy: {
        id: 'd',
        project: 'p',
        stage: 'dev',
        release: release('v1', 'a'),
        trigger: 'auto',
        state: 'pending',
        data: { x: [1] },
      },
    });
    await sqlite.appendLog({
      deployId: 'd',
      lines: [{ at: '2026-01-01T00:00:00.000Z', level: 'warn', line: 'l' }],
    });
    await sqlite.appendAudit({ event: { at: '2026-01-01T00:00:00.000Z', actor: 'a', action: 'b' } });
    await sqlite.putSecret({ name: 'token', value: 'from sqlite' });
    const fromSqlite = await sqlite.exportJson();

    const postgres = live.store({ encryptionKey: keys.first });
    await postgres.importJson({ data: fromSqlite });
    expect(await postgres.getSecret({ name: 'token' })).toBe('from sqlite');
    const fromPostgres = await postgres.exportJson();
    expect(withoutExportTime(fromPostgres)).toEqual(withoutExportTime(fromSqlite));

    const back = createSqliteStateStore({ path: ':memory:', encryptionKey: keys.first });
    live.defer(() => back.dispose());
    await back.importJson({ data: fromPostgres });
    expect(await back.getSecret({ name: 'token' })).toBe('from sqlite');
  });

  it('imports only into an empty store: CONFLICT, and nothing changes', async () => {
    const store = live.store({ encryptionKey: keys.first });
    await populateBackupFixture(store);
    const backup = await store.exportJson();
    expect(await rejection(store.importJson({ data: backup }))).toMatchObject({ code: 'CONFLICT' });
    expect(withoutExportTime(await store.exportJson())).toEqual(withoutExportTime(backup));

    const onlyAudit = live.store();
    await onlyAudit.appendAudit({ event: { at: backup.exportedAt, actor: 'a', action: 'b' } });
    expect(await rejection(onlyAudit.importJson({ data: backup }))).toMatchObject({ code: 'CONFLICT' });
  });

  it('rejects a malformed backup with BAD_REQUEST naming the fields, and writes nothing', async () => {
    const source = live.store({ encryptionKey: keys.first });
    await populateBackupFixture(source);
    const backup = await source.exportJson();
    const store = live.store();
    const broken = {
      ...backup,
      stages: [{ ...backup.stages[0], revision: 0 }],
      deploys: [{ ...backup.deploys[0], journal: [] }],
    };
    const error = await rejection(store.importJson({ data: broken }));
    expect(error).toMatchObject({ code: 'BAD_REQUEST' });
    expect(error.message).toContain('stages.0.revision:');
    expect(error.message).toContain('deploys.0.journal:');
    expect(await rejection(store.importJson({ data: '{not json' }))).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await rejection(store.importJson({ data: { format: 'other' } }))).toMatchObject({
      code: 'BAD_REQUEST',
    });
    // A backup that validates but breaks a uniqueness rule half-way is rolled back whole.
    const duplicated = { ...backup, deploys: [...backup.deploys, backup.deploys[0]] };
    expect(await rejection(store.importJson({ data: duplicated }))).toMatchObject({ code: 'CONFLICT' });
    expect(await store.listStages()).toEqual([]);
    expect(await store.listDeploys()).toEqual([]);
  });
});
