// A store file written at schema version 1 (test/fixtures/schema-v1.db, made once by
// make-v1-fixture.ts) is migrated on open to the latest version, and every row survives.
import { copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { latestSchemaVersion } from '../src/_migrations.ts';
import { createSqliteStateStore } from '../src/index.ts';
import { v1AppliedAt, v1Approvals, v1Audit, v1Deploys, v1Logs, v1Stages } from './fixtures/schema-v1-data.ts';
import { sha256Of, tempDir } from './temp-dir.ts';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'schema-v1.db');

function counts(path: string): Record<string, number> {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const count = (table: string) =>
      (db.prepare(`SELECT count(*) AS count FROM ${table}`).get() as { count: number }).count;
    return Object.fromEntries(
      ['stages', 'deploys', 'log_streams', 'log_lines', 'approvals', 'seen_events', 'audit', 'leases'].map(
        (table) => [table, count(table)],
      ),
    );
  } finally {
    db.close();
  }
}

function fixtureCopy(): string {
  const path = join(tempDir(), 'docker-watcher.db');
  copyFileSync(fixture, path);
  return path;
}

describe('migrating the schema v1 fixture', () => {
  it('is a version 1 file with rows in every table', () => {
    const db = new DatabaseSync(fixture, { readOnly: true });
    expect(db.prepare('PRAGMA user_version').get()).toEqual({ user_version: 1 });
    db.close();
    expect(counts(fixture)).toEqual({
      stages: 3,
      deploys: 5,
      log_streams: 3,
      log_lines: 5,
      approvals: 2,
      seen_events: 1,
      audit: 3,
      leases: 1,
    });
  });

  it('reaches the latest version on open and keeps every row', async () => {
    const fixtureHash = sha256Of(fixture);
    const path = fixtureCopy();
    const before = counts(path);
    const store = createSqliteStateStore({ path });

    for (const { body, ...stage } of v1Stages) {
      expect(await store.getStage({ project: stage.project, stage: stage.stage })).toEqual({
        ...stage,
        ...body,
      });
    }
    for (const { body, ...deploy } of v1Deploys) {
      const { journal, ...rest } = body;
      expect(await store.getDeploy({ id: deploy.id })).toEqual({ ...deploy, ...rest, journal });
    }
    expect((await store.listDeploys()).map((deploy) => deploy.id)).toEqual([
      'd-5',
      'd-4',
      'd-3',
      'd-2',
      'd-1',
    ]);
    expect((await store.listDeploys({ unfinished: true })).map((deploy) => deploy.id)).toEqual([
      'd-5',
      'd-4',
    ]);
    for (const { deployId, lines } of v1Logs) expect(await store.readLog({ deployId })).toEqual(lines);
    expect(await store.listApprovals()).toEqual(v1Approvals);
    expect(await store.listApprovals({ project: 'web-app', stage: 'prod', status: 'pending' })).toEqual([
      v1Approvals[1],
    ]);
    expect(await store.listAudit()).toEqual([...v1Audit].reverse());
    expect(await store.rememberEvent({ source: 'registry:gitea', eventId: 'evt-1', ttlMs: 60_000 })).toBe(
      false,
    );
    expect(await store.acquireLease({ name: 'engine', holder: 'server-b', ttlMs: 60_000 })).toBeUndefined();

    // The migrated store goes on where the old one stopped.
    const next = await store.updateDeploy({
      id: 'd-5',
      expectedRevision: 2,
      update: { state: 'starting', note: 'after migration' },
    });
    expect(next.journal.map((entry) => entry.seq)).toEqual([1, 2, 3]);
    expect(
      (await store.appendAudit({ event: { at: '2026-02-01T00:00:00.000Z', actor: 'c', action: 'x' } })).seq,
    ).toBe(4);
    await store.dispose();

    const db = new DatabaseSync(path, { readOnly: true });
    expect(db.prepare('PRAGMA user_version').get()).toEqual({ user_version: latestSchemaVersion });
    const applied = db
      .prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version')
      .all() as Array<{
      version: number;
      applied_at: string;
    }>;
    expect(applied.map((row) => row.version)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(applied[0]?.applied_at).toBe(v1AppliedAt);
    const journalRows = (
      db.prepare('SELECT count(*) AS count FROM deploy_journal').get() as { count: number }
    ).count;
    const leftInBody = db
      .prepare("SELECT count(*) AS count FROM deploys WHERE json_type(body, '$.journal') IS NOT NULL")
      .get();
    db.close();
    expect(journalRows).toBe(v1Deploys.reduce((sum, deploy) => sum + deploy.body.journal.length, 0) + 1);
    expect(leftInBody).toEqual({ count: 0 });
    expect(counts(path)).toEqual({ ...before, audit: (before.audit ?? 0) + 1 });
    expect(sha256Of(fixture)).toBe(fixtureHash);
  });

  it('drops the seenDigests an old stage row kept (never used) when the stage is written again', async () => {
    const store = createSqliteStateStore({ path: fixtureCopy() });
    try {
      const {
        revision,
        updatedAt: _at,
        ...old
      } = (await store.getStage({ project: 'web-app', stage: 'dev' }))!;
      expect(old).toHaveProperty('seenDigests');
      await store.putStage({ state: { ...old, autoDeploy: false }, expectedRevision: revision });
      const written = await store.getStage({ project: 'web-app', stage: 'dev' });
      expect(written).toMatchObject({ autoDeploy: false, history: old.history });
      expect(written).not.toHaveProperty('seenDigests');
    } finally {
      await store.dispose();
    }
  });

  it('changes no row when a migration fails half-way', () => {
    const path = fixtureCopy();
    const db = new DatabaseSync(path);
    // A journal entry without a state cannot become a deploy_journal row (state is NOT NULL).
    db.exec("UPDATE deploys SET body = json_set(body, '$.journal[1].state', NULL) WHERE id = 'd-3'");
    const bodies = db.prepare('SELECT id, body FROM deploys ORDER BY pos').all();
    db.close();
    const before = counts(path);

    let caught: unknown;
    try {
      createSqliteStateStore({ path });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({
      code: 'INTERNAL',
      retryable: false,
      details: { path, schemaVersion: 1, migration: '2-deploy-journal-table-and-list-indexes' },
    });
    expect((caught as Error).message).toMatch(
      /could not be migrated from schema version 1 to 6 \(migration 2-deploy-journal-table-and-list-indexes failed: NOT NULL constraint failed: deploy_journal.state\); nothing was changed/,
    );

    const after = new DatabaseSync(path, { readOnly: true });
    expect(after.prepare('PRAGMA user_version').get()).toEqual({ user_version: 1 });
    expect(after.prepare('SELECT id, body FROM deploys ORDER BY pos').all()).toEqual(bodies);
    expect(
      after.prepare("SELECT name FROM sqlite_schema WHERE name IN ('deploy_journal', 'secrets')").all(),
    ).toEqual([]);
    after.close();
    expect(counts(path)).toEqual(before);
  });
});
