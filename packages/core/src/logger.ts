import { isCoreError } from './errors.ts';

export const logLevels = ['debug', 'info', 'warn', 'error'] as const;

export type LogLevel = (typeof logLevels)[number];

export type LogFields = Readonly<Record<string, unknown>>;

/**
 * The logger every part of Docker Watcher is given. Silent unless one is injected; the server
 * bridges it to its own logger. `child()` scopes a logger with fields merged into every entry.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** The default everywhere: logs nothing. */
export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
});

export interface LogEntry {
  readonly level: LogLevel;
  readonly message: string;
  /** The child fields merged with the call's fields (the call's win). */
  readonly fields: LogFields;
}

export interface MemoryLogger extends Logger {
  /** Every entry of this logger and of all loggers sharing its root, oldest first. */
  readonly entries: readonly LogEntry[];
  child(fields: LogFields): MemoryLogger;
  /** Forgets all entries, also those of the loggers sharing its root. */
  clear(): void;
}

/** A test double that records entries instead of writing them; children share the parent's record. */
export function createMemoryLogger(): MemoryLogger {
  const entries: LogEntry[] = [];
  const scoped = (bindings: LogFields): MemoryLogger => {
    const record = (level: LogLevel) => (message: string, fields?: LogFields) => {
      entries.push({ level, message, fields: { ...bindings, ...fields } });
    };
    return {
      entries,
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
      child: (fields) => scoped({ ...bindings, ...fields }),
      clear: () => {
        entries.length = 0;
      },
    };
  };
  return scoped({});
}

const redacted = '[redacted]';

/**
 * Field names whose values are always redacted. Keys are compared ignoring case, `-` and `_`, and
 * match as a suffix, so `githubToken`, `NPM_PASSWORD` and `x-api-key` are caught too.
 */
export const defaultSecretKeys: readonly string[] = [
  'token',
  'password',
  'passwd',
  'passphrase',
  'secret',
  'authorization',
  'apiKey',
  'privateKey',
  'credentials',
  'cookie',
];

export interface RedactOptions {
  /** Secret values (tokens, passwords): masked wherever they appear, in messages and in fields. */
  secrets?: readonly string[];
  /** More field names whose values are redacted, compared like `defaultSecretKeys`. */
  keys?: readonly string[];
}

const normaliseKey = (key: string): string => key.toLowerCase().replace(/[-_]/g, '');

interface Redactor {
  text(value: string): string;
  fields(fields: LogFields): LogFields;
}

function createRedactor(options: RedactOptions): Redactor {
  const keys = [...defaultSecretKeys, ...(options.keys ?? [])].map(normaliseKey).filter((key) => key !== '');
  // Longest first, so that a secret containing a shorter one is not left half visible.
  const secrets = [...new Set(options.secrets ?? [])]
    .filter((secret) => secret !== '')
    .sort((a, b) => b.length - a.length);

  const isSecretKey = (key: string): boolean => {
    const normalised = normaliseKey(key);
    return keys.some((secretKey) => normalised.endsWith(secretKey));
  };

  const text = (value: string): string =>
    secrets.reduce((masked, secret) => masked.replaceAll(secret, redacted), value);

  const value = (input: unknown, seen: WeakSet<object>): unknown => {
    if (typeof input === 'string') return text(input);
    if (typeof input !== 'object' || input === null) return input;
    if (input instanceof URL) return text(input.href);
    if (seen.has(input)) return '[circular]';
    seen.add(input);
    try {
      if (input instanceof Error) {
        // Flattened so that the message, stack and details are redacted like any other field.
        const base = isCoreError(input) ? input.toJSON() : {};
        return object({ name: input.name, ...base, message: input.message, stack: input.stack }, seen);
      }
      if (Array.isArray(input)) return input.map((item) => value(item, seen));
      const prototype = Object.getPrototypeOf(input);
      if (prototype !== Object.prototype && prototype !== null) return input;
      return object(input as Record<string, unknown>, seen);
    } finally {
      seen.delete(input);
    }
  };

  const object = (
    input: Readonly<Record<string, unknown>>,
    seen: WeakSet<object>,
  ): Record<string, unknown> => {
    const output: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(input)) {
      // An absent secret is not a secret, and seeing that it is absent helps debugging.
      output[key] = item !== undefined && item !== null && isSecretKey(key) ? redacted : value(item, seen);
    }
    return output;
  };

  return { text, fields: (fields) => object(fields, new WeakSet()) };
}

function redactingLogger(inner: Logger, redactor: Redactor): Logger {
  const write = (level: LogLevel) => (message: string, fields?: LogFields) => {
    const text = redactor.text(message);
    if (fields === undefined) inner[level](text);
    else inner[level](text, redactor.fields(fields));
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (fields) => redactingLogger(inner.child(redactor.fields(fields)), redactor),
  };
}

/**
 * Wraps a logger so that secrets never reach it: fields named like secrets (at any depth) and every
 * occurrence of a given secret value, in messages and field strings, become `'[redacted]'`.
 * Children keep the redaction.
 */
export function createRedactingLogger(inner: Logger, options: RedactOptions = {}): Logger {
  return redactingLogger(inner, createRedactor(options));
}
