import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createMemoryLogger, isCoreError, type LogLine } from '@docker-watcher/core';
import { populateBackupFixture, withoutExportTime } from '@docker-watcher/core/testing';
import { describe, expect, it } from 'vitest';
import { digest, keys, tempDir } from '../test/temp-dir.ts';
import { createSqliteStateStore } from './sqlite-state-store.ts';

const release = (tag: string, char: string) => ({ tag, digest: digest(char) });

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; retryable?: boolean }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

/** Every byte the store wrote (the file and its WAL), as text, to look for plaintext. */
function bytesOnDisk(dir: string): string {
  return readdirSync(dir)
    .map((name) => readFileSync(join(dir, name)).toString('latin1'))
    .join('');
}

describe('createSqliteStateStore', () => {
  it('creates the folder and the file, with an id naming the instance', async () => {
    const dir = tempDir();
    const path = join(dir, 'a', 'b', 'store.db');
    const store = createSqliteStateStore({ path }, { instance: 'main' });
    expect(store.id).toBe('store:sqlite/main');
    expect(store.path).toBe(path);
    expect(store.capabilities).toEqual({ sharedLeases: true, durable: true });
    expect(readdirSync(join(dir, 'a', 'b'))).toContain('store.db');
    await store.dispose();
    const memory = createSqliteStateStore({ path: ':memory:' });
    expect(memory.capabilities).toEqual({ sharedLeases: false, durable: false });
    await memory.dispose();
  });

  it('logs opening and migrations, never option secrets', async () => {
    const logger = createMemoryLogger();
    const store = createSqliteStateStore(
      { path: join(tempDir(), 'store.db'), encryptionKey: keys.first },
      { logger },
    );
    await store.putSecret({ name: 'token', value: 'very-secret-value' });
    await store.rotateSecrets();
    await store.dispose();
    expect(logger.entries.map((entry) => entry.message)).toContain('SQLite store opened');
    expect(logger.entries[0]?.fields).toMatchObject({
      adapter: 'store:sqlite',
      migrationsApplied: [
        '1-initial',
        '2-deploy-journal-table-and-list-indexes',
        '3-encrypted-secrets',
        '4-repository-marks',
        '5-event-feed-and-listing-indexes',
        '6-idempotency-keys',
      ],
    });
    const logged = JSON.stringify(logger.entries);
    expect(logged).not.toContain('very-secret-value');
    expect(logged).not.toContain(keys.first);
  });

  it('refuses calls after dispose with a non-retryable UNAVAILABLE', async () => {
    const store = createSqliteStateStore({ path: ':memory:' });
    await store.dispose();
    const error = await rejection(store.listStages());
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: false });
  });

  it('rejects a bad expectedRevision with BAD_REQUEST and writes nothing', async () => {
    const store = createSqliteStateStore({ path: ':memory:' });
    const state = { project: 'p', stage: 'dev', autoDeploy: true, history: [] };
    expect(await rejection(store.putStage({ state, expectedRevision: -1 }))).toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect(await rejection(store.putStage({ state, expectedRevision: 1.5 }))).toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect(await store.listStages()).toEqual([]);
    await store.dispose();
  });

  it('keeps the stored revision and body when a compare-and-set loses', async () => {
    const dir = tempDir();
    const path = join(dir, 'store.db');
    const store = createSqliteStateStore({ path });
    const state = { project: 'p', stage: 'dev', autoDeploy: true, history: [] };
    await store.putStage({ state, expectedRevision: 0 });
    // Another process wins the race.
    const other = createSqliteStateStore({ path });
    const winner = await other.putStage({ state: { ...state, pin: 'v2' }, expectedRevision: 1 });
    const error = await rejection(
      store.putStage({ state: { ...state, autoDeploy: false }, expectedRevision: 1 }),
    );
    expect(error).toMatchObject({ code: 'CONFLICT', details: { expectedRevision: 1, actualRevision: 2 } });
    expect(await store.getStage({ project: 'p', stage: 'dev' })).toEqual(winner);
    await other.dispose();
    await store.dispose();
  });

  it('takes fractional and unbounded ttls like the in-memory store', async () => {
    const store = createSqliteStateStore({ path: ':memory:' });
    expect(await store.rememberEvent({ source: 's', eventId: 'a', ttlMs: 1_000.5 })).toBe(true);
    expect(await store.rememberEvent({ source: 's', eventId: 'b', ttlMs: Number.POSITIVE_INFINITY })).toBe(
      true,
    );
    expect(await store.rememberEvent({ source: 's', eventId: 'b', ttlMs: 1 })).toBe(false);
    const lease = await store.acquireLease({ name: 'l', holder: 'a', ttlMs: Number.POSITIVE_INFINITY });
    expect(lease?.expiresAt).toBe(new Date(8.64e15).toISOString());
    expect(await store.acquireLease({ name: 'm', holder: 'a', ttlMs: 0.25 })).toMatchObject({ holder: 'a' });
    await store.dispose();
  });

  it('rejects a missing value with BAD_REQUEST and writes nothing', async () => {
    const store = createSqliteStateStore({ path: ':memory:' });
    const line = { at: new Date().toISOString(), level: 'info', line: null } as unknown as LogLine;
    expect(await rejection(store.appendLog({ deployId: 'd', lines: [line] }))).toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect(await store.readLog({ deployId: 'd' })).toEqual([]);
    await store.dispose();
  });

  it('lists deploys with filters combined, like the in-memory store', async () => {
    const store = createSqliteStateStore({ path: ':memory:', encryptionKey: keys.first });
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
    await store.dispose();
  });
});

