import {
  CoreError,
  codeFromHttpStatus,
  type ErrorCode,
  networkFailure,
  parseRetryAfter,
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
  readonly headers: Headers;
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
   * host only) and reads the answer. A request that gets no answer throws a `CoreError`: `ABORTED`
   * (the caller's signal), `TIMEOUT`, or `UNAVAILABLE` (refused, reset, disposed).
   */
  request(
    request: HttpRequest,
    call: { readonly signal?: AbortSignal; readonly what: string },
  ): Promise<HttpAnswer>;
  /** The answer's text, flattened, truncated and with every secret masked: safe for a message. */
  detail(text: string): string;
}

async function readText(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxAnswerBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // An answer cut short still has its status.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks).subarray(0, maxAnswerBytes));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
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

  const request: HttpClient['request'] = async (req, call) => {
    const { id, timeoutMs, lifetime } = options;
    const where = req.url.host;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([timeout, lifetime, ...(call.signal ? [call.signal] : [])]);
    const headers = new Headers(req.headers);
    headers.set('user-agent', 'docker-watcher');
    if (req.json !== undefined) headers.set('content-type', 'application/json');
    const body = req.json !== undefined ? JSON.stringify(req.json) : req.body;
    let response: Response;
    try {
      response = await fetch(req.url, {
        method: req.method ?? 'POST',
        headers,
        ...(body === undefined ? {} : { body }),
        signal,
        redirect: 'manual',
      });
    } catch (error) {
      if (call.signal?.aborted) {
        throw new CoreError('ABORTED', `${id}: ${call.what} was aborted`, { cause: call.signal.reason });
      }
      if (lifetime.aborted) throw new CoreError('UNAVAILABLE', `${id} is disposed`, { retryable: false });
      if (timeout.aborted) {
        throw new CoreError(
          'TIMEOUT',
          `${id} could not ${call.what}: ${where} gave no answer within ${timeoutMs} ms`,
          {
            details: { notifier: id, host: where, timeoutMs },
          },
        );
      }
      const code = networkFailure(error)?.code;
      const reason = code === undefined ? 'unreachable' : `unreachable (${code})`;
      throw new CoreError('UNAVAILABLE', `${id} could not ${call.what}: ${where} is ${reason}`, {
        details: { notifier: id, host: where, reason },
      });
    }
    const text = await readText(response);
    return { host: where, status: response.status, headers: response.headers, text, json: parseJson(text) };
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
