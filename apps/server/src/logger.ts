import { createRedactingLogger, type LogFields, type Logger, type LogLevel } from '@docker-watcher/core';
import { type DestinationStream, pino } from 'pino';

export interface ServerLoggerOptions {
  /** Lowest level written. Default `info`. */
  readonly level?: LogLevel;
  /** Secret values masked wherever they appear. */
  readonly secrets?: readonly string[];
  /** Where JSON lines go; stdout by default. */
  readonly destination?: DestinationStream;
}

/** The server's logger: pino JSON lines behind core's redaction, so secrets never reach the output. */
export function createServerLogger(options: ServerLoggerOptions = {}): Logger {
  const base = pino(
    { level: options.level ?? 'info', base: { service: 'docker-watcher' }, messageKey: 'message' },
    options.destination,
  );
  const bridge = (instance: pino.Logger): Logger => ({
    debug: (message: string, fields?: LogFields) => instance.debug(fields ?? {}, message),
    info: (message: string, fields?: LogFields) => instance.info(fields ?? {}, message),
    warn: (message: string, fields?: LogFields) => instance.warn(fields ?? {}, message),
    error: (message: string, fields?: LogFields) => instance.error(fields ?? {}, message),
    child: (fields: LogFields) => bridge(instance.child(fields)),
  });
  return createRedactingLogger(bridge(base), { secrets: options.secrets ?? [] });
}
