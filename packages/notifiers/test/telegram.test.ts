import { createMemoryLogger, type Notifier } from '@docker-watcher/core';
import { startTelegramFake, type TelegramFake, telegramVisibleText } from '@docker-watcher/testkit/notify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTelegramNotifier, telegramFromServiceUrl } from '../src/telegram/index.ts';
import { expectAnswers, hugeEvent, nth, sample } from './_harness.ts';

let fake: TelegramFake;
let notifier: Notifier;

beforeEach(async () => {
  fake = await startTelegramFake();
  notifier = createTelegramNotifier({
    token: fake.token,
    chats: ['@releases'],
    apiUrl: fake.apiUrl,
    publicUrl: 'https://dw.example',
  });
});
afterEach(async () => {
  await notifier.dispose();
  await fake.close();
});

type Body = {
  chat_id: string;
  text: string;
  parse_mode: string;
  link_preview_options: unknown;
  reply_markup?: unknown;
};

describe('telegram', () => {
  it('sends HTML with the facts and a link button, previews off', async () => {
    await notifier.notify({ event: sample('deploy:rolled-back') });
    const body = fake.messages[0]?.json as Body;
    expect(body.parse_mode).toBe('HTML');
    expect(body.text.split('\n')[0]).toBe('<b>⚠️ web/prod: v1.2.3 rolled back</b>');
    expect(body.text).toContain('<b>Restored:</b> v1.2.2 (sha256:bbbbbbbbbbbb)');
    expect(body.link_preview_options).toEqual({ is_disabled: true });
    expect(body.reply_markup).toEqual({
      inline_keyboard: [[{ text: 'Open deploy', url: 'https://dw.example/deploys/deploy-web' }]],
    });
  });

  it('escapes text from outside, and keeps any event within 4096 shown characters', async () => {
    const event = {
      ...sample('deploy:failed'),
      error: { code: 'INTERNAL' as const, message: '<script>x</script> & <b', retryable: false, details: {} },
    };
    await notifier.notify({ event });
    await notifier.notify({ event: hugeEvent() });
    await notifier.notifyDigest?.({ digest: { events: Array.from({ length: 100 }, () => hugeEvent()) } });
    expect(fake.messages).toHaveLength(3);
    expect(telegramVisibleText((nth(fake.messages).json as Body).text)).toContain('<script>x</script> & <b');
  });

  it('retries only the chats that did not get a message', async () => {
    const both = createTelegramNotifier({
      token: fake.token,
      chats: ['@releases', '-1001234567890'],
      apiUrl: fake.apiUrl,
    });
    const event = sample('deploy:failed');
    await both.notify({ event: sample('deploy:succeeded') });
    fake.script('ok', 'rate_limited');
    await expect(both.notify({ event })).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 1000 });
    await both.notify({ event });
    await both.dispose();
    expect(fake.requests.slice(2).map((request) => (request.json as Body).chat_id)).toEqual([
      '@releases',
      '-1001234567890',
      '-1001234567890',
    ]);
  });

  it('follows a group that became a supergroup, and says so', async () => {
    const logger = createMemoryLogger();
    const group = createTelegramNotifier(
      { token: fake.token, chats: [fake.migratedChat], apiUrl: fake.apiUrl },
      { logger },
    );
    await group.notify({ event: sample('deploy:failed') });
    await group.notify({ event: sample('deploy:failed') });
    await group.dispose();
    expect(fake.messages.map((request) => (request.json as Body).chat_id)).toEqual([
      '-1009876543210',
      '-1009876543210',
    ]);
    expect(fake.requests).toHaveLength(3);
    expect(logger.entries.map((entry) => entry.message)).toContain(
      `chat ${fake.migratedChat} became -1009876543210 (a supergroup): posting there; put the new id in the config`,
    );
  });

  it('maps the documented answers, reading parameters.retry_after from the body', async () => {
    await expectAnswers(
      fake,
      notifier,
      [
        ['unauthorized', { code: 'UNAUTHORIZED', retryable: false }],
        ['parse_error', { code: 'BAD_REQUEST', retryable: false }],
        ['chat_not_found', { code: 'BAD_REQUEST', retryable: false }],
        ['blocked', { code: 'FORBIDDEN', retryable: false }],
        ['rate_limited', { code: 'RATE_LIMITED', retryable: true, retryAfterMs: 1000 }],
        [{ status: 502 }, { code: 'UNAVAILABLE', retryable: true }],
      ],
      [fake.token, 'AAdwTelegramSecret_0123456789abcdef'],
    );
  });
});

describe('telegram service URLs', () => {
  it('reads the token as user:password, chats, notification and preview', () => {
    expect(
      telegramFromServiceUrl(
        new URL(
          'telegram://123456789:AAdwTelegramSecret_0123456789abcdef@telegram?chats=@releases,-1001234567890:42&notification=no&preview=yes&parsemode=Markdown',
        ),
      ),
    ).toEqual({
      options: {
        token: '123456789:AAdwTelegramSecret_0123456789abcdef',
        chats: ['@releases', '-1001234567890:42'],
        silent: true,
        preview: true,
      },
      secrets: ['123456789:AAdwTelegramSecret_0123456789abcdef', 'AAdwTelegramSecret_0123456789abcdef'],
    });
    expect(() => telegramFromServiceUrl(new URL('telegram://123:abc@telegram'))).toThrow(/needs chats=/);
  });

  it('delivers to a topic thread through the URL it parsed', async () => {
    const { options } = telegramFromServiceUrl(
      new URL(`telegram://${fake.token}@telegram?channels=-1001234567890:42`),
    );
    const local = createTelegramNotifier({
      ...(options as { token: string; chats: string[] }),
      apiUrl: fake.apiUrl,
    });
    await local.notify({ event: sample('release:available') });
    await local.dispose();
    expect(fake.messages[0]?.json).toMatchObject({ chat_id: '-1001234567890', message_thread_id: 42 });
  });
});
