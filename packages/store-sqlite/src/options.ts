import { decodeKey } from '@docker-watcher/core/store-kit';
import * as v from 'valibot';

const encryptionKey = v.pipe(
  v.string(),
  v.check((text) => decodeKey(text) !== undefined, 'Expected 32 bytes, as 64 hex characters or base64'),
);

export const sqliteStateStoreOptions = v.strictObject({
  path: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1),
      v.description(
        'Database file, relative to the working directory; its folder is created. `:memory:` keeps everything in memory (not durable).',
      ),
    ),
    './data/docker-watcher.db',
  ),
  busyTimeoutMs: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(0),
      v.description(
        'How long a write waits for another connection holding the write lock before failing with UNAVAILABLE. The wait blocks the event loop.',
      ),
    ),
    5_000,
  ),
  synchronous: v.optional(
    v.pipe(
      v.picklist(['normal', 'full']),
      v.description(
        '`normal`: a commit survives a crash of the process, the last commits may be lost on power loss. `full`: every commit is synced to disk.',
      ),
    ),
    'normal',
  ),
  integrityCheck: v.optional(
    v.pipe(
      v.picklist(['quick', 'header']),
      v.description(
        'At open, `quick` runs `PRAGMA quick_check`, which reads every page (about 0.25 s for 120 MB), so a damaged file is refused at once; `header` only checks that the file is a SQLite database with a known schema.',
      ),
    ),
    'quick',
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

export type SqliteStateStoreOptions = v.InferInput<typeof sqliteStateStoreOptions>;

/** Option names whose values are never echoed in errors or logs. */
export const sqliteStateStoreSecrets: readonly string[] = ['encryptionKey', 'previousKeys'];
