// Bad files and contention on real SQLite files: every failure is a clear CoreError naming the
// file, and a file the store refuses is left byte for byte as it was.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type CoreError, isCoreError } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { latestSchemaVersion } from '../src/_migrations.ts';
import { createSqliteStateStore } from '../src/index.ts';
import { sha256Of, tempDir } from './temp-dir.ts';

function openError(open: () => unknown): CoreError {
  try {
    open();
  } catch (error) {
    if (isCoreError(error)) return error;
    throw error;
  }
  throw new Error('expected the store to refuse the file');
}

const stage = { project: 'web-app', stage: 'dev', autoDeploy: true, history: [] };

/** A store file with some rows in it, closed (so that the WAL is folded into the file). */
async function storeFile(dir: string): Promise<string> {
  const path = join(dir, 'store.db');
  const store = createSqliteStateStore({ path });
  await store.putStage({ state: stage, expectedRevision: 0 });
  for (let n = 0; n < 40; n++) {
    await store.createDeploy({
      deploy: {
        id: `d-${n}`,
        project: 'web-app',
        stage: 'dev',
        release: { tag: `v${n}`, digest: 'sha256:x' },
        trigger: 'auto',
        state: 'pending',
        data: {},
      },
    });
    await store.appendLog({
      deployId: `d-${n}`,
      lines: [{ at: new Date().toISOString(), level: 'info', line: 'x'.repeat(200) }],
    });
  }
  await store.dispose();
  return path;
}

describe('a damaged file', () => {
  it('of garbage bytes is refused at open, naming the file, and left unchanged', () => {
    const dir = tempDir();
    const path = join(dir, 'garbage.db');
    writeFileSync(path, randomBytes(64 * 1024));
    const before = sha256Of(path);
    const error = openError(() => createSqliteStateStore({ path }));
    expect(error).toMatchObject({
      code: 'INTERNAL',
      retryable: false,
      details: { path, sqliteCode: 'SQLITE_NOTADB' },
    });
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/not a SQLite database or is corrupt; it was left as it is/);
    expect(sha256Of(path)).toBe(before);
    expect(readdirSync(dir)).toEqual(['garbage.db']);
  });

  it('of a store with garbage over a page after the header is refused at open and left unchanged', async () => {
    const dir = tempDir();
    const path = await storeFile(dir);
    for (const offset of [4096, 3 * 4096, 6 * 4096]) {
      const copy = join(dir, `damaged-${offset}.db`);
      copyFileSync(path, copy);
      const fd = openSync(copy, 'r+');
      writeSync(fd, randomBytes(4096), 0, 4096, offset);
      closeSync(fd);
      const before = sha256Of(copy);
      const error = openError(() => createSqliteStateStore({ path: copy }));
      expect(error).toMatchObject({ code: 'INTERNAL', retryable: false, details: { path: copy } });
      expect(error.message).toContain(copy);
      expect(error.message).toMatch(/corrupt/);
      expect(sha256Of(copy)).toBe(before);
    }
  });

  it('with a truncated header page is refused at open', async () => {
    const dir = tempDir();
    const path = await storeFile(dir);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(100, 0xff), 0, 100, 0);
    closeSync(fd);
    const before = sha256Of(path);
    expect(openError(() => createSqliteStateStore({ path })).message).toContain(path);
    expect(sha256Of(path)).toBe(before);
  });
});

