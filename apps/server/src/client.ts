// The typed client of the server's API, derived from the same route contracts the server registers:
// one method per route, inputs and answers typed by their valibot schemas. Browser-safe (fetch,
// TextDecoder and valibot only): the dashboard, the CLI and scripts use it alike.
import * as v from 'valibot';
import { type ApiRoutes, apiRoutes, type RouteName } from './api/index.ts';
import type { ErrorBody, FieldsSchema, RouteContract } from './api/route.ts';

export type { ResetMessage, StreamEvent, StreamEventType } from './api/events.ts';
export { resetMessageSchema, streamEventSchema, streamEventSchemas, streamEventTypes } from './api/events.ts';
export type { ErrorBody, RouteContract } from './api/route.ts';
export * from './api/schemas.ts';
export { type ApiRoutes, apiRoutes, type RouteName };

export interface ApiClientOptions {
  /** Where the server is, e.g. `http://127.0.0.1:8080`; the page's own origin when empty. */
  readonly baseUrl?: string;
  /** An API token, sent as `Authorization: Bearer …`. Without it the browser's session cookie counts. */
  readonly token?: string;
  /** The session's CSRF token (from login or `getSession`), sent with every POST. */
  readonly csrfToken?: string | (() => string | undefined);
  readonly fetch?: typeof fetch;
  /** Parse every answer with its schema (an answer outside it throws). Default false. */
  readonly validate?: boolean;
}

/** Options every call takes. */
export interface CallOptions {
  readonly signal?: AbortSignal;
  readonly headers?: Readonly<Record<string, string>>;
  /** A POST retried with the same key is answered once (`Idempotency-Key`). */
  readonly idempotencyKey?: string;
  /** For event streams: go on after this event id (`Last-Event-ID`). */
  readonly lastEventId?: string | number;
}

type QueryValue = string | number | boolean | readonly string[] | undefined;

type ParamsInput<C extends RouteContract> = C['params'] extends FieldsSchema
  ? { readonly params: { readonly [K in keyof v.InferInput<C['params']>]: string } }
  : unknown;
type QueryInput<C extends RouteContract> = C['query'] extends FieldsSchema
  ? { readonly query?: { readonly [K in keyof v.InferInput<C['query']>]?: QueryValue } }
  : unknown;
type BodyInput<C extends RouteContract> = C['body'] extends FieldsSchema
  ? Record<string, never> extends v.InferInput<C['body']>
    ? { readonly body?: v.InferInput<C['body']> }
    : { readonly body: v.InferInput<C['body']> }
  : unknown;

export type CallInput<C extends RouteContract> = ParamsInput<C> & QueryInput<C> & BodyInput<C> & CallOptions;

/** One message of an event stream: its type (`event`), id when it has one, and parsed data. */
export interface StreamMessage<T> {
  readonly event: string;
  readonly id?: string;
  readonly data: T;
}

export type CallOutput<C extends RouteContract> = C['produces'] extends 'text/event-stream'
  ? AsyncIterable<StreamMessage<v.InferOutput<C['response']>>>
  : Promise<v.InferOutput<C['response']>>;

type Args<C extends RouteContract> =
  Record<string, never> extends Omit<CallInput<C>, keyof CallOptions>
    ? [input?: CallInput<C>]
    : [input: CallInput<C>];

export type ApiClient = {
  readonly [K in RouteName]: (...args: Args<ApiRoutes[K]>) => CallOutput<ApiRoutes[K]>;
};

/** An answer that is not a success: the status, and the server's `{ error }` when it sent one. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code: string;
  readonly fields?: ErrorBody['error']['fields'];
  readonly notFound?: ErrorBody['error']['notFound'];

  constructor(status: number, body: Partial<ErrorBody> | undefined, fallback: string) {
    super(body?.error?.message ?? fallback);
    this.status = status;
    this.code = body?.error?.code ?? 'INTERNAL';
    if (body?.error?.fields) this.fields = body.error.fields;
    if (body?.error?.notFound) this.notFound = body.error.notFound;
  }
}

/** The path of a route with its parameters filled in, each encoded. */
export function routePath(contract: RouteContract, params: Readonly<Record<string, string>> = {}): string {
  return contract.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new TypeError(`${contract.path} needs the parameter ${name}`);
    return encodeURIComponent(value);
  });
}

