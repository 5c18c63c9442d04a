import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { instantiate } from '../contracts/adapter.ts';
import type { NotificationEvent, Notifier } from '../contracts/notifier.ts';
import { isCoreError } from '../errors.ts';
import { createMemoryLogger } from '../logger.ts';
import { type LoopbackReceiver, startLoopbackReceiver } from './_loopback-receiver.ts';
import { createNotificationDispatcher } from './notification-dispatcher.ts';
import {
  createWebhookNotifier,
  signWebhookPayload,
  verifyWebhookSignature,
  webhookNotifier,
} from './webhook-notifier.ts';
import type { WebhookNotifierOptions } from './webhook-notifier-options.ts';

const secret = 'hmac-key-do-not-leak';
const bearer = 'Bearer header-token-do-not-leak';
const queryToken = 'query-token-do-not-leak';

const release = { tag: 'v1.2.3', digest: `sha256:${'a'.repeat(64)}` };
const failed: NotificationEvent = {
  type: 'deploy:failed',
  at: '2026-01-01T00:00:00.000Z',
  deployId: 'd1',
  project: 'web',
  stage: 'prod',
  release,
  error: { code: 'TIMEOUT', message: 'health gate timed out', retryable: true, details: {} },
};
const succeeded: NotificationEvent = {
  type: 'deploy:succeeded',
  at: '2026-01-01T00:00:01.000Z',
  deployId: 'd2',
  project: 'web',
  stage: 'prod',
  release,
};

let receiver: LoopbackReceiver;
const notifiers: Notifier[] = [];

const webhook = (options: Partial<WebhookNotifierOptions> = {}, context = {}): Notifier => {
  const notifier = createWebhookNotifier({ url: `${receiver.origin}/hooks/deploys`, ...options }, context);
  notifiers.push(notifier);
  return notifier;
};

/** Rejection of `promise`, which must be a CoreError. */
const failure = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!isCoreError(error)) throw new Error(`expected a CoreError, got ${String(error)}`);
  return error;
};

beforeEach(async () => {
  receiver = await startLoopbackReceiver();
});

afterEach(async () => {
  await Promise.all(notifiers.splice(0).map((notifier) => notifier.dispose()));
  await receiver.close();
});

