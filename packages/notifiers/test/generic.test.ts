import type { Notifier } from '@docker-watcher/core';
import { type ChatServiceFake, type GenericAnswer, startGenericFake } from '@docker-watcher/testkit/notify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGenericNotifier } from '../src/generic/index.ts';
import { parseServiceUrl } from '../src/index.ts';
import { expectAnswers, sample } from './_harness.ts';

let fake: ChatServiceFake<GenericAnswer>;
let notifier: Notifier;

beforeEach(async () => {
  fake = await startGenericFake();
  notifier = createGenericNotifier({ url: `${fake.origin}/hook?key=dw-generic-key-0123`, timeoutMs: 500 });
});
afterEach(async () => {
  await notifier.dispose();
  await fake.close();
});

describe('generic', () => {
  it('sends the message as plain text by default, like Shoutrrr', async () => {
    await notifier.notify({ event: sample('deploy:succeeded') });
    const [request] = fake.messages;
    expect(request?.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(request?.body.split('\n')[0]).toBe('web/prod: v1.2.3 deployed');
  });

  it('maps the answers: Retry-After as seconds and as an HTTP-date, resets and slow replies', async () => {
    const date = new Date(Date.now() + 30_000).toUTCString();
    await expectAnswers(
      fake,
      notifier,
      [
        ['rate_limited_seconds', { code: 'RATE_LIMITED', retryable: true, retryAfterMs: 1000 }],
        ['server_error', { code: 'UNAVAILABLE', retryable: true }],
        ['bad_request', { code: 'BAD_REQUEST', retryable: false }],
        ['reset', { code: 'UNAVAILABLE', retryable: true }],
        ['hang', { code: 'TIMEOUT', retryable: true }],
      ],
      ['dw-generic-key-0123'],
    );
    fake.script({ status: 429, headers: { 'retry-after': date } });
    const error = await notifier
      .notify({ event: sample('deploy:failed') })
      .catch((thrown: unknown) => thrown);
    expect((error as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(25_000);
  });

  it('follows no redirect, and reads a long answer only in part', async () => {
    fake.script({ status: 307, headers: { location: '/elsewhere' } });
    const redirected = await notifier.notify({ event: sample('deploy:failed') }).catch((thrown) => thrown);
    expect(redirected).toMatchObject({ code: 'BAD_RESPONSE', retryable: false, details: { status: 307 } });
    expect(fake.requests.map((request) => request.url.pathname)).toEqual(['/hook']);

    // A success with a long answer is delivered; a failure's long answer is quoted in part.
    fake.script({ status: 200, body: 'x'.repeat(200_000) });
    await notifier.notify({ event: sample('deploy:failed') });
    fake.script({ status: 400, body: `bad payload ${'y'.repeat(200_000)}` });
    const refused = await notifier.notify({ event: sample('deploy:failed') }).catch((thrown) => thrown);
    expect(refused).toMatchObject({
      code: 'BAD_REQUEST',
      details: { answer: expect.stringMatching(/^bad payload y+…$/) },
    });
    expect((refused as Error).message.length).toBeLessThan(400);
  });
});

describe('generic service URLs', () => {
  it('reads the JSON template, keys, headers, extras and passes the rest of the query on', async () => {
    const host = new URL(fake.origin).host;
    const parsed = parseServiceUrl(
      `generic://${host}/hooks/dw?template=json&titlekey=subject&messagekey=body&disabletls=yes&@X-Token=dw-header-secret&$source=docker-watcher&_template=forwarded&team=ops`,
    );
    expect(parsed).toMatchObject({
      channel: 'generic',
      options: {
        url: `http://${host}/hooks/dw?template=forwarded&team=ops`,
        template: 'json',
        titleKey: 'subject',
        messageKey: 'body',
        headers: { 'X-Token': 'dw-header-secret' },
        extraData: { source: 'docker-watcher' },
      },
    });
    expect(parsed.secrets).toContain('dw-header-secret');
    const local = createGenericNotifier(parsed.options as { url: string });
    await local.notify({ event: sample('deploy:failed') });
    await local.dispose();
    const [request] = fake.messages;
    expect(request?.path).toBe('/hooks/dw?template=forwarded&team=ops');
    expect(request?.headers['x-token']).toBe('dw-header-secret');
    expect(request?.json).toMatchObject({
      source: 'docker-watcher',
      subject: 'web/prod: v1.2.3 failed',
      body: expect.stringContaining('health gate timed out'),
    });
  });

  it('reads generic+https:// with Basic auth from the user part', () => {
    const parsed = parseServiceUrl('generic+https://dw:s3cret-pass@hooks.example.com/in?x=1');
    expect(parsed.options).toMatchObject({
      url: 'https://hooks.example.com/in?x=1',
      headers: { Authorization: `Basic ${Buffer.from('dw:s3cret-pass').toString('base64')}` },
    });
    expect(parsed.secrets).toContain('s3cret-pass');
  });
});
