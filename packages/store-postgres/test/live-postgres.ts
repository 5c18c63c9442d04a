// One throwaway PostgreSQL cluster per test file (testkit's startPostgres), an admin connection as
// its trusted superuser, and a fresh schema per test so that tests never see each other's rows.
import { randomUUID } from 'node:crypto';
import { type PostgresServer, type StartPostgresOptions, startPostgres } from '@docker-watcher/testkit';
import pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';
import {
  createPostgresStateStore,
  type PostgresStateStore,
  type PostgresStateStoreOptions,
} from '../src/index.ts';

export interface LivePostgres {
  readonly server: PostgresServer;
  /** As the superuser `postgres`; an error on an idle connection is ignored (restarts are tested). */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<R[]>;
  /** A schema name no test used before. */
  schema(): string;
  /** A store on a fresh schema (or the given one), disposed after the test. */
  store(
    options?: Partial<PostgresStateStoreOptions>,
    context?: Parameters<typeof createPostgresStateStore>[1],
  ): PostgresStateStore;
  /** Runs after the current test, newest first. */
  defer(cleanup: () => unknown): void;
}

export function livePostgres(options: StartPostgresOptions = {}): LivePostgres {
  let server: PostgresServer | undefined;
  let admin: pg.Pool | undefined;
  const cleanups: Array<() => unknown> = [];

  beforeAll(async () => {
    server = await startPostgres(options);
    admin = new pg.Pool({ connectionString: server.url, max: 3 });
    admin.on('error', () => undefined);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await admin?.end();
    await server?.stop();
  });

  const live: LivePostgres = {
    get server() {
      if (!server) throw new Error('the PostgreSQL server starts in beforeAll');
      return server;
    },
    query: async (text, values) => {
      if (!admin) throw new Error('the PostgreSQL server starts in beforeAll');
      return (await admin.query(text, values)).rows;
    },
    schema: () => `t_${randomUUID().replaceAll('-', '').slice(0, 12)}`,
    store: (overrides = {}, context = {}) => {
      const store = createPostgresStateStore(
        { url: live.server.url, schema: live.schema(), connectTimeoutMs: 3_000, ...overrides },
        context,
      );
      cleanups.push(() => store.dispose());
      return store;
    },
    defer: (cleanup) => {
      cleanups.push(cleanup);
    },
  };
  return live;
}

export const digest = (char: string): string => `sha256:${char.repeat(64)}`;

/** Three 32-byte keys, written as an operator would put them into the environment. */
export const keys = {
  first: '0f'.repeat(32),
  second: Buffer.alloc(32, 7).toString('base64'),
  third: Buffer.alloc(32, 9).toString('base64url'),
} as const;

export async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { code?: string; retryable?: boolean; details?: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
