import { createNotificationDispatcher, type Notifier } from '@docker-watcher/core';
import { type DiscordFake, startDiscordFake } from '@docker-watcher/testkit/notify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDiscordNotifier, discordFromServiceUrl } from '../src/discord/index.ts';
import { expectAnswers, hugeEvent, sample } from './_harness.ts';

let fake: DiscordFake;
let notifier: Notifier;

beforeEach(async () => {
  fake = await startDiscordFake();
  notifier = createDiscordNotifier({
    webhookId: fake.webhookId,
    token: fake.token,
    apiUrl: fake.apiUrl,
    publicUrl: 'https://dw.example',
  });
});
afterEach(async () => {
  await notifier.dispose();
  await fake.close();
});

type Payload = {
  allowed_mentions: unknown;
  embeds: Array<{
    title: string;
    url?: string;
    color: number;
    description: string;
    fields: Array<{ name: string; value: string }>;
  }>;
  components?: Array<{ components: Array<{ style: number; url: string; label: string }> }>;
};

describe('discord', () => {
  it('posts one embed coloured by outcome with the facts and a link button, waiting for the saved message', async () => {
    await notifier.notify({ event: sample('deploy:succeeded') });
    const [request] = fake.messages;
    expect(request?.url.searchParams.get('wait')).toBe('true');
    expect(request?.url.searchParams.get('with_components')).toBe('true');
    const payload = request?.json as Payload;
    expect(payload.allowed_mentions).toEqual({ parse: [] });
    expect(payload.embeds[0]).toMatchObject({
      title: 'web/prod: v1.2.3 deployed',
      url: 'https://dw.example/deploys/deploy-web',
      color: 0x2eb67d,
    });
    expect(payload.embeds[0]?.fields).toContainEqual({ name: 'Duration', value: '1.8 s', inline: true });
    expect(payload.components?.[0]?.components[0]).toEqual({
      type: 2,
      style: 5,
      label: 'Open deploy',
      url: 'https://dw.example/deploys/deploy-web',
    });
  });

  it('never pings: mentions in text from outside are neither parsed nor allowed', async () => {
    const event = {
      ...sample('deploy:failed'),
      error: { code: 'INTERNAL' as const, message: '@everyone look', retryable: false, details: {} },
    };
    await notifier.notify({ event });
    const payload = fake.messages[0]?.json as Payload;
    expect(payload.allowed_mentions).toEqual({ parse: [] });
    expect(payload.embeds[0]?.description).not.toContain('@everyone');
  });

  it('keeps within the embed limits for any event (the fake answers 50035 beyond them)', async () => {
    await notifier.notify({ event: hugeEvent() });
    await notifier.notifyDigest?.({ digest: { events: Array.from({ length: 60 }, () => hugeEvent()) } });
    expect(fake.messages).toHaveLength(2);
  });

  it('maps the documented answers, reading retry_after (float seconds) from the body', async () => {
    await expectAnswers(
      fake,
      notifier,
      [
        ['invalid_form_body', { code: 'BAD_REQUEST', retryable: false }],
        ['invalid_webhook_token', { code: 'UNAUTHORIZED', retryable: false }],
        [{ status: 502 }, { code: 'UNAVAILABLE', retryable: true }],
        ['reset', { code: 'UNAVAILABLE', retryable: true }],
        ['rate_limited_global', { code: 'RATE_LIMITED', retryable: true, retryAfterMs: 600 }],
        // Last: its empty bucket (X-RateLimit-Remaining: 0) pauses the next sends.
        ['rate_limited', { code: 'RATE_LIMITED', retryable: true, retryAfterMs: 750 }],
      ],
      [fake.token],
    );
  });

  it('stops using a webhook that answered 404 Unknown Webhook', async () => {
    fake.script('unknown_webhook');
    await expect(notifier.notify({ event: sample('deploy:failed') })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      retryable: false,
    });
    const requests = fake.requests.length;
    await expect(notifier.notify({ event: sample('deploy:failed') })).rejects.toThrow(/webhook was deleted/);
    expect(fake.requests.length).toBe(requests);
  });

  it('pauses when a success says the bucket is empty, before Discord has to answer 429', async () => {
    fake.script('message_bucket_empty');
    await notifier.notify({ event: sample('deploy:failed') });
    const error = await notifier
      .notify({ event: sample('deploy:failed') })
      .catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
    expect((error as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(250);
    expect(fake.requests).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await notifier.notify({ event: sample('deploy:failed') });
    expect(fake.messages).toHaveLength(2);
  });

  it('waits the announced delay before the dispatcher retries', async () => {
    fake.script('rate_limited');
    const dispatcher = createNotificationDispatcher({ notifiers: [notifier] });
    dispatcher.dispatch(sample('deploy:failed'));
    await dispatcher.flush();
    await dispatcher.dispose();
    const [first, second] = fake.requests;
    expect(fake.messages).toHaveLength(1);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(750);
  });
});

describe('discord service URLs', () => {
  it('reads discord://token@id with its parameters, ignoring the colour settings', () => {
    expect(
      discordFromServiceUrl(
        new URL(
          'discord://dwToken-abcdef0123@223344556677889900?username=DW&avatar=https://dw.example/a.png&thread_id=12345678&color=0x50D9ff&splitLines=yes',
        ),
      ),
    ).toEqual({
      options: {
        webhookId: '223344556677889900',
        token: 'dwToken-abcdef0123',
        username: 'DW',
        avatarUrl: 'https://dw.example/a.png',
        threadId: '12345678',
      },
      secrets: ['dwToken-abcdef0123'],
    });
    expect(() => discordFromServiceUrl(new URL('discord://223344556677889900'))).toThrow(
      /discord:\/\/<token>@<webhook id>/,
    );
  });

  it('delivers through the URL it parsed', async () => {
    const { options } = discordFromServiceUrl(new URL(`discord://${fake.token}@${fake.webhookId}`));
    const local = createDiscordNotifier({
      ...(options as { webhookId: string; token: string }),
      apiUrl: fake.apiUrl,
    });
    await local.notify({ event: sample('deploy:awaiting-confirmation') });
    await local.dispose();
    expect(fake.messages).toHaveLength(1);
  });
});
