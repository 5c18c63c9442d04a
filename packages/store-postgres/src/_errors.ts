import { CoreError, type ErrorCode, isCoreError, networkFailure, toCoreError } from '@docker-watcher/core';

export interface ErrorFacts {
  /** The URL without its password, e.g. `postgres://app@db:5432/docker_watcher`. */
  readonly target: string;
  readonly schema: string;
  readonly operation: string;
  readonly connectTimeoutMs: number;
  readonly queryTimeoutMs: number;
  /** Scrubbed from every message, should a driver ever quote it. */
  readonly password?: string | undefined;
}

interface Mapping {
  readonly code: ErrorCode;
  readonly retryable?: boolean;
  readonly message: string;
}

/** What node-postgres and its pool throw, without a code, when a connection breaks or never comes. */
const brokenConnection =
  /Connection terminated|not queryable|Connection ended|Cannot use a pool after calling end/;

/** The SQLSTATE (`28P01`) of a server error, or undefined for anything else. */
export function sqlStateOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code } = error as { code?: unknown };
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** The socket, DNS or TLS code (`ECONNREFUSED`) behind a failure, never a SQLSTATE. */
function errnoOf(error: unknown): string | undefined {
  const failure = networkFailure(error);
  if (failure === undefined) return undefined;
  return failure.reason !== 'other' || /^E[A-Z_]+$/.test(failure.code) ? failure.code : undefined;
}

/** Whether the server is not there (yet): a socket or DNS failure, not a TLS one. */
function unreachable(error: unknown): boolean {
  const reason = networkFailure(error)?.reason;
  return reason !== undefined && reason !== 'other' && reason !== 'tls';
}

function describeSqlState(state: string, facts: ErrorFacts): Mapping {
  const klass = state.slice(0, 2);
  if (state === '28P01' || state === '28000')
    return {
      code: 'UNAUTHORIZED',
      message:
        "refused the credentials: check the role and its password (the URL's, the password option or PGPASSWORD)",
    };
  if (state === '3D000') return { code: 'CONFIG_INVALID', message: 'names a database that does not exist' };
  if (state === '42501')
    return {
      code: 'FORBIDDEN',
      message: 'refused the role a privilege it needs (to create the schema and its tables, or to use them)',
    };
  if (klass === '08' || state === '57P01' || state === '57P02' || state === '57P03')
    return {
      code: 'UNAVAILABLE',
      message:
        'lost or could not open its connection (the server is down, restarting or failing over); try again',
    };
  if (klass === '53')
    return { code: 'UNAVAILABLE', message: 'is out of resources (connections, memory or disk); try again' };
  if (state === '40001' || state === '40P01' || state === '55P03')
    return {
      code: 'UNAVAILABLE',
      message: 'was held up by a concurrent transaction; nothing was written, try again',
    };
  if (state === '25006')
    return { code: 'UNAVAILABLE', message: 'is read-only (a standby, or a failover in progress); try again' };
  if (state === '57014')
    return {
      code: 'TIMEOUT',
      message: `ran a statement longer than queryTimeoutMs (${facts.queryTimeoutMs} ms); nothing was written`,
    };
  if (state === '23505' || state === '23503' || state === '23P01')
    return { code: 'CONFLICT', message: 'refused a write that breaks a uniqueness or reference rule' };
  if (state === '23502' || state === '23514' || klass === '22' || state === '54000')
    return {
      code: 'BAD_REQUEST',
      message: 'refused a value that is missing, of the wrong type or not storable (e.g. a NUL character)',
    };
  if (state === 'XX001' || state === 'XX002')
    return { code: 'INTERNAL', retryable: false, message: 'reports corrupted data: restore from a backup' };
  return { code: 'INTERNAL', message: 'failed' };
}

function describe(error: unknown, facts: ErrorFacts): Mapping & { readonly sqlState?: string } {
  const state = sqlStateOf(error);
  if (state !== undefined) return { ...describeSqlState(state, facts), sqlState: state };
  const text = error instanceof Error ? error.message : String(error);
  if (/connection timeout|timeout exceeded when trying to connect/.test(text)) {
    return {
      code: 'UNAVAILABLE',
      message: `gave no connection within connectTimeoutMs (${facts.connectTimeoutMs} ms); try again`,
    };
  }
  if (unreachable(error) || brokenConnection.test(text)) {
    return {
      code: 'UNAVAILABLE',
      message:
        'cannot be reached or lost its connection (the server is down, restarting or unreachable); try again',
    };
  }
  if (/Query read timeout/.test(text))
    return {
      code: 'TIMEOUT',
      message: `did not answer a statement within queryTimeoutMs (${facts.queryTimeoutMs} ms)`,
    };
  if (/^SASL|password must be a string/.test(text))
    return {
      code: 'UNAUTHORIZED',
      message:
        "asks for a password that was not given or could not be used (the URL's, the password option or PGPASSWORD)",
    };
  if (
    networkFailure(error)?.reason === 'tls' ||
    /does not support SSL|self[- ]signed|certificate|ERR_TLS/i.test(text)
  )
    return {
      code: 'CONFIG_INVALID',
      message: 'failed the TLS handshake: check sslmode and the certificates',
    };
  return { code: 'INTERNAL', message: 'failed' };
}

/** Removes the password wherever a text might carry it. */
export function redact(text: string, password: string | undefined): string {
  if (!password) return text;
  return text.split(password).join('***').split(encodeURIComponent(password)).join('***');
}

/** Maps anything thrown inside an operation onto a `CoreError`; CoreErrors pass unchanged. */
export function toStoreError(error: unknown, facts: ErrorFacts): CoreError {
  if (isCoreError(error)) return error;
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError'))
    return toCoreError(error);
  const { code, retryable, message, sqlState } = describe(error, facts);
  const reason = redact(error instanceof Error ? error.message : String(error), facts.password);
  const cause = sqlState === undefined ? reason : `${sqlState} ${reason}`;
  return new CoreError(
    code,
    `PostgreSQL store ${facts.target} (schema ${facts.schema}) ${message} (${cause}; during ${facts.operation})`,
    {
      cause: error,
      ...(retryable === undefined ? {} : { retryable }),
      details: {
        target: facts.target,
        schema: facts.schema,
        operation: facts.operation,
        ...(sqlState === undefined ? {} : { sqlState }),
        ...(errnoOf(error) === undefined ? {} : { errno: errnoOf(error) }),
      },
    },
  );
}

/** Whether a failure means the connection it happened on cannot be used again. */
export function breaksConnection(error: CoreError): boolean {
  return error.code === 'UNAVAILABLE' || error.code === 'TIMEOUT' || error.code === 'INTERNAL';
}
