import { CoreError } from '@docker-watcher/core';
import { createFetch } from 'ofetch';
import * as v from 'valibot';
import { clip, type NomadFailureContext, networkReason, nomadStatusError, redact } from './_errors.ts';
import { createTlsFetch, type TlsMaterial } from './_tls-fetch.ts';

export interface NomadClientOptions {
  /** `http(s)://host:port`, without a trailing slash. */
  readonly address: string;
  readonly token?: string | undefined;
  readonly namespace?: string | undefined;
  readonly region?: string | undefined;
  /** PEM text (already read from files). */
  readonly tls?: TlsMaterial | undefined;
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
  readonly headers: Headers;
}

export interface NomadClient {
  request<S extends v.GenericSchema>(
    request: NomadRequest,
    schema: S,
  ): Promise<NomadResponse<v.InferOutput<S>>>;
  close(): void;
}

/** Nomad's HTTP API through ofetch: token header, namespace and region on every call, errors as CoreErrors. */
export function createNomadClient(options: NomadClientOptions): NomadClient {
  const useTls =
    options.address.startsWith('https:') &&
    options.tls !== undefined &&
    Object.values(options.tls).some((value) => value !== undefined);
  const tls = useTls ? createTlsFetch(options.tls ?? {}) : undefined;
  const $fetch = createFetch({ fetch: tls?.fetch ?? ((input, init) => globalThis.fetch(input, init)) });
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token !== undefined) headers['x-nomad-token'] = options.token;

  const context = (what: string): NomadFailureContext => ({
    target: options.target,
    address: options.address,
    what: redact(what, options.secrets),
    secrets: options.secrets,
  });

  const failure = (error: unknown, request: NomadRequest, timeout: AbortSignal, timeoutMs: number) => {
    const details = { target: options.target, address: options.address };
    const what = redact(request.what, options.secrets);
    if (request.signal?.aborted) {
      return new CoreError('ABORTED', `${what} was aborted`, { details });
    }
    if (options.lifetime.aborted) {
      return new CoreError('UNAVAILABLE', `${options.target} is disposed`, { details, retryable: false });
    }
    if (timeout.aborted) {
      return new CoreError(
        'TIMEOUT',
        `Nomad at ${options.address} did not answer within ${timeoutMs} ms (${what})`,
        { details: { ...details, timeoutMs } },
      );
    }
    // The cause is left out on purpose: ofetch's errors carry the request options, token header included.
    const reason = redact(networkReason(error), options.secrets);
    return new CoreError('UNAVAILABLE', `Nomad at ${options.address} is unreachable (${reason}) to ${what}`, {
      details: { ...details, reason },
    });
  };

  return {
    async request(request, schema) {
      const blocking = request.index !== undefined;
      const waitMs = request.waitMs ?? 0;
      // Nomad adds up to wait/16 of jitter to a blocking query.
      const timeoutMs = options.requestTimeoutMs + (blocking ? Math.ceil(waitMs * 1.07) : 0);
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = AbortSignal.any(
        [options.lifetime, timeout, request.signal].filter((item) => item !== undefined),
      );
      const query: Record<string, string | number | boolean> = {};
      const add = (entries: Readonly<Record<string, string | number | boolean | undefined>>) => {
        for (const [key, value] of Object.entries(entries)) if (value !== undefined) query[key] = value;
      };
      add({ namespace: options.namespace, region: options.region });
      add(request.query ?? {});
      if (blocking) add({ index: request.index, wait: `${Math.max(1, Math.round(waitMs))}ms` });
      let response: Awaited<ReturnType<typeof $fetch.raw<string, 'text'>>>;
      try {
        response = await $fetch.raw(request.path, {
          baseURL: options.address,
          method: request.method ?? 'GET',
          query,
          headers,
          ...(request.body === undefined ? {} : { body: request.body as Record<string, unknown> }),
          signal,
          retry: false,
          ignoreResponseError: true,
          responseType: 'text',
        });
      } catch (error) {
        throw failure(error, request, timeout, timeoutMs);
      }
      const text = typeof response._data === 'string' ? response._data : '';
      if (response.status >= 400) throw nomadStatusError(context(request.what), response.status, text);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new CoreError(
          'BAD_RESPONSE',
          `Nomad answered ${redact(request.what, options.secrets)} with something that is not JSON: ${clip(redact(text, options.secrets), 80)}`,
          { details: { target: options.target, status: response.status } },
        );
      }
      const parsed = v.safeParse(schema, json);
      if (!parsed.success) {
        const issue = parsed.issues[0];
        const path = (issue.path ?? []).map((item) => String(item.key)).join('.');
        throw new CoreError(
          'BAD_RESPONSE',
          `Nomad's answer to ${redact(request.what, options.secrets)} has an unexpected shape${path ? ` at ${path}` : ''}: ${issue.message}`,
          { details: { target: options.target, status: response.status } },
        );
      }
      const index = Number(response.headers.get('x-nomad-index') ?? '0');
      return {
        data: parsed.output,
        index: Number.isSafeInteger(index) && index >= 0 ? index : 0,
        headers: response.headers,
      };
    },
    close: () => tls?.close(),
  };
}
