import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { StateStoreHarness } from '@docker-watcher/core/testing';
import { describeStateStore } from '@docker-watcher/core/testing/vitest';
import { createSqliteStateStore } from '../src/index.ts';

/**
 * A real SQLite file in a fresh folder per case; `reopen()` opens a second store on the same file,
 * `writeDeployState()` writes a row past the store with a second connection.
 */
function fileHarness(): StateStoreHarness {
  const dir = mkdtempSync(join(tmpdir(), 'store-sqlite-conformance-'));
  const path = join(dir, 'nested', 'docker-watcher.db');
  return {
    store: createSqliteStateStore({ path, busyTimeoutMs: 2_000 }),
    reopen: async () => createSqliteStateStore({ path, busyTimeoutMs: 2_000 }),
    replica: async () => createSqliteStateStore({ path, busyTimeoutMs: 2_000 }),
    historyLimit: 50,
    writeDeployState: async ({ id, state }) => {
      const db = new DatabaseSync(path);
      try {
        db.prepare('UPDATE deploys SET state = ? WHERE id = ?').run(state, id);
      } finally {
        db.close();
      }
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

describeStateStore({ name: 'store:sqlite (file)', create: fileHarness });
describeStateStore({
  name: 'store:sqlite (:memory:)',
  create: () => ({ store: createSqliteStateStore({ path: ':memory:', historyLimit: 7 }), historyLimit: 7 }),
});