describe('secrets', () => {
  it('stores values encrypted: no plaintext in the file or its WAL', async () => {
    const dir = tempDir();
    const store = createSqliteStateStore({ path: join(dir, 'store.db'), encryptionKey: keys.first });
    await store.putSecret({ name: 'npm-password', value: 'plain-text-password-123' });
    await store.putSecret({ name: 'gitea-token', value: 'token-456' });
    expect(await store.getSecret({ name: 'npm-password' })).toBe('plain-text-password-123');
    expect(await store.getSecret({ name: 'missing' })).toBeUndefined();
    expect(await store.listSecretNames()).toEqual(['gitea-token', 'npm-password']);
    expect(bytesOnDisk(dir)).not.toContain('plain-text-password-123');
    await store.putSecret({ name: 'gitea-token', value: 'token-789' });
    expect(await store.getSecret({ name: 'gitea-token' })).toBe('token-789');
    expect(await store.deleteSecret({ name: 'gitea-token' })).toBe(true);
    expect(await store.deleteSecret({ name: 'gitea-token' })).toBe(false);
    expect(await store.listSecretNames()).toEqual(['npm-password']);
    await store.dispose();
    expect(bytesOnDisk(dir)).not.toContain('plain-text-password-123');
  });

  it('needs encryptionKey to store a secret', async () => {
    const store = createSqliteStateStore({ path: ':memory:' });
    expect(await rejection(store.putSecret({ name: 'x', value: 'y' }))).toMatchObject({
      code: 'CONFIG_INVALID',
    });
    expect(await rejection(store.rotateSecrets())).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(await rejection(store.putSecret({ name: '', value: 'y' }))).toMatchObject({ code: 'BAD_REQUEST' });
    await store.dispose();
  });

  it('fails a read with the wrong key clearly, and destroys nothing', async () => {
    const path = join(tempDir(), 'store.db');
    const right = createSqliteStateStore({ path, encryptionKey: keys.first });
    await right.putSecret({ name: 'npm-password', value: 'kept-value' });
    await right.dispose();

    const logger = createMemoryLogger();
    const wrong = createSqliteStateStore({ path, encryptionKey: keys.second }, { logger });
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
    // Rotation with the wrong key refuses too, changing nothing.
    expect(await rejection(wrong.rotateSecrets())).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(await wrong.listSecretNames()).toEqual(['npm-password']);
    await wrong.dispose();

    const again = createSqliteStateStore({ path, encryptionKey: keys.first });
    expect(await again.getSecret({ name: 'npm-password' })).toBe('kept-value');
    await again.dispose();
  });

  it('rotates: previousKeys keep old secrets readable, rotateSecrets re-encrypts them under the new key', async () => {
    const path = join(tempDir(), 'store.db');
    const first = createSqliteStateStore({ path, encryptionKey: keys.first });
    await first.putSecret({ name: 'a', value: 'value a' });
    await first.putSecret({ name: 'b', value: 'value b' });
    await first.dispose();

    const during = createSqliteStateStore({ path, encryptionKey: keys.second, previousKeys: [keys.first] });
    expect(await during.getSecret({ name: 'a' })).toBe('value a');
    await during.putSecret({ name: 'c', value: 'value c' });
    const result = await during.rotateSecrets();
    expect(result).toMatchObject({ rotated: 2, total: 3 });
    expect(result.keyId).toMatch(/^k-/);
    expect(await during.rotateSecrets()).toMatchObject({ rotated: 0, total: 3 });
    await during.dispose();

    const after = createSqliteStateStore({ path, encryptionKey: keys.second });
    expect(await Promise.all(['a', 'b', 'c'].map((name) => after.getSecret({ name })))).toEqual([
      'value a',
      'value b',
      'value c',
    ]);
    await after.dispose();
    const db = new DatabaseSync(path, { readOnly: true });
    const keyIds = db.prepare('SELECT DISTINCT key_id FROM secrets').all();
    db.close();
    expect(keyIds).toEqual([{ key_id: result.keyId }]);
  });
});

