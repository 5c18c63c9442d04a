import { CoreError, type Logger } from '@docker-watcher/core';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import * as v from 'valibot';
import type { RouteContract, RouteInput, RouteOutput, RouteTable } from '../api/route.ts';
import type { ApiToken } from '../config/load.ts';
import { type AuthVariables, authorize } from './auth.ts';
import { errorBody, errorHandler, jsonBody, notFound, validate } from './errors.ts';
import type { IdempotencyCache } from './idempotency.ts';

export type AppEnv = { Variables: AuthVariables };
export type AppContext = Context<AppEnv>;

/** Answers a route's success as data (sent as JSON) or as a whole Response (streams, text, cookies). */
export type Handler<C extends RouteContract> = (
  c: AppContext,
  input: RouteInput<C>,
) => Promise<RouteOutput<C> | Response> | RouteOutput<C> | Response;

export type Handlers<T extends RouteTable> = { readonly [K in keyof T]: Handler<T[K]> };

export interface RegisterOptions<T extends RouteTable> {
  readonly tokens: readonly ApiToken[];
  readonly logger: Logger;
  /** Validates every JSON answer against its schema (tests): one outside it is a 500. */
  readonly checkResponses?: boolean;
  /** Replays the answer of a POST retried with the same `Idempotency-Key`. */
  readonly idempotency?: IdempotencyCache;
  /** Runs before the route's own checks (e.g. a body limit). */
  readonly middleware?: { readonly [K in keyof T]?: readonly MiddlewareHandler<AppEnv>[] };
  /** Routes whose handler reads the body itself (the schema still documents it). */
  readonly rawBody?: ReadonlySet<keyof T>;
}

/** `/api/projects/{id}` → `/api/projects/:id`. */
export const honoPath = (path: string): string => path.replace(/\{(\w+)\}/g, ':$1');

/**
 * Registers a handler for every route of a table: authorization by the route's scope, path
 * parameters (an unknown one is a 404), query and body validated by its schemas (a 400 naming the
 * field), idempotent retries of POSTs, then the handler; its data goes out as JSON with the route's
 * status. The table is the only list of routes: the OpenAPI document is generated from it.
 */
export function registerRoutes<T extends RouteTable>(
  app: Hono<AppEnv>,
  table: T,
  handlers: Handlers<T>,
  options: RegisterOptions<T>,
): void {
  for (const name of Object.keys(table) as Array<keyof T & string>) {
    const contract = table[name]!;
    const handler = handlers[name] as Handler<RouteContract>;
    const run = async (c: AppContext): Promise<Response> => {
      const caller = contract.scope ? authorize(c, options.tokens, contract.scope) : undefined;
      const params = contract.params ? pathParams(contract, c) : c.req.param();
      const query = contract.query ? validate(contract.query, c.req.query(), 'query') : {};
      const parse = async () =>
        contract.body && !options.rawBody?.has(name) ? await jsonBody(c, contract.body) : undefined;
      const answer = async () => {
        const result = await handler(c, { params, query, body: await parse() } as RouteInput<RouteContract>);
        if (result instanceof Response) return options.checkResponses ? checked(contract, result) : result;
        if (options.checkResponses) check(contract, result);
        return contract.produces === 'text/plain'
          ? c.text(String(result), status(contract))
          : c.json(result as object, status(contract));
      };
      const key = c.req.header('idempotency-key');
      if (contract.method === 'post' && caller && key !== undefined && options.idempotency)
        return options.idempotency.run(
          { caller: caller.name, key, method: 'POST', path: c.req.path, c },
          answer,
        );
      return answer();
    };
    const main = async (c: AppContext) => {
      try {
        return await run(c);
      } catch (error) {
        if (contract.errorShape !== 'registrywatcher') throw error;
        return registryWatcherError(c, error, options.logger);
      }
    };
    app.on(
      contract.method.toUpperCase(),
      [honoPath(contract.path)],
      ...(options.middleware?.[name] ?? []),
      main,
    );
  }
}

const status = (contract: RouteContract) => (contract.status ?? 200) as ContentfulStatusCode;

function pathParams(contract: RouteContract, c: AppContext): Record<string, unknown> {
  const raw = c.req.param() as Record<string, string>;
  const result = v.safeParse(contract.params!, raw);
  if (result.success) return result.output;
  const key = String(result.issues[0]?.path?.[0]?.key ?? '');
  throw notFound(key, raw[key] ?? '');
}

function check(contract: RouteContract, data: unknown): void {
  const result = v.safeParse(contract.response, data);
  if (result.success) return;
  const problems = result.issues.map(
    (issue) => `${(issue.path ?? []).map((item) => String(item.key)).join('.')}: ${issue.message}`,
  );
  throw new CoreError(
    'INTERNAL',
    `${contract.method.toUpperCase()} ${contract.path} answered outside its schema: ${problems.join('; ')}`,
  );
}

/** A Response a handler made: its JSON body is checked against the schema (success statuses only). */
async function checked(contract: RouteContract, response: Response): Promise<Response> {
  const json = /^application\/json/.test(response.headers.get('content-type') ?? '');
  if (!json || response.status >= 300) return response;
  check(contract, await response.clone().json());
  return response;
}

/** registrywatcher's errors: `{ message }`, with ours beside it. */
function registryWatcherError(c: AppContext, error: unknown, logger: Logger): Response | Promise<Response> {
  const body = (...args: Parameters<typeof errorBody>) => ({ message: args[1], ...errorBody(...args) });
  return errorHandler(logger, body)(error instanceof Error ? error : new Error(String(error)), c);
}
