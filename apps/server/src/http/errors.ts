import { CoreError, type ErrorCode, httpStatusOf, isCoreError, type Logger } from '@docker-watcher/core';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import * as v from 'valibot';

export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

/** A 400 that lists which fields were wrong. */
export function fieldError(problems: FieldProblem[], message = 'Invalid request'): CoreError {
  return new CoreError('BAD_REQUEST', message, { details: { fields: problems } });
}

export function validate<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
  what: string,
): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  throw fieldError(
    result.issues.map((issue) => ({
      path: (issue.path ?? []).map((item) => String(item.key)).join('.'),
      message: issue.message,
    })),
    `Invalid ${what}`,
  );
}

/** The JSON body, `{}` when empty; anything that is not a JSON object is a 400. */
export async function jsonBody<S extends v.GenericSchema>(c: Context, schema: S): Promise<v.InferOutput<S>> {
  const text = await c.req.text();
  let value: unknown = {};
  if (text.trim() !== '') {
    try {
      value = JSON.parse(text);
    } catch {
      throw fieldError([{ path: '', message: 'the body is not valid JSON' }], 'Invalid request body');
    }
  }
  return validate(schema, value, 'request body');
}

/** A 404 naming what was not found; the name goes back as data (`notFound`), quoted in the message. */
export function notFound(kind: string, name: string, within?: string): CoreError {
  return new CoreError('NOT_FOUND', `No ${kind} ${JSON.stringify(name)}${within ? ` in ${within}` : ''}`, {
    details: { notFound: { kind, name } },
  });
}

export interface ErrorExtras {
  readonly fields?: unknown;
  readonly notFound?: unknown;
}

export function errorBody(code: ErrorCode, message: string, extras: ErrorExtras = {}) {
  return {
    error: {
      code,
      message,
      ...(extras.fields === undefined ? {} : { fields: extras.fields }),
      ...(extras.notFound === undefined ? {} : { notFound: extras.notFound }),
    },
  };
}

/**
 * Every error as `{ error: { code, message } }` (or what `body` makes of it) with the code's status:
 * never a stack or a cause.
 */
export function errorHandler(logger: Logger, body: typeof errorBody = errorBody) {
  return (error: Error, c: Context) => {
    if (isCoreError(error)) {
      const status = httpStatusOf(error.code) as ContentfulStatusCode;
      if (error.code === 'UNAUTHORIZED') c.header('WWW-Authenticate', 'Bearer realm="docker-watcher"');
      if (error.retryAfterMs !== undefined)
        c.header('Retry-After', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
      const { fields, notFound } = error.details as ErrorExtras;
      return c.json(body(error.code, error.message, { fields, notFound }), status);
    }
    logger.error('request failed', { method: c.req.method, path: c.req.path, error: String(error) });
    return c.json(body('INTERNAL', 'Internal error'), 500);
  };
}
