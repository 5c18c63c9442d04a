import { CoreError, type ErrorCode, isCoreError, toCoreError } from '@docker-watcher/core';

/** Primary SQLite result codes (https://sqlite.org/rescode.html) the store tells apart. */
const sqliteCodes = {
  SQLITE_PERM: 3,
  SQLITE_BUSY: 5,
  SQLITE_LOCKED: 6,
  SQLITE_READONLY: 8,
  SQLITE_IOERR: 10,
  SQLITE_CORRUPT: 11,
  SQLITE_FULL: 13,
  SQLITE_CANTOPEN: 14,
  SQLITE_CONSTRAINT: 19,
  SQLITE_AUTH: 23,
  SQLITE_NOTADB: 26,
} as const;

/** SQLITE_CONSTRAINT_CHECK, _NOTNULL and _DATATYPE: the caller's value does not fit, not a clash with a stored row. */
const badValueCodes: ReadonlySet<number> = new Set([275, 1299, 3091]);

export const sqliteBusy: number = sqliteCodes.SQLITE_BUSY;
export const sqliteLocked: number = sqliteCodes.SQLITE_LOCKED;

type SqliteCodeName = keyof typeof sqliteCodes;

const nameByCode = new Map<number, SqliteCodeName>(
  Object.entries(sqliteCodes).map(([name, code]) => [code, name as SqliteCodeName]),
);

/** The primary result code of an error thrown by node:sqlite, if it is one. */
export function sqliteCodeOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errcode } = error as { code?: unknown; errcode?: unknown };
  if (code !== 'ERR_SQLITE_ERROR' || typeof errcode !== 'number') return undefined;
  // Extended codes (SQLITE_BUSY_SNAPSHOT = 517…) keep the primary code in the low byte.
  return errcode & 0xff;
}

export interface ErrorFacts {
  readonly path: string;
  readonly operation: string;
  readonly busyTimeoutMs: number;
}

/** What the caller sees for each SQLite failure: a code, whether to retry, and a message naming the file. */
function describe(
  name: SqliteCodeName | undefined,
  extended: number,
  facts: ErrorFacts,
): { code: ErrorCode; retryable?: boolean; message: string } {
  const file = `SQLite store ${facts.path}`;
  switch (name) {
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return {
        code: 'UNAVAILABLE',
        message: `${file} is locked by another connection for longer than busyTimeoutMs (${facts.busyTimeoutMs} ms); nothing was written, try again`,
      };
    case 'SQLITE_CORRUPT':
    case 'SQLITE_NOTADB':
      return {
        code: 'INTERNAL',
        retryable: false,
        message: `${file} is not a SQLite database or is corrupt; it was left as it is: restore it from a backup or point the path elsewhere`,
      };
    case 'SQLITE_CANTOPEN':
      return {
        code: 'CONFIG_INVALID',
        message: `${file} cannot be opened: check that the path names a file in a writable folder`,
      };
    case 'SQLITE_READONLY':
    case 'SQLITE_PERM':
    case 'SQLITE_AUTH':
      return { code: 'FORBIDDEN', message: `${file} cannot be written: check its permissions` };
    case 'SQLITE_FULL':
      return { code: 'UNAVAILABLE', message: `${file} cannot grow: the disk is full` };
    case 'SQLITE_IOERR':
      return { code: 'UNAVAILABLE', message: `${file} failed to read or write the disk` };
    case 'SQLITE_CONSTRAINT':
      return badValueCodes.has(extended)
        ? { code: 'BAD_REQUEST', message: `${file} refused a value that is missing or of the wrong type` }
        : { code: 'CONFLICT', message: `${file} refused a write that breaks a uniqueness or reference rule` };
    default:
      return { code: 'INTERNAL', message: `${file} failed` };
  }
}

/** Maps anything thrown inside an operation onto a `CoreError`; CoreErrors pass unchanged. */
export function toStoreError(error: unknown, facts: ErrorFacts): CoreError {
  if (isCoreError(error)) return error;
  const primary = sqliteCodeOf(error);
  if (primary === undefined) return toCoreError(error);
  const name = nameByCode.get(primary);
  const { code, retryable, message } = describe(name, (error as { errcode: number }).errcode, facts);
  // The message is more precise than errstr ("NOT NULL constraint failed: t.c" vs "constraint failed").
  const reason = error instanceof Error ? error.message : String(error);
  return new CoreError(
    code,
    `${message} (${name ?? `SQLite code ${primary}`}: ${reason}; during ${facts.operation})`,
    {
      cause: error,
      ...(retryable === undefined ? {} : { retryable }),
      details: { path: facts.path, operation: facts.operation, sqliteCode: name ?? primary },
    },
  );
}
