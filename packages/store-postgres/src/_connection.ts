import pg from 'pg';

/** What the store needs of a connection: a pooled client, a plain one, or a wrapper of either. */
export interface Queryable {
  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

export interface ConnectionOptions {
  readonly url: string;
  readonly password?: string | undefined;
  readonly connectTimeoutMs: number;
  readonly queryTimeoutMs: number;
  readonly applicationName: string;
}

/** The URL as it may be shown: everything but the password. */
export function describeTarget(url: string): string {
  const parsed = new URL(url);
  const user = parsed.username ? `${decodeURIComponent(parsed.username)}@` : '';
  const socketHost = parsed.searchParams.get('host');
  const host = parsed.host || (socketHost ? `[${socketHost}]` : 'localhost');
  return `${parsed.protocol}//${user}${host}${parsed.pathname}`;
}

/** The password in effect, for scrubbing it from messages: the option's, else the URL's. */
export function passwordOf(options: Pick<ConnectionOptions, 'url' | 'password'>): string | undefined {
  if (options.password !== undefined) return options.password;
  const fromUrl = new URL(options.url).password;
  return fromUrl === '' ? undefined : decodeURIComponent(fromUrl);
}

// bigint columns (positions, sequence numbers, counts) as numbers: they stay far below 2^53.
const int8 = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === int8 && format !== 'binary'
      ? (text: string) => Number(text)
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/** Settings shared by the pool's connections and the LISTEN connection. */
export function clientConfig(options: ConnectionOptions): pg.ClientConfig {
  let connectionString = options.url;
  if (options.password !== undefined) {
    const url = new URL(options.url);
    url.password = encodeURIComponent(options.password);
    connectionString = url.toString();
  }
  return {
    connectionString,
    connectionTimeoutMillis: options.connectTimeoutMs,
    statement_timeout: options.queryTimeoutMs,
    // A transaction left open by a crashed call must not hold its locks for long.
    idle_in_transaction_session_timeout: Math.max(60_000, options.queryTimeoutMs * 2),
    fallback_application_name: options.applicationName,
    // A silent network partition shows as a broken connection within about a minute, not hours.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    types,
  };
}