describe('createWebhookNotifier', () => {
  it('POSTs the event as JSON with its type and a delivery id, in body and headers', async () => {
    const notifier = webhook({ headers: { Authorization: bearer, 'X-Team': 'platform' } });
    expect(notifier.id).toBe('notifier:webhook');
    expect('events' in notifier).toBe(false);
    await notifier.notify({ event: failed });

    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/hooks/deploys');
    const body = JSON.parse(request?.body.toString('utf8') ?? '');
    expect(body).toEqual({ ...failed, delivery: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(Object.keys(body).slice(0, 2)).toEqual(['type', 'at']);
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-docker-watcher-event': 'deploy:failed',
      'x-docker-watcher-delivery': body.delivery,
      authorization: bearer,
      'x-team': 'platform',
    });
    expect(request?.headers['x-docker-watcher-signature']).toBeUndefined();
  });

  it('signs the exact body bytes with HMAC-SHA256 when given a secret', async () => {
    const notifier = webhook({ secret });
    await notifier.notify({ event: failed });
    await notifier.notify({ event: succeeded });

    const deliveries = new Set<unknown>();
    for (const request of receiver.requests) {
      const expected = `sha256=${createHmac('sha256', secret).update(request.body).digest('hex')}`;
      expect(request.headers['x-docker-watcher-signature']).toBe(expected);
      expect(verifyWebhookSignature({ body: request.body, secret, signature: expected })).toBe(true);
      deliveries.add(request.headers['x-docker-watcher-delivery']);
    }
    expect(deliveries.size).toBe(2);

    const [request] = receiver.requests;
    const tampered = Buffer.from(request?.body.toString('utf8').replace('"prod"', '"dev"') ?? '');
    const signature = String(request?.headers['x-docker-watcher-signature']);
    expect(verifyWebhookSignature({ body: tampered, secret, signature })).toBe(false);
    expect(verifyWebhookSignature({ body: request?.body ?? '', secret: 'other', signature })).toBe(false);
    expect(verifyWebhookSignature({ body: request?.body ?? '', secret, signature: undefined })).toBe(false);
    expect(signWebhookPayload('{}', secret)).toBe(
      `sha256=${createHmac('sha256', secret).update('{}').digest('hex')}`,
    );
  });

  it('delivers only the events it is configured for', async () => {
    const notifier = webhook({ events: ['deploy:failed', 'deploy:failed'] });
    expect(notifier.events).toEqual(['deploy:failed']);
    await notifier.notify({ event: succeeded });
    await notifier.notify({ event: failed });
    expect(receiver.requests.map((request) => request.headers['x-docker-watcher-event'])).toEqual([
      'deploy:failed',
    ]);
  });

  it('takes 2xx as delivered', async () => {
    receiver.reply({ status: 200, body: 'ok' });
    await expect(webhook().notify({ event: failed })).resolves.toBeUndefined();
    receiver.reply({ status: 202 });
    await expect(webhook().notify({ event: failed })).resolves.toBeUndefined();
  });

  it('maps 429 to a retryable RATE_LIMITED with the Retry-After delay', async () => {
    receiver.reply({ status: 429, headers: { 'retry-after': '7' }, body: 'too many' });
    const error = await failure(webhook().notify({ event: failed }));
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterMs: 7000 });
    expect(error.details).toMatchObject({ status: 429, url: receiver.origin, notifier: 'notifier:webhook' });
    expect(error.message).toContain('answered 429: too many');
  });

  it('maps 5xx to a retryable UNAVAILABLE', async () => {
    for (const status of [500, 502, 503, 504]) {
      receiver.reply({ status });
      const error = await failure(webhook().notify({ event: failed }));
      expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true, details: { status } });
    }
  });

  it('maps other 4xx to errors that are not retried', async () => {
    for (const [status, code] of [
      [400, 'BAD_REQUEST'],
      [401, 'UNAUTHORIZED'],
      [403, 'FORBIDDEN'],
      [404, 'NOT_FOUND'],
    ] as const) {
      receiver.reply({ status, body: `status ${status}` });
      const error = await failure(webhook().notify({ event: failed }));
      expect(error).toMatchObject({ code, retryable: false, details: { status, body: `status ${status}` } });
    }
  });

  it('reads a long answer only in part: a success is delivered, a failure quotes its start', async () => {
    receiver.reply({ status: 200, body: 'x'.repeat(200_000) });
    await webhook().notify({ event: failed });
    receiver.reply({ status: 400, body: `bad payload ${'y'.repeat(200_000)}` });
    const error = await failure(webhook().notify({ event: failed }));
    expect(error).toMatchObject({
      code: 'BAD_REQUEST',
      details: { body: expect.stringMatching(/^bad payload y+…$/) },
    });
    expect(error.message.length).toBeLessThan(400);
  });

  it('does not follow redirects', async () => {
    receiver.reply((request) =>
      request.path === '/elsewhere' ? { status: 204 } : { status: 307, headers: { location: '/elsewhere' } },
    );
    const error = await failure(webhook({ secret }).notify({ event: failed }));
    expect(error).toMatchObject({ code: 'BAD_RESPONSE', retryable: false, details: { status: 307 } });
    expect(receiver.requests.map((request) => request.path)).toEqual(['/hooks/deploys']);
  });

  it('maps a refused connection to a retryable UNAVAILABLE', async () => {
    const closed = await startLoopbackReceiver();
    await closed.close();
    const notifier = createWebhookNotifier({ url: `${closed.origin}/hook?token=${queryToken}` });
    notifiers.push(notifier);
    const error = await failure(notifier.notify({ event: failed }));
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true, details: { url: closed.origin } });
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).not.toContain(queryToken);
  });

  it('gives up with a retryable TIMEOUT when the receiver never answers', async () => {
    receiver.reply('hang');
    const started = performance.now();
    const error = await failure(webhook({ timeoutMs: 100 }).notify({ event: failed }));
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true, details: { timeoutMs: 100 } });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("stops with ABORTED when the caller's signal fires", async () => {
    receiver.reply('hang');
    const controller = new AbortController();
    const pending = failure(webhook().notify({ event: failed, signal: controller.signal }));
    // Aborted once the receiver holds the request (a fixed 20 ms came too early on a loaded machine).
    await expect.poll(() => receiver.requests.length, { timeout: 30_000 }).toBe(1);
    controller.abort();
    expect(await pending).toMatchObject({ code: 'ABORTED' });

    const aborted = new AbortController();
    aborted.abort();
    expect(await failure(webhook().notify({ event: failed, signal: aborted.signal }))).toMatchObject({
      code: 'ABORTED',
    });
    expect(receiver.requests).toHaveLength(1);
  });

  it('refuses to deliver once disposed, and dispose is idempotent', async () => {
    const notifier = webhook();
    await notifier.dispose();
    await notifier.dispose();
    const error = await failure(notifier.notify({ event: failed }));
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: false });
    expect(receiver.requests).toEqual([]);
  });

  it('dispose ends a delivery in flight', async () => {
    receiver.reply('hang');
    const notifier = webhook();
    const pending = failure(notifier.notify({ event: failed }));
    await expect.poll(() => receiver.requests.length, { timeout: 30_000 }).toBe(1);
    await notifier.dispose();
    expect(await pending).toMatchObject({ code: 'UNAVAILABLE', retryable: false });
  });

  it('never puts the secret, header values or the query into errors or logs', async () => {
    const logger = createMemoryLogger();
    // A receiver that echoes the request, as debugging endpoints do.
    receiver.reply((request) => ({
      status: 401,
      body: `denied ${request.path}\r\n${JSON.stringify(request.headers)} ${secret} ${'x'.repeat(500)}`,
    }));
    const notifier = webhook({ secret, headers: { Authorization: bearer } }, { logger });
    const url = `${receiver.origin}/hooks/deploys?token=${queryToken}`;
    const withQuery = createWebhookNotifier({ url, secret, headers: { Authorization: bearer } }, { logger });
    notifiers.push(withQuery);

    for (const subject of [notifier, withQuery]) {
      const error = await failure(subject.notify({ event: failed }));
      expect(error.code).toBe('UNAUTHORIZED');
      const texts = [error.message, JSON.stringify(error), String(error.details.body)];
      for (const text of texts) {
        for (const leaked of [secret, bearer, 'header-token-do-not-leak', queryToken]) {
          expect(text).not.toContain(leaked);
        }
      }
      expect(String(error.details.body).length).toBeLessThanOrEqual(201);
      expect(error.message).not.toMatch(/[\r\n]/);
      expect(error.message).toContain(receiver.origin);
    }

    receiver.reply({ status: 204 });
    await withQuery.notify({ event: failed });
    const logged = JSON.stringify(logger.entries);
    expect(logger.entries.length).toBeGreaterThan(0);
    for (const leaked of [secret, 'header-token-do-not-leak', queryToken])
      expect(logged).not.toContain(leaked);
  });

  it('works behind the dispatcher: a 503 is retried as a new delivery', async () => {
    let calls = 0;
    receiver.reply(() =>
      ++calls === 1 ? { status: 503, headers: { 'retry-after': '0' } } : { status: 204 },
    );
    const waits: number[] = [];
    const dispatcher = createNotificationDispatcher({
      notifiers: [webhook({ secret })],
      wait: async (ms) => void waits.push(ms),
    });
    dispatcher.dispatch(failed);
    await dispatcher.flush();
    await dispatcher.dispose();
    expect(waits).toEqual([500]);
    const ids = receiver.requests.map((request) => request.headers['x-docker-watcher-delivery']);
    expect(ids).toHaveLength(2);
    expect(ids[0]).not.toBe(ids[1]);
  });
});

