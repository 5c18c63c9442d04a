import { DatabaseSync } from 'node:sqlite';
import { CoreError } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { sqliteCodeOf, toStoreError } from './_errors.ts';

const facts = { path: '/srv/data/docker-watcher.db', operation: 'putStage', busyTimeoutMs: 250 };

function sqliteError(errcode: number, errstr: string): Error {
  return Object.assign(new Error(errstr), { code: 'ERR_SQLITE_ERROR', errcode, errstr });
}

describe('toStoreError', () => {
  it.each([
    [5, 'database is locked', 'UNAVAILABLE', true],
    [517, 'database is locked', 'UNAVAILABLE', true],
    [6, 'database table is locked', 'UNAVAILABLE', true],
    [11, 'database disk image is malformed', 'INTERNAL', false],
    [26, 'file is not a database', 'INTERNAL', false],
    [14, 'unable to open database file', 'CONFIG_INVALID', false],
    [8, 'attempt to write a readonly database', 'FORBIDDEN', false],
    [13, 'database or disk is full', 'UNAVAILABLE', true],
    [10, 'disk I/O error', 'UNAVAILABLE', true],
    [2067, 'UNIQUE constraint failed', 'CONFLICT', false],
    [1299, 'NOT NULL constraint failed: log_lines.line', 'BAD_REQUEST', false],
    [3091, 'cannot store TEXT value in INTEGER column', 'BAD_REQUEST', false],
    [1, 'no such table: x', 'INTERNAL', false],
  ] as const)('maps SQLite code %i to %s', (errcode, errstr, code, retryable) => {
    const mapped = toStoreError(sqliteError(errcode, errstr), facts);
    expect(mapped).toMatchObject({ code, retryable, details: { path: facts.path, operation: 'putStage' } });
    expect(mapped.message).toContain(facts.path);
    expect(mapped.message).toContain(errstr);
  });

  it('names the busy timeout of a lock', () => {
    expect(toStoreError(sqliteError(5, 'database is locked'), facts).message).toMatch(
      /busyTimeoutMs \(250 ms\)/,
    );
  });

  it('passes CoreErrors through and wraps other errors', () => {
    const original = new CoreError('CONFLICT', 'stale');
    expect(toStoreError(original, facts)).toBe(original);
    expect(toStoreError(new TypeError('boom'), facts)).toMatchObject({ code: 'INTERNAL', message: 'boom' });
  });

  it('reads the code of a real node:sqlite error', () => {
    const db = new DatabaseSync(':memory:');
    let caught: unknown;
    try {
      db.exec('SELECT * FROM missing');
    } catch (error) {
      caught = error;
    }
    db.close();
    expect(sqliteCodeOf(caught)).toBe(1);
    expect(sqliteCodeOf(new Error('plain'))).toBeUndefined();
  });
});
