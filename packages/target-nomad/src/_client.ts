import {
  CoreError,
  createHttpTransport,
  type HeaderReader,
  type HttpResponse,
  type HttpTls,
  isCoreError,
  responseText,
} from '@docker-watcher/core';
import * as v from 'valibot';
import { clip, nomadStatusError, redact } from './_errors.ts';

/** The largest answer read from Nomad. */
const maxAnswerBytes = 64 * 1024 * 1024;

export interface NomadClientOptions {
  /** `http(s)://host:port`, without a trailing slash. */
  readonly address: string;
  readonly token?: string | undefined;
  readonly namespace?: string | undefined;
  readonly region?: string | undefined;
  /** PEM text (already read from files); used for an `https:` address only. */
  readonly tls?: HttpTls | undefined;
  readonly requestTimeoutMs: number;
  /** The adapter id, for errors. */
  readonly target: string;
  /** Values that never appear in errors. */
  readonly secrets: readonly string[];
  /** Aborted on dispose: in-flight requests end, later ones are refused. */
  readonly lifetime: AbortSignal;
}

export interface NomadRequest {
  readonly method?: 'GET' | 'POST' | 'DELETE';
  /** Path with its segments encoded already, e.g. `/v1/job/web-app`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
  /** Makes the GET a blocking query: it returns once Nomad's index passes this one, or after `waitMs`. */
  readonly index?: number;
  readonly waitMs?: number;
  readonly signal?: AbortSignal | undefined;
  /** What the request does, for errors: `read job web-app`. */
  readonly what: string;
}

export interface NomadResponse<T> {
  readonly data: T;
  /** `X-Nomad-Index`: pass it as `index` to block until something changes. */
  readonly index: number;
  readonly headers: HeaderReader;
}

export interface NomadClient {
  request<S extends v.GenericSchema>(
    request: NomadRequest,
    schema: S,
  ): Promise<NomadResponse<v.InferOutput<S>>>;
  close(): void;
}

type Query = Readonly<Record<string, string | number | boolean | undefined>>;

/** `address` + `path`, with the query's defined values (a path prefix of the address stays). */
function urlOf(address: string, path: string, queries: readonly Query[]): URL {
  const url = new URL(`${address}${path}`);
  for (const query of queries)
    for (const [key, value] of Object.entries(query))
      if (value !== undefined) url.searchParams.set(key, String(value));
  return url;
}

/**
 * Core's no-answer errors in the words the Nomad target's errors have always had:
 * `Nomad at <address> is unreachable (ECONNREFUSED) to <what>`, `… did not answer within …`.
 */
function inNomadWords(error: unknown, address: string, what: string, secrets: readonly string[]): unknown {
  if (!isCoreError(error)) return error;
  const { reason, timeoutMs } = error.details;
  const message =
    error.code === 'UNAVAILABLE' && typeof reason === 'string'
      ? `Nomad at ${address} is unreachable (${redact(reason, secrets)}) to ${what}`
      : error.code === 'TIMEOUT'
        ? `Nomad at ${address} did not answer within ${String(timeoutMs)} ms (${what})`
        : undefined;
  if (message === undefined) return error;
  return new CoreError(error.code, message, {
    details: error.details,
    retryable: error.retryable,
    cause: error.cause,
  });
}

/**
 * Nomad's HTTP API through core's transport: token header, namespace and region on every call,
 * errors as CoreErrors. Redirects are not followed: the token header would go with them.
 */
export function createNomadClient(options: NomadClientOptions): NomadClient {
  const { address, secrets, target } = options;
  const http = createHttpTransport({
    identity: { id: target, url: address, details: { target, address } },
    timeoutMs: options.requestTimeoutMs,
    lifetime: options.lifetime,
    redirects: 'refuse',
    userAgent: 'docker-watcher-target-nomad',
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  });
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token !== undefined) headers['x-nomad-token'] = options.token;
  const scope = { namespace: options.namespace, region: options.region };

  /** The answer's JSON in `schema`'s shape, or `BAD_RESPONSE`. */
  const parse = <S extends v.GenericSchema>(response: HttpResponse, what: string, schema: S) => {
    const details = { target, status: response.status };
    const text = responseText(response);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CoreError(
        'BAD_RESPONSE',
        `Nomad answered ${what} with something that is not JSON: ${clip(redact(text, secrets), 80)}`,
        { details },
      );
    }
    const parsed = v.safeParse(schema, json);
    if (parsed.success) return parsed.output as v.InferOutput<S>;
    const issue = parsed.issues[0];
    const path = (issue.path ?? []).map((item) => String(item.key)).join('.');
    throw new CoreError(
      'BAD_RESPONSE',
      `Nomad's answer to ${what} has an unexpected shape${path ? ` at ${path}` : ''}: ${issue.message}`,
      { details },
    );
  };

  return {
    async request(request, schema) {
      const what = redact(request.what, secrets);
      const blocking = request.index !== undefined;
      const waitMs = request.waitMs ?? 0;
      const wait = blocking ? { index: request.index, wait: `${Math.max(1, Math.round(waitMs))}ms` } : {};
      let response: HttpResponse;
      try {
        response = await http.request({
          method: request.method ?? 'GET',
          url: urlOf(address, request.path, [scope, request.query ?? {}, wait]),
          headers,
          ...(request.body === undefined ? {} : { json: request.body }),
          ...(request.signal === undefined ? {} : { signal: request.signal }),
          // Nomad adds up to wait/16 of jitter to a blocking query.
          timeoutMs: options.requestTimeoutMs + (blocking ? Math.ceil(waitMs * 1.07) : 0),
          // A large cluster's job and allocation lists run to megabytes: bounded, but well above 8 MiB.
          maxBodyBytes: maxAnswerBytes,
          what,
        });
      } catch (error) {
        throw inNomadWords(error, address, what, secrets);
      }
      if (response.status >= 300)
        throw nomadStatusError({ target, address, what, secrets }, response.status, responseText(response));
      const index = Number(response.headers.get('x-nomad-index') ?? '0');
      return {
        data: parse(response, what, schema),
        index: Number.isSafeInteger(index) && index >= 0 ? index : 0,
        headers: response.headers,
      };
    },
    close: () => http.close(),
  };
}
