import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer as createNetServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isTestkitError, type PostgresServer, startPostgres, type TestkitError } from '../src/index.ts';

// node-postgres is a dependency of store-postgres, the package these clusters are for; the testkit
// itself only drives Debian's binaries, so it borrows the client from there for its own test.
interface PgClient {
  connect(): Promise<unknown>;
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}
const pg = createRequire(new URL('../../store-postgres/package.json', import.meta.url))('pg') as {
  Client: new (config: { connectionString: string; connectionTimeoutMillis?: number }) => PgClient;
};

async function query(url: string, text: string, values?: unknown[]): Promise<Array<Record<string, unknown>>> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

async function caught(promise: Promise<unknown>): Promise<TestkitError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isTestkitError(error), `expected a TestkitError, got ${String(error)}`).toBe(true);
  return error as TestkitError;
}

describe('startPostgres', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres({ passwordRoles: ['app'] });
  });
  afterAll(() => server?.stop());

  it('starts a cluster that answers on 127.0.0.1 as the trusted superuser', async () => {
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
    const [row] = await query(
      server.url,
      "SELECT current_user AS who, current_setting('server_version_num')::int AS version, current_setting('fsync') AS fsync, current_setting('listen_addresses') AS listen",
    );
    expect(row).toMatchObject({ who: 'postgres', fsync: 'off', listen: '127.0.0.1' });
    expect(Math.floor(Number(row?.version) / 10_000)).toBe(Number(server.version));
    if (process.getuid?.() === 0) expect(statSync(`${server.dir}/data`).uid).not.toBe(0);
  });

  it('asks password roles for their password', async () => {
    await query(server.url, "CREATE ROLE app LOGIN PASSWORD 'app-secret'");
    const at = (password: string) => `postgres://app:${password}@127.0.0.1:${server.port}/postgres`;
    expect(await query(at('app-secret'), 'SELECT current_user AS who')).toEqual([{ who: 'app' }]);
    await expect(query(at('wrong'), 'SELECT 1')).rejects.toMatchObject({ code: '28P01' });
  });

  it('restarts the same cluster on the same port, keeping its data, and runs code while it is down', async () => {
    await query(server.url, 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');
    let downError: unknown;
    await server.restart({
      whileDown: async () => {
        downError = await query(server.url, 'SELECT 1').catch((error: unknown) => error);
      },
    });
    expect(downError).toMatchObject({ code: 'ECONNREFUSED' });
    expect(await query(server.url, 'SELECT n FROM kept')).toEqual([{ n: 42 }]);
  });
});

describe('stop', () => {
  it('stops the server and removes its folder, and can be called twice', async () => {
    const server = await startPostgres();
    await query(server.url, 'SELECT 1');
    await Promise.all([server.stop(), server.stop()]);
    expect(existsSync(server.dir)).toBe(false);
    await expect(query(server.url, 'SELECT 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(server.restart()).rejects.toThrow(/was stopped/);
  });
});

describe('bad states get a message that says what is wrong and what to do', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('binaries missing and not root', async () => {
    const error = await caught(startPostgres({ root: false, binDirs: ['/nonexistent/postgresql/bin'] }));
    expect(error.message).toContain('server binaries (initdb, pg_ctl, postgres) are not installed');
    expect(error.message).toContain('/nonexistent/postgresql/bin');
    expect(error.hint).toMatch(/apt-get install -y postgresql/);
  });

  it('root without the system user to run the binaries as', async () => {
    const error = await caught(startPostgres({ root: true, runAs: 'dw-no-such-user' }));
    expect(error.message).toContain(
      'PostgreSQL refuses to run as root, and there is no "dw-no-such-user" system user',
    );
  });

  it('a port in use', async () => {
    const busy = createNetServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => busy.close(resolve)));
    const port = (busy.address() as { port: number }).port;
    const error = await caught(startPostgres({ port }));
    expect(error.message).toContain(`Port ${port} on 127.0.0.1 is in use`);
    expect(error.message).toContain('PostgreSQL server cannot listen there');
  });

  it('initdb failing, with its last lines', async () => {
    const error = await caught(startPostgres({ initdbArgs: ['--encoding', 'NO-SUCH-ENCODING'] }));
    expect(error.message).toMatch(/^initdb failed \(exit 1\)/);
    expect(error.message).toContain('NO-SUCH-ENCODING');
  });

  it('a server that does not start, with the last lines of its log', async () => {
    const error = await caught(startPostgres({ settings: { shared_buffers: 'plenty' } }));
    expect(error.message).toMatch(/did not start on 127\.0\.0\.1:\d+/);
    expect(error.message).toContain('shared_buffers');
  });
});