function queryString(query: Readonly<Record<string, QueryValue>> | undefined): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    search.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/**
 * Server-sent events of a response body, as they arrive: comments are skipped, multi-line data is
 * joined, and the stream ends when the body does (or the signal aborts).
 */
export async function* readEventStream(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<{ event: string; id?: string; data: string }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let end = buffer.indexOf('\n\n');
      while (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        let event = 'message';
        let id: string | undefined;
        const data: string[] = [];
        for (const line of block.split('\n')) {
          const colon = line.indexOf(':');
          if (colon === 0) continue;
          const field = colon === -1 ? line : line.slice(0, colon);
          const text = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = text;
          else if (field === 'id') id = text;
          else if (field === 'data') data.push(text);
        }
        if (data.length > 0) yield { event, ...(id === undefined ? {} : { id }), data: data.join('\n') };
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** A client with one method per route of the server's API. */
export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const fetcher = options.fetch ?? globalThis.fetch.bind(globalThis);
  const base = (options.baseUrl ?? '').replace(/\/+$/, '');

  const send = async (contract: RouteContract, input: Record<string, unknown> = {}): Promise<Response> => {
    const call = input as CallOptions & {
      params?: Record<string, string>;
      query?: Record<string, QueryValue>;
      body?: unknown;
    };
    const headers: Record<string, string> = {
      accept: contract.produces ?? 'application/json',
      ...call.headers,
    };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (contract.method === 'post') {
      const csrf = typeof options.csrfToken === 'function' ? options.csrfToken() : options.csrfToken;
      if (csrf) headers['x-csrf-token'] = csrf;
      if (call.idempotencyKey !== undefined) headers['idempotency-key'] = call.idempotencyKey;
      headers['content-type'] = 'application/json';
    }
    if (call.lastEventId !== undefined) headers['last-event-id'] = String(call.lastEventId);
    const response = await fetcher(`${base}${routePath(contract, call.params)}${queryString(call.query)}`, {
      method: contract.method.toUpperCase(),
      headers,
      credentials: 'same-origin',
      ...(contract.method === 'post' ? { body: JSON.stringify(call.body ?? {}) } : {}),
      ...(call.signal ? { signal: call.signal } : {}),
    });
    if (response.ok) return response;
    const text = await response.text();
    let body: Partial<ErrorBody> | undefined;
    try {
      body = JSON.parse(text) as Partial<ErrorBody>;
    } catch {
      body = undefined;
    }
    throw new ApiError(
      response.status,
      body,
      `${contract.method.toUpperCase()} ${contract.path}: ${response.status}`,
    );
  };

  const parse = (contract: RouteContract, value: unknown) =>
    options.validate ? v.parse(contract.response, value) : value;

  const stream = (contract: RouteContract, input?: Record<string, unknown>) => ({
    async *[Symbol.asyncIterator]() {
      const response = await send(contract, input);
      for await (const message of readEventStream(response.body!))
        yield { ...message, data: parse(contract, JSON.parse(message.data)) };
    },
  });

  const call = (contract: RouteContract) => (input?: Record<string, unknown>) => {
    if (contract.produces === 'text/event-stream') return stream(contract, input);
    return send(contract, input).then(async (response) =>
      parse(contract, contract.produces === 'text/plain' ? await response.text() : await response.json()),
    );
  };

  return Object.fromEntries(
    (Object.keys(apiRoutes) as RouteName[]).map((name) => [name, call(apiRoutes[name])]),
  ) as unknown as ApiClient;
}
