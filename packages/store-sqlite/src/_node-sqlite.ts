import { createRequire } from 'node:module';
import type * as NodeSqlite from 'node:sqlite';
import { CoreError } from '@docker-watcher/core';

/** The Node version from which `node:sqlite` loads without `--experimental-sqlite`. */
export const sqliteNodeVersion = '22.13';

/**
 * `node:sqlite`, loaded when a store opens rather than when the package is imported: on a Node that
 * lacks it, the error says which Node is needed instead of "No such built-in module".
 */
export function loadNodeSqlite(version: string = process.versions.node): typeof NodeSqlite {
  try {
    return createRequire(import.meta.url)('node:sqlite') as typeof NodeSqlite;
  } catch (error) {
    throw new CoreError(
      'UNAVAILABLE',
      `The SQLite store needs Node.js ${sqliteNodeVersion} or newer, where node:sqlite is built in; this is Node.js ${version}. Upgrade Node.js (Node 24 LTS is what Docker Watcher is developed on), or use the PostgreSQL store.`,
      { cause: error, retryable: false },
    );
  }
}