describe('webhook notifier options', () => {
  const problems = (input: unknown): string => {
    try {
      instantiate(webhookNotifier, input);
    } catch (error) {
      if (isCoreError(error, 'CONFIG_INVALID')) return error.message;
      throw error;
    }
    throw new Error('expected CONFIG_INVALID');
  };

  it('accepts http and https URLs and defaults timeoutMs', () => {
    expect(instantiate(webhookNotifier, { url: 'https://hooks.example.com/x?token=abc' }).id).toBe(
      'notifier:webhook',
    );
    expect(instantiate(webhookNotifier, { url: 'http://127.0.0.1:8080' }, { instance: 'ops' }).id).toBe(
      'notifier:webhook/ops',
    );
  });

  it('rejects bad URLs without echoing them', () => {
    expect(problems({ url: 'not a url?token=s3cr3t-value' })).toMatch(/^url: must be an absolute URL/m);
    expect(problems({ url: 'not a url?token=s3cr3t-value' })).not.toContain('s3cr3t-value');
    expect(problems({ url: 'ftp://example.com/x' })).toMatch(/^url: must be an http/m);
    expect(problems({ url: 'https://user:s3cr3t-value@example.com' })).not.toContain('s3cr3t-value');
    expect(problems({ url: 'https://user:s3cr3t-value@example.com' })).toMatch(
      /^url: must not carry credentials/m,
    );
  });

  it('rejects reserved or malformed headers and unknown events, never echoing secrets', () => {
    const url = 'https://hooks.example.com';
    expect(problems({ url, headers: { 'X-Docker-Watcher-Signature': 's3cr3t-value' } })).toMatch(
      /^headers\./m,
    );
    expect(problems({ url, headers: { Authorization: 's3cr3t-value\r\nX-Evil: 1' } })).not.toContain(
      's3cr3t-value',
    );
    expect(problems({ url, secret: '' })).toMatch(/^secret: /m);
    expect(problems({ url, events: ['deploy:log'] })).toMatch(/^events\.0: must be one of/m);
    expect(problems({ url, events: [] })).toMatch(/^events: must name at least one event/m);
    expect(problems({ url, timeoutMs: 0 })).toMatch(/^timeoutMs: /m);
    expect(problems({ url, extra: true })).toMatch(/^extra: /m);
  });
});
