import { decodeKey } from '@docker-watcher/core/store-kit';
import * as v from 'valibot';

const encryptionKey = v.pipe(
  v.string(),
  v.check((text) => decodeKey(text) !== undefined, 'Expected 32 bytes, as 64 hex characters or base64'),
);

const isPostgresUrl = (text: string): boolean => {
  if (!URL.canParse(text)) return false;
  const { protocol } = new URL(text);
  return protocol === 'postgres:' || protocol === 'postgresql:';
};

const milliseconds = (description: string, fallback: number, min = 1) =>
  v.optional(v.pipe(v.number(), v.integer(), v.minValue(min), v.description(description)), fallback);

export const postgresStateStoreOptions = v.strictObject({
  url: v.pipe(
    v.string(),
    v.check(isPostgresUrl, 'Expected a postgres:// or postgresql:// URL'),
    v.description(
      'Connection URL, `postgres://user[:password]@host[:port]/database[?sslmode=…]`. Secret: it may hold the password.',
    ),
  ),
  password: v.optional(
    v.pipe(
      v.string(),
      v.description(
        "Replaces the URL's password, so the URL can sit in a config file and the password in an environment variable. Without either, node-postgres reads PGPASSWORD.",
      ),
    ),
  ),
  schema: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[a-z_][a-z0-9_]{0,62}$/, 'Expected a lower-case SQL identifier (a-z, 0-9, _; at most 63)'),
      v.description(
        'Schema holding the tables; created at open when missing. Several installations can share one database with one schema each.',
      ),
    ),
    'docker_watcher',
  ),
  poolSize: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.description('Most connections the pool opens; the change feed uses one more while someone listens.'),
    ),
    10,
  ),
  connectTimeoutMs: milliseconds(
    'How long opening a connection (or waiting for a free one) may take before the call fails with UNAVAILABLE.',
    5_000,
  ),
  queryTimeoutMs: milliseconds(
    "A statement running longer is cancelled by the server (statement_timeout) and the call fails with TIMEOUT; nothing of the call's writes is kept.",
    30_000,
  ),
  historyLimit: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.description('Successful releases kept per stage, newest first.'),
    ),
    50,
  ),
  leaseMarginMs: milliseconds(
    "Subtracted from the `expiresAt` a lease holder is given. `expiresAt` is already on the process's own clock (the call's start plus ttl, never later than the database's expiry); a margin also covers a holder that is paused between checking it and acting.",
    0,
    0,
  ),
  listenRetryMaxMs: milliseconds(
    'Longest pause between attempts to reconnect the LISTEN connection of onChange(); the first is 100 ms, doubling up to this.',
    5_000,
    100,
  ),
  encryptionKey: v.optional(
    v.pipe(
      encryptionKey,
      v.description(
        'AES-256-GCM key for secrets at rest (32 bytes, hex or base64), e.g. from an environment variable. Needed by putSecret and rotateSecrets.',
      ),
    ),
  ),
  previousKeys: v.optional(
    v.pipe(
      v.array(encryptionKey),
      v.description(
        'Earlier encryption keys: secrets encrypted with them stay readable until rotateSecrets().',
      ),
    ),
    [],
  ),
});

export type PostgresStateStoreOptions = v.InferInput<typeof postgresStateStoreOptions>;

/** Option names whose values are never echoed in errors or logs. */
export const postgresStateStoreSecrets: readonly string[] = [
  'url',
  'password',
  'encryptionKey',
  'previousKeys',
];
