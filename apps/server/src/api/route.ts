// What a route of the API is, as data: method, path, scope, and the valibot schemas of what it takes
// and answers. The server registers handlers for these, the OpenAPI document is generated from them,
// and the typed client calls them. Browser-safe: valibot only.
import * as v from 'valibot';

export type Scope = 'read' | 'deploy' | 'admin';

/** Schemas of path parameters, queries and JSON bodies: objects of named fields. */
export type FieldsSchema = v.GenericSchema<Record<string, unknown>, Record<string, unknown>>;

export interface RouteContract {
  readonly method: 'get' | 'post';
  /** OpenAPI style: `/api/projects/{id}`. */
  readonly path: string;
  readonly summary: string;
  /** The scope a token or session needs; `null` for routes anyone may call (they guard themselves). */
  readonly scope: Scope | null;
  /** Authenticated by the dashboard's session cookie only (the login's own routes). */
  readonly session?: boolean;
  readonly params?: FieldsSchema;
  readonly query?: FieldsSchema;
  readonly body?: FieldsSchema;
  /** What a success answers (the `data` of each event for an event stream). */
  readonly response: v.GenericSchema;
  /** Success status; 200 by default. */
  readonly status?: 200 | 202;
  /** Media type of a success; JSON by default. */
  readonly produces?: 'application/json' | 'text/event-stream' | 'text/plain';
  /** Request headers the route reads, with what they do. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Error answers the route has besides those every route of its kind has. */
  readonly errors?: Readonly<Record<string, string>>;
  /** Errors are `{ message }` besides `{ error }` (registrywatcher's routes). */
  readonly errorShape?: 'registrywatcher';
}

/** Keeps a contract's literal types, so that handlers and the client see its exact schemas. */
export const defineRoute = <const C extends RouteContract>(contract: C): C => contract;

export type RouteTable = Readonly<Record<string, RouteContract>>;

type Inferred<S, Fallback> = S extends v.GenericSchema ? v.InferOutput<S> : Fallback;

/** What a handler gets: path parameters, query and body, validated. */
export interface RouteInput<C extends RouteContract> {
  readonly params: Inferred<C['params'], Record<string, string>>;
  readonly query: Inferred<C['query'], Record<string, never>>;
  readonly body: Inferred<C['body'], undefined>;
}

/** What a success answers, as the client reads it. */
export type RouteOutput<C extends RouteContract> = v.InferOutput<C['response']>;

/** Path parameters of `/api/projects/{id}/stages/{stage}`. */
export const stageParams = v.object({
  id: v.pipe(v.string(), v.description('The project')),
  stage: v.pipe(v.string(), v.description('A stage of the project')),
});

export const projectParams = v.object({ id: v.pipe(v.string(), v.description('The project')) });

export const idParams = v.object({ id: v.string() });

/** A query parameter given as a whole number within bounds; the message names the bounds. */
export const wholeNumber = (min: number, max: number, description: string) =>
  v.pipe(
    v.string(),
    v.description(description),
    v.regex(/^\d{1,15}$/, `must be a whole number from ${min} to ${max}`),
    v.transform(Number),
    v.number(),
    v.minValue(min, `must be a whole number from ${min} to ${max}`),
    v.maxValue(max, `must be a whole number from ${min} to ${max}`),
  );

/** A query parameter given as an ISO 8601 time. */
export const isoTime = (description: string) =>
  v.pipe(
    v.string(),
    v.description(description),
    v.isoTimestamp('must be an ISO 8601 time such as 2026-01-02T03:04:05Z'),
    v.transform((text) => new Date(text).toISOString()),
    v.string(),
  );

/** `{ "error": { code, message, fields?, notFound? } }`: how every route answers an error. */
export const errorSchema = v.object({
  error: v.object({
    code: v.string(),
    message: v.string(),
    fields: v.optional(v.pipe(v.array(v.object({ path: v.string(), message: v.string() })), v.readonly())),
    notFound: v.optional(
      v.pipe(
        v.object({ kind: v.string(), name: v.string() }),
        v.description('What was not found, with its name exactly as the request gave it.'),
      ),
    ),
  }),
});

export type ErrorBody = v.InferOutput<typeof errorSchema>;
