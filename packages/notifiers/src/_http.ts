import {
  CoreError,
  codeFromHttpStatus,
  createHttpTransport,
  type ErrorCode,
  type HeaderReader,
  type HttpTransport,
  parseRetryAfter,
  responseJson,
  responseText,
} from '@docker-watcher/core';

/** Bytes of an answer read at most: services answer with a small JSON object or a word. */
const maxAnswerBytes = 64 * 1024;
const detailLength = 200;

export interface HttpRequest {
  readonly url: URL;
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH';
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as `application/json`. */
  readonly json?: unknown;
  /** Sent as it is, with `headers` saying what it is. */
  readonly body?: string;
}

export interface HttpAnswer {
  /** Host (and port) that answered, for messages: never the path or query, which may hold a token. */
  readonly host: string;
  readonly status: number;
  readonly headers: HeaderReader;
  /** The body as text, at most 64 KiB. */
  readonly text: string;
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  readonly json: unknown;
}

export interface HttpClientOptions {
  /** The notifier's id, for messages. */
  readonly id: string;
  readonly timeoutMs: number;
  /** Aborted when the notifier is disposed. */
  readonly lifetime: AbortSignal;
  /** Values masked wherever an answer is quoted (a service may echo the request back). */
  readonly secrets: readonly string[];
}

export interface HttpClient {
  /**
   * Sends one request (redirects are not followed: the body and credentials go to the configured
   * host only) and reads the answer; an answer cut short still has its status. A request that gets
   * no answer throws core's transport `CoreError`: `ABORTED` (the caller's signal), `TIMEOUT`, or
   * `UNAVAILABLE` (refused, reset, disposed).
   */
  request(
    request: HttpRequest,
    call: { readonly signal?: AbortSignal; readonly what: string },
  ): Promise<HttpAnswer>;
  /** The answer's text, flattened, truncated and with every secret masked: safe for a message. */
  detail(text: string): string;
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const secrets = [...new Set(options.secrets.filter((secret) => secret.length >= 4))].sort(
    (a, b) => b.length - a.length,
  );
  const mask = (text: string) => secrets.reduce((out, secret) => out.replaceAll(secret, '[redacted]'), text);
  const detail = (text: string): string => {
    // Secrets go before truncation, so no half secret survives.
    const flat = mask(text)
      .replace(/[\p{Cc}\p{Cf}]+/gu, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    return flat.length > detailLength ? `${flat.slice(0, detailLength)}…` : flat;
  };

  // One transport per host (a channel talks to one service): its errors name the host, never the
  // path or query, which may hold a token.
  const transports = new Map<string, HttpTransport>();
  const transportTo = (host: string): HttpTransport => {
    const known = transports.get(host);
    if (known) return known;
    const transport = createHttpTransport({
      identity: { id: options.id, url: host, details: { notifier: options.id, host } },
      timeoutMs: options.timeoutMs,
      lifetime: options.lifetime,
      userAgent: 'docker-watcher',
      redirects: 'refuse',
    });
    transports.set(host, transport);
    return transport;
  };

  const request: HttpClient['request'] = async (req, call) => {
    const host = req.url.host;
    const response = await transportTo(host).request({
      url: req.url,
      method: req.method ?? 'POST',
      ...(req.headers ? { headers: req.headers } : {}),
      ...(req.json === undefined ? {} : { json: req.json }),
      ...(req.body === undefined ? {} : { body: req.body }),
      ...(call.signal ? { signal: call.signal } : {}),
      maxBodyBytes: maxAnswerBytes,
      partialBody: true,
      what: call.what,
    });
    const text = responseText(response);
    return { host, status: response.status, headers: response.headers, text, json: responseJson(response) };
  };

  return { request, detail };
}

export interface AnswerFailure {
  readonly id: string;
  /** What was attempted, e.g. `deliver deploy:failed`. */
  readonly what: string;
  readonly answer: HttpAnswer;
  /** The service's own word for the failure (already safe: see `HttpClient.detail`). */
  readonly detail?: string;
  /** How long the service asked to wait, when it said so in its body rather than `Retry-After`. */
  readonly retryAfterMs?: number;
  /** A code the service's answer makes certain, instead of the status's. */
  readonly code?: ErrorCode;
  /** Whether a retry may help, when the code's default is wrong for this answer. */
  readonly retryable?: boolean;
}

/**
 * The `CoreError` of an answer that is not a success, classified as every channel's service
 * documents it: 429 waits (the service's delay, else backoff), 5xx and 408 retry, 400 and 413 are
 * payload bugs never resent, 401/403/404/410 are dead credentials or targets.
 */
export function answerError(failure: AnswerFailure): CoreError {
  const { id, what, answer } = failure;
  const { status } = answer;
  const retryAfterMs = failure.retryAfterMs ?? parseRetryAfter(answer.headers.get('retry-after'));
  const code: ErrorCode =
    failure.code ??
    (status === 413 ? 'BAD_REQUEST' : status === 410 ? 'NOT_FOUND' : codeFromHttpStatus(status));
  const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
  const retryable =
    failure.retryable ?? (code === 'RATE_LIMITED' || code === 'UNAVAILABLE' || code === 'TIMEOUT');
  return new CoreError(
    code,
    `${id} could not ${what}: ${answer.host} answered ${status}${failure.detail ? `: ${failure.detail}` : ''}${redirect}`,
    {
      details: {
        notifier: id,
        status,
        ...(failure.detail ? { answer: failure.detail } : {}),
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      },
      retryable,
      ...(retryable && retryAfterMs !== undefined ? { retryAfterMs } : {}),
    },
  );
}