describe('a file the store does not know', () => {
  it('from a newer schema version is refused with CONFIG_INVALID and left unchanged', async () => {
    const dir = tempDir();
    const path = await storeFile(dir);
    const db = new DatabaseSync(path);
    db.exec('PRAGMA user_version = 99');
    db.close();
    const before = sha256Of(path);
    const error = openError(() => createSqliteStateStore({ path }));
    expect(error).toMatchObject({
      code: 'CONFIG_INVALID',
      details: { path, schemaVersion: 99, knownVersion: latestSchemaVersion },
    });
    expect(error.message).toMatch(/schema version 99, written by a newer @docker-watcher\/store-sqlite/);
    expect(sha256Of(path)).toBe(before);
  });

  it('of another application is refused with CONFIG_INVALID and left unchanged', () => {
    const dir = tempDir();
    const path = join(dir, 'other.db');
    const db = new DatabaseSync(path);
    db.exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine')");
    db.close();
    const before = sha256Of(path);
    const error = openError(() => createSqliteStateStore({ path }));
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', details: { path } });
    expect(error.message).toMatch(/a SQLite database of something else/);
    expect(sha256Of(path)).toBe(before);
  });

  it('that is empty (0 bytes) is refused, not taken for a new store, and left as it is', () => {
    const dir = tempDir();
    const path = join(dir, 'store.db');
    writeFileSync(path, '');
    const error = openError(() => createSqliteStateStore({ path }));
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', details: { path } });
    expect(error.message).toMatch(
      /is an empty file \(0 bytes\), not a new store.*delete the file to start a new store/,
    );
    expect(statSync(path).size).toBe(0);
  });

  it('with rows whose JSON does not parse is refused at open, naming table and row, and left unchanged', async () => {
    const dir = tempDir();
    const path = await storeFile(dir);
    const db = new DatabaseSync(path);
    db.exec("UPDATE stages SET body = '{not json' WHERE stage = 'dev'");
    db.exec("UPDATE deploys SET body = '' WHERE id = 'd-7'");
    db.close();
    const before = sha256Of(path);
    const error = openError(() => createSqliteStateStore({ path }));
    expect(error).toMatchObject({
      code: 'CONFIG_INVALID',
      details: { path, rows: ['stages web-app/dev (body)', 'deploys d-7 (body)'] },
    });
    expect(error.message).toContain('stages web-app/dev (body), deploys d-7 (body)');
    expect(sha256Of(path)).toBe(before);
  });

  it('under a path that cannot be a folder is refused with CONFIG_INVALID', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a-file'), 'x');
    const error = openError(() => createSqliteStateStore({ path: join(dir, 'a-file', 'store.db') }));
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(error.message).toContain(join(dir, 'a-file', 'store.db'));
  });
});

describe('a locked database', () => {
  it('makes a write wait busyTimeoutMs, then fail with a retryable UNAVAILABLE; reads go on', async () => {
    const dir = tempDir();
    const path = join(dir, 'store.db');
    const store = createSqliteStateStore({ path, busyTimeoutMs: 200 });
    await store.putStage({ state: stage, expectedRevision: 0 });
    const other = new DatabaseSync(path);
    other.exec('BEGIN EXCLUSIVE');
    other.exec("INSERT INTO audit (at, body) VALUES ('2026-01-01T00:00:00.000Z', '{}')");

    const started = performance.now();
    let caught: unknown;
    try {
      await store.putStage({ state: { ...stage, autoDeploy: false }, expectedRevision: 1 });
    } catch (error) {
      caught = error;
    }
    const waited = performance.now() - started;
    expect(caught).toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
      details: { path, sqliteCode: 'SQLITE_BUSY' },
    });
    expect((caught as Error).message).toMatch(
      /is locked by another connection for longer than busyTimeoutMs \(200 ms\); nothing was written/,
    );
    expect(waited).toBeGreaterThanOrEqual(150);
    // WAL: readers are not blocked by the writer.
    expect((await store.getStage({ project: 'web-app', stage: 'dev' }))?.revision).toBe(1);

    other.exec('ROLLBACK');
    other.close();
    // The retry the error invited succeeds, and the failed attempt left no trace.
    expect(
      (await store.putStage({ state: { ...stage, autoDeploy: false }, expectedRevision: 1 })).revision,
    ).toBe(2);
    await store.dispose();
  });

  it('that needs migrating while another connection holds the lock fails to open with UNAVAILABLE', () => {
    const dir = tempDir();
    const path = join(dir, 'store.db');
    const other = new DatabaseSync(path);
    other.exec('BEGIN EXCLUSIVE');
    other.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    const error = openError(() => createSqliteStateStore({ path, busyTimeoutMs: 100 }));
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true, details: { path } });
    other.exec('ROLLBACK');
    other.close();
    // The rolled-back creation left an empty file, which the store refuses as it would a truncated
    // one (above) until it is deleted.
    expect(openError(() => createSqliteStateStore({ path })).code).toBe('CONFIG_INVALID');
    rmSync(path);
    const store = createSqliteStateStore({ path, busyTimeoutMs: 100 });
    return store.dispose();
  });
});