describe('exportJson / importJson', () => {
  it('round-trip everything but leases and remembered events into an empty store', async () => {
    const source = createSqliteStateStore({ path: join(tempDir(), 'source.db'), encryptionKey: keys.first });
    await populateBackupFixture(source);
    await source.acquireLease({ name: 'engine', holder: 'a', ttlMs: 60_000 });
    const backup = await source.exportJson();
    expect(backup).toMatchObject({ format: 'docker-watcher.store-backup', version: 1 });
    expect(backup.deploys.map((deploy) => deploy.id)).toEqual(['d-1', 'd-2', 'd-3']);
    expect(JSON.stringify(backup)).not.toContain('gitea-secret-value');

    const target = createSqliteStateStore({ path: join(tempDir(), 'target.db'), encryptionKey: keys.first });
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
    await source.dispose();
    await target.dispose();
  });

  it('imports only into an empty store: CONFLICT, and nothing changes', async () => {
    const store = createSqliteStateStore({ path: ':memory:', encryptionKey: keys.first });
    await populateBackupFixture(store);
    const backup = await store.exportJson();
    expect(await rejection(store.importJson({ data: backup }))).toMatchObject({ code: 'CONFLICT' });
    expect(withoutExportTime(await store.exportJson())).toEqual(withoutExportTime(backup));

    const onlyAudit = createSqliteStateStore({ path: ':memory:' });
    await onlyAudit.appendAudit({ event: { at: backup.exportedAt, actor: 'a', action: 'b' } });
    expect(await rejection(onlyAudit.importJson({ data: backup }))).toMatchObject({ code: 'CONFLICT' });
    await onlyAudit.dispose();
    await store.dispose();
  });

  it('rejects a malformed backup with BAD_REQUEST naming the fields, and writes nothing', async () => {
    const source = createSqliteStateStore({ path: ':memory:', encryptionKey: keys.first });
    await populateBackupFixture(source);
    const backup = await source.exportJson();
    await source.dispose();
    const store = createSqliteStateStore({ path: ':memory:' });
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
    await store.dispose();
  });
});
