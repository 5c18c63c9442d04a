import type { Notifier } from '@docker-watcher/core';
import { type GotifyFake, startGotifyFake } from '@docker-watcher/testkit/notify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGotifyNotifier } from '../src/gotify/index.ts';
import { parseServiceUrl } from '../src/index.ts';
import { expectAnswers, nth, sample } from './_harness.ts';

let fake: GotifyFake;
let notifier: Notifier;

beforeEach(async () => {
  fake = await startGotifyFake();
  notifier = createGotifyNotifier({ url: fake.url, token: fake.token, publicUrl: 'https://dw.example' });
});
afterEach(async () => {
  await notifier.dispose();
  await fake.close();
});

describe('gotify', () => {
  it('pushes with priority by outcome and a click to the dashboard; the token goes in a header, never the URL', async () => {
    await notifier.notify({ event: sample('deploy:failed') });
    const [request] = fake.messages;
    expect(request?.path).toBe('/gotify/message');
    expect(request?.headers['x-gotify-key']).toBe(fake.token);
    expect(request?.json).toMatchObject({
      title: 'web/prod: v1.2.3 failed',
      priority: 8,
      extras: { 'client::notification': { click: { url: 'https://dw.example/deploys/deploy-web' } } },
    });
    expect((nth(fake.messages).json as { message: string }).message).toMatch(
      /Open deploy: https:\/\/dw\.example\/deploys\/deploy-web$/,
    );
  });

  it("maps the answers, also a reverse proxy's", async () => {
    await expectAnswers(
      fake,
      notifier,
      [
        ['unauthorized', { code: 'UNAUTHORIZED', retryable: false }],
        ['message_required', { code: 'BAD_REQUEST', retryable: false }],
        ['proxy_bad_gateway', { code: 'UNAVAILABLE', retryable: true }],
        ['proxy_unavailable', { code: 'UNAVAILABLE', retryable: true, retryAfterMs: 1000 }],
      ],
      [fake.token],
    );
  });
});

describe('gotify service URLs', () => {
  it('reads the sub path, token, priority and disabletls, and delivers to the host it names', async () => {
    const host = new URL(fake.origin).host;
    const parsed = parseServiceUrl(
      `gotify://${host}/gotify/${fake.token}?disabletls=yes&priority=3&useheader=yes`,
    );
    expect(parsed).toEqual({
      channel: 'gotify',
      options: { url: `http://${host}/gotify`, token: fake.token, priority: 3 },
      secrets: [fake.token],
    });
    const local = createGotifyNotifier(parsed.options as { url: string; token: string });
    await local.notify({ event: sample('deploy:succeeded') });
    await local.dispose();
    expect(fake.messages[0]?.json).toMatchObject({ priority: 3 });
  });
});
