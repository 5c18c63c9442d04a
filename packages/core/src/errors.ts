/** The closed set of failure codes every adapter maps its backend's failures onto. */
export const errorCodes = [
  'NOT_FOUND',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'CONFLICT',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'TIMEOUT',
  'ABORTED',
  'BAD_RESPONSE',
  'BAD_REQUEST',
  'CONFIG_INVALID',
  'INVALID_TRANSITION',
  'UNSUPPORTED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/** Codes that are worth another try after a pause. */
const retryableCodes: ReadonlySet<ErrorCode> = new Set(['RATE_LIMITED', 'UNAVAILABLE', 'TIMEOUT']);

const brand = Symbol.for('docker-watcher.core-error');

export interface CoreErrorOptions {
  /** Structured, secret-free facts about the failure (status, registry id, field path…). */
  details?: Record<string, unknown>;
  cause?: unknown;
  /** Overrides the code's default. */
  retryable?: boolean;
  /** For `RATE_LIMITED`: how long the backend asked us to wait. */
  retryAfterMs?: number;
}

export class CoreError extends Error {
  override readonly name = 'CoreError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>>;
  readonly retryAfterMs: number | undefined;
  readonly [brand] = true;

  constructor(code: ErrorCode, message: string, options: CoreErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? retryableCodes.has(code);
    this.details = Object.freeze({ ...options.details });
    this.retryAfterMs = options.retryAfterMs;
  }

  /** A serialisable view for logs, events and API responses: never the cause's stack or body. */
  toJSON(): { code: ErrorCode; message: string; retryable: boolean; details: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      details: { ...this.details },
    };
  }
}

/**
 * Brand check instead of `instanceof`: works across duplicated copies of core in one process.
 * With a code, also checks the code.
 */
export function isCoreError(value: unknown, code?: ErrorCode): value is CoreError {
  if (typeof value !== 'object' || value === null || !(brand in value)) return false;
  return code === undefined || (value as CoreError).code === code;
}

/** Wraps anything thrown into a CoreError, keeping CoreErrors as they are. */
export function toCoreError(value: unknown, fallback: ErrorCode = 'INTERNAL'): CoreError {
  if (isCoreError(value)) return value;
  if (value instanceof Error && value.name === 'AbortError') {
    return new CoreError('ABORTED', 'The operation was aborted', { cause: value });
  }
  if (value instanceof Error && value.name === 'TimeoutError') {
    return new CoreError('TIMEOUT', 'The operation timed out', { cause: value });
  }
  const message = value instanceof Error ? value.message : String(value);
  return new CoreError(fallback, message, { cause: value });
}

/** The HTTP status an API answers with for each code. */
const statusByCode: Record<ErrorCode, number> = {
  NOT_FOUND: 404,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
  ABORTED: 499,
  BAD_RESPONSE: 502,
  BAD_REQUEST: 400,
  CONFIG_INVALID: 400,
  INVALID_TRANSITION: 409,
  UNSUPPORTED: 501,
  INTERNAL: 500,
};

export function httpStatusOf(code: ErrorCode): number {
  return statusByCode[code];
}

/**
 * Maps a backend's HTTP status onto a code. Adapters call this for statuses they have no more
 * specific knowledge of.
 */
export function codeFromHttpStatus(status: number): ErrorCode {
  if (status === 400 || status === 422) return 'BAD_REQUEST';
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409 || status === 412) return 'CONFLICT';
  if (status === 408 || status === 504) return 'TIMEOUT';
  if (status === 429) return 'RATE_LIMITED';
  if (status === 501) return 'UNSUPPORTED';
  if (status >= 500) return 'UNAVAILABLE';
  return 'BAD_RESPONSE';
}

/** Parses a `Retry-After` header (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Throws `ABORTED` when the signal has fired; call at the start of every adapter operation. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new CoreError('ABORTED', 'The operation was aborted', { cause: signal.reason });
  }
}
