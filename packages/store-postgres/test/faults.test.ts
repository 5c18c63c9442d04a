// A real server that restarts, drops connections, refuses credentials or is not there: every failure
// is a clear CoreError without the password, a call during an outage is a retryable UNAVAILABLE,
// nothing crashes the process, and the store recovers by itself once the server is back.
import { createMemoryLogger } from '@docker-watcher/core';
import { freePort } from '@docker-watcher/testkit';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { latestSchemaVersion } from '../src/_migrations.ts';
import { livePostgres, rejection } from './live-postgres.ts';

const live = livePostgres({ passwordRoles: ['app', 'limited'] });
const password = 'S3cret-pässword/@:';

const stage = { project: 'web-app', stage: 'dev', autoDeploy: true, history: [] };
const appUrl = (secret: string | undefined, database = 'postgres') =>
  `postgres://app${secret === undefined ? '' : `:${encodeURIComponent(secret)}`}@127.0.0.1:${live.server.port}/${database}`;

/** The error's message and everything it serialises to, where a password must never appear. */
const everything = (error: Error) => `${error.message}\n${JSON.stringify(error)}\n${String(error.stack)}`;

beforeAll(async () => {
  await live.query(`CREATE ROLE app LOGIN SUPERUSER PASSWORD '${password.replaceAll("'", "''")}'`);
  await live.query("CREATE ROLE limited LOGIN PASSWORD 'limited-pw'");
});

describe('the database restarting mid-run', () => {
  it('makes calls during the outage fail with a retryable UNAVAILABLE; the next call after it succeeds', async () => {
    const logger = createMemoryLogger();
    const store = live.store({ poolSize: 3 }, { logger });
    const created = await store.putStage({ state: stage, expectedRevision: 0 });
    // Several pooled connections are open and idle when the server goes down.
    await Promise.all([store.listStages(), store.listAudit(), store.listDeploys()]);

    await live.server.restart({
      whileDown: async () => {
        for (const call of [
          store.getStage({ project: 'web-app', stage: 'dev' }),
          store.putStage({ state: { ...stage, pin: 'v1' }, expectedRevision: 1 }),
          store.acquireLease({ name: 'engine', holder: 'a', ttlMs: 1_000 }),
        ]) {
          const error = await rejection(call);
          expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
          expect(error.message).toContain(store.target);
        }
      },
    });

    expect(await store.getStage({ project: 'web-app', stage: 'dev' })).toEqual(created);
    const updated = await store.putStage({ state: { ...stage, pin: 'v1' }, expectedRevision: 1 });
    expect(updated.revision).toBe(2);
    expect(logger.entries.some((entry) => /lost an idle connection/.test(entry.message))).toBe(true);
  });

  it('recovers from connections the server ended while they were idle', async () => {
    const store = live.store({ poolSize: 2 });
    await store.putStage({ state: stage, expectedRevision: 0 });
    await Promise.all([store.listStages(), store.listStages()]);
    const ended = await live.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'docker-watcher'",
    );
    expect(ended.length).toBeGreaterThan(0);
    expect((await store.listStages()).map((state) => state.stage)).toEqual(['dev']);
  });

  it('opens once the server is back when it was down at creation', async () => {
    const schema = live.schema();
    let store: ReturnType<typeof live.store> | undefined;
    await live.server.restart({
      whileDown: async () => {
        store = live.store({ schema });
        expect(await rejection(store.listStages())).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
      },
    });
    expect(await store?.listStages()).toEqual([]);
    expect((await store?.open())?.schemaVersion).toBe(latestSchemaVersion);
  });
});

describe('credentials and addresses', () => {
  it('a wrong password is UNAUTHORIZED, not retryable, and never in the message', async () => {
    const store = live.store({ url: appUrl('wrong-password-value') });
    const error = await rejection(store.listStages());
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', retryable: false, details: { sqlState: '28P01' } });
    expect(error.message).toContain(`postgres://app@127.0.0.1:${live.server.port}/postgres`);
    expect(everything(error)).not.toContain('wrong-password-value');
  });

  it('a missing password is UNAUTHORIZED too', async () => {
    const previous = process.env.PGPASSWORD;
    delete process.env.PGPASSWORD;
    try {
      const error = await rejection(live.store({ url: appUrl(undefined) }).listStages());
      expect(error).toMatchObject({ code: 'UNAUTHORIZED', retryable: false });
    } finally {
      if (previous !== undefined) process.env.PGPASSWORD = previous;
    }
  });

  it('the password option replaces the URL one, which is never shown', async () => {
    const store = live.store({ url: appUrl('stale-url-password'), password });
    await store.putStage({ state: stage, expectedRevision: 0 });
    expect(store.target).toBe(`postgres://app@127.0.0.1:${live.server.port}/postgres`);
    const wrong = live.store({ url: appUrl(password), password: 'wrong-option-password' });
    const error = await rejection(wrong.open());
    expect(error).toMatchObject({ code: 'UNAUTHORIZED' });
    for (const secret of [password, encodeURIComponent(password), 'wrong-option-password'])
      expect(everything(error)).not.toContain(secret);
  });

  it('an unreachable server is UNAVAILABLE, retryable, without the password', async () => {
    const port = await freePort();
    const store = live.store({
      url: `postgres://app:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    });
    const error = await rejection(store.putStage({ state: stage, expectedRevision: 0 }));
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true, details: { errno: 'ECONNREFUSED' } });
    expect(error.message).toContain(`postgres://app@127.0.0.1:${port}/postgres`);
    for (const secret of [password, encodeURIComponent(password)])
      expect(everything(error)).not.toContain(secret);
  });

  it('a database that does not exist is CONFIG_INVALID', async () => {
    const error = await rejection(live.store({ url: appUrl(password, 'no_such_db') }).open());
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', details: { sqlState: '3D000' } });
    expect(everything(error)).not.toContain(password);
  });

  it('a role that may not create the schema is FORBIDDEN, and nothing is created', async () => {
    const schema = live.schema();
    const url = `postgres://limited:limited-pw@127.0.0.1:${live.server.port}/postgres`;
    const error = await rejection(live.store({ url, schema }).open());
    expect(error).toMatchObject({ code: 'FORBIDDEN', details: { sqlState: '42501' } });
    expect(await live.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).toEqual([]);
  });
});

describe('a statement that runs too long', () => {
  it('is cancelled after queryTimeoutMs with TIMEOUT, writes nothing, and the retry succeeds', async () => {
    const store = live.store({ queryTimeoutMs: 300 });
    await store.putStage({ state: stage, expectedRevision: 0 });
    const locker = new pg.Client({ connectionString: live.server.url });
    locker.on('error', () => undefined);
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE "${store.schema}".stages IN ACCESS EXCLUSIVE MODE`);
    const started = performance.now();
    const error = await rejection(store.putStage({ state: { ...stage, pin: 'v2' }, expectedRevision: 1 }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true, details: { sqlState: '57014' } });
    expect(error.message).toMatch(/queryTimeoutMs \(300 ms\)/);
    await locker.query('ROLLBACK');
    await locker.end();
    expect((await store.getStage({ project: 'web-app', stage: 'dev' }))?.revision).toBe(1);
    expect((await store.putStage({ state: { ...stage, pin: 'v2' }, expectedRevision: 1 })).pin).toBe('v2');
  });
});
