import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type * as v from 'valibot';
import { type AdapterContext, adapterId, instantiate, onceDisposer } from '../contracts/adapter.ts';
import {
  defineNotifier,
  type NotifiableEventName,
  type NotificationEvent,
  type Notifier,
} from '../contracts/notifier.ts';
import { CoreError, codeFromHttpStatus, parseRetryAfter, throwIfAborted } from '../errors.ts';
import { createHttpTransport, responseText } from '../http/transport.ts';
import { createRedactingLogger, silentLogger } from '../logger.ts';
import { type WebhookNotifierOptions, webhookNotifierOptions } from './webhook-notifier-options.ts';

/** The headers of every webhook delivery, as sent. */
export const webhookHeaders = {
  /** `sha256=<hex>`: HMAC-SHA256 of the exact body bytes with the `secret` option; absent without a secret. */
  signature: 'X-Docker-Watcher-Signature',
  /** A UUID per `notify` call (a retry is a new delivery), also the body's `delivery`. */
  delivery: 'X-Docker-Watcher-Delivery',
  /** The event's `type`, e.g. `deploy:failed`. */
  event: 'X-Docker-Watcher-Event',
} as const;

/** The body of a webhook delivery: the event as it is, plus the delivery id. */
export type WebhookPayload = NotificationEvent & { readonly delivery: string };

/** The `X-Docker-Watcher-Signature` value of `body` under `secret`: `sha256=<hex>`. */
export function signWebhookPayload(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * For receivers: whether `signature` (the `X-Docker-Watcher-Signature` header) signs the raw
 * `body` under `secret`. Compares in constant time; check it before parsing the body.
 */
export function verifyWebhookSignature(params: {
  readonly body: string | Uint8Array;
  readonly secret: string;
  readonly signature: string | null | undefined;
}): boolean {
  if (typeof params.signature !== 'string') return false;
  const expected = Buffer.from(signWebhookPayload(params.body, params.secret));
  const actual = Buffer.from(params.signature.trim());
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Bytes of an answer read (for an error's message), of which at most `snippetLength` characters are kept. */
const maxErrorBodyBytes = 4096;
const snippetLength = 200;

const userAgent = 'docker-watcher-webhook';

function snippetOf(text: string, secrets: readonly string[]): string {
  // Receivers may echo the request back: secrets go before truncation, so no half secret survives.
  const masked = secrets.reduce((result, secret) => result.replaceAll(secret, '[redacted]'), text);
  const flat = masked
    .replace(/[\p{Cc}\p{Cf}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > snippetLength ? `${flat.slice(0, snippetLength)}…` : flat;
}

/** Values that must never appear in errors or logs: the secret, header values, query parameter values. */
function secretValues(options: v.InferOutput<typeof webhookNotifierOptions>, url: URL): string[] {
  const values = [
    options.secret,
    ...Object.values(options.headers ?? {}),
    ...[...url.searchParams.values()],
    url.search.slice(1),
  ];
  // Very short values would mask ordinary words of a message; they are not credentials anyway.
  return values.filter((value): value is string => typeof value === 'string' && value.length >= 4);
}

function buildWebhookNotifier(
  options: v.InferOutput<typeof webhookNotifierOptions>,
  context: AdapterContext,
): Notifier {
  const id = adapterId('notifier', 'webhook', context.instance);
  const url = new URL(options.url);
  const { origin } = url;
  const secrets = secretValues(options, url);
  const logger = createRedactingLogger(context.logger ?? silentLogger, { secrets }).child({ notifier: id });
  const lifetime = new AbortController();
  // Redirects are not followed: the signed body and extra headers go to the configured URL only.
  const http = createHttpTransport({
    identity: { id, url: origin, details: { notifier: id, url: origin } },
    timeoutMs: options.timeoutMs,
    lifetime: lifetime.signal,
    userAgent,
    redirects: 'refuse',
  });
  const lifecycle = onceDisposer(async () => {
    lifetime.abort();
    http.close();
  });
  const wanted: readonly NotifiableEventName[] | undefined = options.events
    ? [...new Set(options.events)]
    : undefined;

  const notify = async ({ event, signal }: { event: NotificationEvent; signal?: AbortSignal }) => {
    throwIfAborted(signal);
    const details = { notifier: id, url: origin, event: event.type };
    if (lifecycle.disposed()) {
      throw new CoreError('UNAVAILABLE', `${id} is disposed`, { details, retryable: false });
    }
    if (wanted && !wanted.includes(event.type)) return;

    const delivery = randomUUID();
    // `type` and `at` first, for people reading deliveries in a request log.
    const { type, at, ...payload } = event;
    const body = new TextEncoder().encode(JSON.stringify({ type, at, ...payload, delivery }));
    const headers = new Headers(options.headers);
    headers.set('content-type', 'application/json');
    headers.set(webhookHeaders.event, event.type);
    headers.set(webhookHeaders.delivery, delivery);
    if (options.secret !== undefined) {
      headers.set(webhookHeaders.signature, signWebhookPayload(body, options.secret));
    }

    const started = performance.now();
    const response = await http.request({
      method: 'POST',
      url,
      headers: Object.fromEntries(headers),
      body,
      ...(signal ? { signal } : {}),
      maxBodyBytes: maxErrorBodyBytes,
      partialBody: true,
      what: `delivery ${delivery} of ${event.type}`,
    });
    const ms = Math.round(performance.now() - started);
    if (response.status >= 200 && response.status < 300) {
      logger.debug(`delivered ${event.type}`, { event: event.type, delivery, status: response.status, ms });
      return;
    }

    const what = `${id} could not deliver ${event.type} to ${origin}`;
    const snippet = snippetOf(responseText(response), secrets);
    const answer = `answered ${response.status}${snippet ? `: ${snippet}` : ''}`;
    const errorDetails = {
      ...details,
      delivery,
      status: response.status,
      ...(snippet ? { body: snippet } : {}),
    };
    if (response.status === 429 || response.status >= 500) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      throw new CoreError(response.status === 429 ? 'RATE_LIMITED' : 'UNAVAILABLE', `${what}: ${answer}`, {
        details: { ...errorDetails, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
        retryable: true,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    }
    const redirect = response.status >= 300 && response.status < 400;
    throw new CoreError(
      codeFromHttpStatus(response.status),
      `${what}: ${answer}${redirect ? ' (redirects are not followed)' : ''}`,
      { details: errorDetails },
    );
  };

  return {
    id,
    ...(wanted ? { events: wanted } : {}),
    notify,
    dispose: lifecycle.dispose,
  };
}

export const webhookNotifier = defineNotifier({
  name: 'webhook',
  options: webhookNotifierOptions,
  secrets: ['secret', 'headers'],
  create: buildWebhookNotifier,
});

/** A notifier that POSTs each event as JSON to a URL, signed with HMAC-SHA256 when given a secret. */
export function createWebhookNotifier(
  options: WebhookNotifierOptions,
  context: AdapterContext = {},
): Notifier {
  return instantiate(webhookNotifier, options, context);
}
