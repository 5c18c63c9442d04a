import type { StateStoreHarness } from '@docker-watcher/core/testing';
import { describeStateStore } from '@docker-watcher/core/testing/vitest';
import { createPostgresStateStore } from '../src/index.ts';
import { livePostgres } from './live-postgres.ts';

const live = livePostgres();

/** A real PostgreSQL server, a fresh schema per case; `reopen()` opens a second store on the same schema. */
function harness(): StateStoreHarness {
  const schema = live.schema();
  const open = () =>
    createPostgresStateStore({ url: live.server.url, schema, poolSize: 4, historyLimit: 50 });
  return {
    store: open(),
    reopen: async () => open(),
    replica: async () => open(),
    historyLimit: 50,
    writeDeployState: async ({ id, state }) => {
      await live.query(`UPDATE "${schema}".deploys SET state = $1 WHERE id = $2`, [state, id]);
    },
    dispose: async () => {
      await live.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}

describeStateStore({ name: 'store:postgres (live PostgreSQL)', create: harness });
