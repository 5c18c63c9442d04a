import * as v from 'valibot';
import { notifiableEvents } from '../contracts/notifier.ts';

const asUrl = (value: string): URL | undefined => (URL.canParse(value) ? new URL(value) : undefined);

// RFC 9110 token characters.
const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Headers the notifier sets itself; extra headers may not replace them. */
const reservedHeaders =
  /^(content-type|content-length|host|transfer-encoding|connection|x-docker-watcher-.*)$/i;

// Custom messages throughout: valibot's defaults quote the received value, and a URL may carry a token.
const webhookUrl = v.pipe(
  v.string('must be a string'),
  v.check(
    (value) => asUrl(value) !== undefined,
    'must be an absolute URL, e.g. https://hooks.example.com/deploys',
  ),
  v.check((value) => /^https?:$/.test(asUrl(value)?.protocol ?? ''), 'must be an http:// or https:// URL'),
  v.check(
    (value) => asUrl(value)?.username === '' && asUrl(value)?.password === '',
    'must not carry credentials: send them with the headers option (e.g. Authorization)',
  ),
  v.description(
    'Where events are POSTed, an http:// or https:// URL. Errors and logs show only its origin, so a token in the query stays private.',
  ),
);

export const webhookNotifierOptions = v.strictObject({
  url: webhookUrl,
  secret: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1),
      v.description(
        'Key of the HMAC-SHA256 signature sent as `X-Docker-Watcher-Signature: sha256=<hex>` over the exact body bytes (a secret: never logged, never in errors). Unsigned without it.',
      ),
    ),
  ),
  headers: v.optional(
    v.pipe(
      v.record(
        v.pipe(
          v.string(),
          v.regex(headerName, 'must be a valid header name'),
          v.check((name) => !reservedHeaders.test(name), 'is set by the notifier itself'),
        ),
        v.pipe(
          v.string(),
          v.check((value) => !/[\r\n\0]/.test(value), 'must not contain line breaks'),
        ),
      ),
      v.description(
        'Extra request headers, e.g. `{ "Authorization": "Bearer …" }` (secret: values are never logged, never in errors). `Content-Type`, `Host` and `X-Docker-Watcher-*` are set by the notifier.',
      ),
    ),
  ),
  events: v.optional(
    v.pipe(
      v.array(v.picklist(notifiableEvents, `must be one of ${notifiableEvents.join(', ')}`)),
      v.minLength(1, 'must name at least one event; leave it out for all'),
      v.description('Events to deliver; every notifiable event when absent.'),
    ),
  ),
  timeoutMs: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.description('Longest a delivery may take, headers and body, before it fails with TIMEOUT.'),
    ),
    5000,
  ),
});

export type WebhookNotifierOptions = v.InferInput<typeof webhookNotifierOptions>;
