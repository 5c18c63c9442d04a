import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { latestSchemaVersion, migrate, migrations, schemaVersionOf } from './_migrations.ts';

const open: DatabaseSync[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function memoryDb(): DatabaseSync {
  const db = new DatabaseSync(':memory:');
  open.push(db);
  return db;
}

const tables = (db: DatabaseSync): string[] =>
  (
    db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as Array<{
      name: string;
    }>
  ).map((row) => row.name);

const recorded = (db: DatabaseSync) =>
  (
    db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as Array<{
      version: number;
      name: string;
    }>
  ).map((row) => `${row.version}-${row.name}`);

describe('migrations', () => {
  it('are numbered 1, 2, 3… without gaps, with kebab-case names', () => {
    migrations.forEach((migration, index) => {
      expect(migration.version).toBe(index + 1);
      expect(migration.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    });
    expect(latestSchemaVersion).toBe(migrations.length);
  });

  it('take a new database to the latest version and record each step', () => {
    const db = memoryDb();
    const result = migrate(db, { now: () => new Date('2026-02-01T00:00:00.000Z') });
    expect(result).toEqual({
      from: 0,
      to: latestSchemaVersion,
      applied: migrations.map((m) => `${m.version}-${m.name}`),
    });
    expect(schemaVersionOf(db)).toBe(latestSchemaVersion);
    expect(recorded(db)).toEqual(result.applied);
    expect(tables(db)).toEqual(
      expect.arrayContaining(['stages', 'deploys', 'deploy_journal', 'log_lines', 'secrets']),
    );
  });

  it('do nothing on a database at the latest version', () => {
    const db = memoryDb();
    migrate(db);
    expect(migrate(db)).toEqual({ from: latestSchemaVersion, to: latestSchemaVersion, applied: [] });
    expect(recorded(db)).toHaveLength(latestSchemaVersion);
  });

  it('stop at a target version and continue from it later', () => {
    const db = memoryDb();
    expect(migrate(db, { target: 1 }).applied).toEqual(['1-initial']);
    expect(tables(db)).not.toContain('deploy_journal');
    expect(migrate(db).from).toBe(1);
    expect(schemaVersionOf(db)).toBe(latestSchemaVersion);
  });

  it('refuse a database newer than the target', () => {
    const db = memoryDb();
    migrate(db);
    expect(() => migrate(db, { target: 1 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(schemaVersionOf(db)).toBe(latestSchemaVersion);
  });

  it('apply all pending migrations or none', () => {
    const db = memoryDb();
    migrate(db, { target: 1 });
    // Makes migration 2 fail half-way, after migration-independent work could have happened.
    db.exec('CREATE TABLE deploy_journal (x)');
    expect(() => migrate(db)).toThrow(/already exists/);
    expect(schemaVersionOf(db)).toBe(1);
    expect(recorded(db)).toEqual(['1-initial']);
    expect(tables(db)).not.toContain('secrets');
  });
});
