/**
 * The CLI's door to a running server's API: the typed client (`client.ts`), every answer parsed by
 * the schema the server answers with, and every failure a `CliError` that says what to check.
 */
import { networkFailure } from '@docker-watcher/core';
import * as v from 'valibot';
import {
  type ApiClient,
  ApiError,
  apiRoutes,
  createApiClient,
  type RouteContract,
  type RouteName,
  routePath,
} from './client.ts';

/** A failure the CLI reports: a code (as the API's), a message for people, an exit code. */
export class CliError extends Error {
  readonly code: string;
  readonly exitCode: number;
  /** Said as it is, without its code in front (usage errors, a refused password). */
  readonly plain: boolean;
  /** The server could not be reached or failed (5xx): asking again may help. */
  readonly transient: boolean;
  constructor(
    code: string,
    message: string,
    exitCode = 1,
    options: { plain?: boolean; transient?: boolean } = {},
  ) {
    super(message);
    this.code = code;
    this.exitCode = exitCode;
    this.plain = options.plain ?? exitCode === 2;
    this.transient = options.transient ?? false;
  }
}

/** A running server: where it is, the token, and one method per route of its API. */
export interface ServerApi {
  readonly base: string;
  readonly token: string | undefined;
  /** The typed client; its calls fail only with a `CliError`. */
  readonly call: ApiClient;
}

export function unreachable(base: string, error: unknown): CliError {
  const code = networkFailure(error)?.code;
  return new CliError(
    'UNAVAILABLE',
    `cannot reach the server at ${base}${code ? ` (${code})` : ''}: is \`docker-watcher serve\` running there? Check --url or DOCKER_WATCHER_URL`,
    1,
    { transient: true },
  );
}

/** An error answer of the API as a `CliError`, with what to do about 401 and 403. */
function answerError(base: string, token: string | undefined, error: ApiError): CliError {
  if (error.status === 401)
    return new CliError(
      'UNAUTHORIZED',
      token
        ? `the server at ${base} refused the token (401): check --token or DOCKER_WATCHER_TOKEN`
        : `the server at ${base} needs a token (401): pass --token or set DOCKER_WATCHER_TOKEN`,
    );
  if (error.status === 403)
    return new CliError('FORBIDDEN', `${error.message} (403): use a token with the needed scope`);
  return new CliError(error.code, error.message, 1, { transient: error.status >= 500 });
}

type Issue = v.BaseIssue<unknown>;

/**
 * The innermost issue and its whole path: a union's issue (a log stream's message) holds one issue per
 * option, each with a path relative to the union.
 */
function innermost(issue: Issue): { path: string; message: string } {
  const here = v.getDotPath(issue);
  const inner = issue.issues?.[0];
  if (!inner) return { path: here ?? '', message: issue.message };
  const deeper = innermost(inner);
  return { path: [here, deeper.path].filter(Boolean).join('.'), message: deeper.message };
}

/** An answer outside its route's schema: what was asked, and the first field that is wrong. */
function badAnswer(
  base: string,
  asked: string,
  error: v.ValiError<v.GenericSchema | v.GenericSchemaAsync>,
): CliError {
  const [first, ...rest] = error.issues;
  const wrong = first ? innermost(first) : { path: '', message: error.message };
  return new CliError(
    'BAD_RESPONSE',
    `the server at ${base} answered ${asked} outside its schema: ${wrong.path || 'the answer itself'}: ${wrong.message}${rest.length > 0 ? ` (and ${rest.length} more)` : ''}. Is it Docker Watcher, of the same version as this CLI?`,
  );
}

/** What a call asked, for messages: `GET /api/projects/web-app`. */
function askedOf(contract: RouteContract, input: unknown): string {
  const params = (input as { params?: Record<string, string> } | undefined)?.params;
  let path: string;
  try {
    path = routePath(contract, params);
  } catch {
    path = contract.path;
  }
  return `${contract.method.toUpperCase()} ${path}`;
}

function cliErrorOf(base: string, token: string | undefined, asked: string, error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof ApiError) return answerError(base, token, error);
  if (v.isValiError(error)) return badAnswer(base, asked, error);
  if (error instanceof SyntaxError)
    return new CliError(
      'BAD_RESPONSE',
      `the server at ${base} answered ${asked} with something that is not JSON: is it Docker Watcher?`,
    );
  return unreachable(base, error);
}

/** The typed client of the server at `base`, every answer validated and every failure a `CliError`. */
export function serverApi(base: string, token: string | undefined): ServerApi {
  const root = base.replace(/\/+$/, '');
  const fetcher: typeof fetch = (input, init) =>
    fetch(input, init).catch((error: unknown) => {
      throw unreachable(root, error);
    });
  const typed = createApiClient({ baseUrl: root, token, fetch: fetcher, validate: true });
  const guard = (name: RouteName) => {
    const contract: RouteContract = apiRoutes[name];
    const method = typed[name] as (input?: unknown) => Promise<unknown> | AsyncIterable<unknown>;
    const fail = (input: unknown, error: unknown) => cliErrorOf(root, token, askedOf(contract, input), error);
    if (contract.produces === 'text/event-stream')
      return (input?: unknown) => ({
        async *[Symbol.asyncIterator]() {
          try {
            yield* method(input) as AsyncIterable<unknown>;
          } catch (error) {
            throw fail(input, error);
          }
        },
      });
    return (input?: unknown) =>
      (method(input) as Promise<unknown>).catch((error: unknown) => {
        throw fail(input, error);
      });
  };
  const call = Object.fromEntries(
    (Object.keys(apiRoutes) as RouteName[]).map((name) => [name, guard(name)]),
  ) as unknown as ApiClient;
  return { base: root, token, call };
}
