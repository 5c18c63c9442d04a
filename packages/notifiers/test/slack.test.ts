import { createMemoryLogger, createNotificationDispatcher, type Notifier } from '@docker-watcher/core';
import { type SlackFake, startSlackFake } from '@docker-watcher/testkit/notify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSlackNotifier, slackFromServiceUrl } from '../src/slack/index.ts';
import { expectAnswers, hugeEvent, sample } from './_harness.ts';

let fake: SlackFake;
let notifier: Notifier;
const publicUrl = 'https://deploy.example.com';

beforeEach(async () => {
  fake = await startSlackFake();
  notifier = createSlackNotifier({ url: fake.webhookUrl, publicUrl });
});
afterEach(async () => {
  await notifier.dispose();
  await fake.close();
});

type Payload = {
  text: string;
  attachments: Array<{
    color: string;
    blocks: Array<{
      type: string;
      text?: { text: string };
      fields?: Array<{ text: string }>;
      elements?: Array<{ url: string; text: { text: string } }>;
    }>;
  }>;
};

describe('slack', () => {
  it('posts Block Kit in an attachment coloured by outcome, with the facts and a button to the dashboard', async () => {
    await notifier.notify({ event: sample('deploy:failed') });
    const payload = fake.messages[0]?.json as Payload;
    expect(payload.text).toBe('web/prod: v1.2.3 failed');
    const [attachment] = payload.attachments;
    expect(attachment?.color).toBe('#e01e5a');
    expect(attachment?.blocks[0]?.text?.text).toBe(
      '*web/prod: v1.2.3 failed*\nDeploying v1.2.3 to prod of web failed: health gate timed out',
    );
    expect(attachment?.blocks[1]?.fields?.map((field) => field.text)).toContain(
      '*Digest*\nsha256:aaaaaaaaaaaa',
    );
    expect(attachment?.blocks[2]?.elements?.[0]).toMatchObject({
      url: 'https://deploy.example.com/deploys/deploy-web',
      text: { text: 'Open deploy' },
    });
  });

  it('links a waiting release to the approvals page with a primary button', async () => {
    await notifier.notify({ event: sample('deploy:awaiting-confirmation') });
    const payload = fake.messages[0]?.json as Payload;
    expect(payload.attachments[0]?.blocks.at(-1)?.elements?.[0]).toMatchObject({
      url: 'https://deploy.example.com/approvals',
      style: 'primary',
    });
  });

  it('escapes text from outside: a tag cannot mention or link', async () => {
    const event = {
      ...sample('deploy:succeeded'),
      release: { tag: '<!channel> <http://evil|x> & co', digest: `sha256:${'a'.repeat(64)}` },
    };
    await notifier.notify({ event });
    expect(fake.messages[0]?.body).not.toContain('<!channel>');
    expect(fake.messages[0]?.body).toContain('&lt;!channel&gt; &lt;http://evil|x&gt; &amp; co');
  });

  it('keeps within Block Kit limits for any event (the fake answers invalid_payload beyond them)', async () => {
    await notifier.notify({ event: hugeEvent() });
    expect(fake.messages).toHaveLength(1);
  });

  it('maps every documented answer onto an error code, never quoting the webhook URL', async () => {
    await expectAnswers(
      fake,
      notifier,
      [
        ['invalid_payload', { code: 'BAD_REQUEST', retryable: false }],
        ['invalid_token', { code: 'FORBIDDEN', retryable: false }],
        ['channel_not_found', { code: 'NOT_FOUND', retryable: false }],
        ['channel_is_archived', { code: 'NOT_FOUND', retryable: false }],
        ['rate_limited', { code: 'RATE_LIMITED', retryable: true, retryAfterMs: 2000 }],
        ['rollup_error', { code: 'UNAVAILABLE', retryable: true }],
        ['reset', { code: 'UNAVAILABLE', retryable: true }],
      ],
      [fake.webhookUrl, 'dwSlackSecret0123456789'],
    );
  });

  it('waits as long as Slack asks before the dispatcher retries', async () => {
    fake.script('rate_limited');
    const dispatcher = createNotificationDispatcher({ notifiers: [notifier], maxRetryDelayMs: 5000 });
    dispatcher.dispatch(sample('deploy:failed'));
    await dispatcher.flush();
    await dispatcher.dispose();
    const [first, second] = fake.requests;
    expect(fake.messages).toHaveLength(1);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(2000);
  });

  it('logs nothing of the webhook URL', async () => {
    const logger = createMemoryLogger();
    const logged = createSlackNotifier({ url: fake.webhookUrl }, { logger, instance: 'team' });
    await logged.notify({ event: sample('deploy:failed') });
    fake.script('invalid_token');
    await logged.notify({ event: sample('deploy:failed') }).catch(() => undefined);
    await logged.dispose();
    expect(logger.entries.length).toBeGreaterThan(0);
    expect(JSON.stringify(logger.entries)).not.toContain('dwSlackSecret0123456789');
  });
});

describe('slack service URLs', () => {
  it('reads the hook form and the legacy form Watchtower documents', () => {
    expect(
      slackFromServiceUrl(
        new URL('slack://hook:T0A-B0B-s3cret0@webhook?botname=dw&icon=rocket&color=%23ff8000&title=Deploys'),
      ),
    ).toEqual({
      options: {
        url: 'https://hooks.slack.com/services/T0A/B0B/s3cret0',
        username: 'dw',
        iconEmoji: ':rocket:',
        titleTemplate: 'Deploys: {{title}}',
      },
      secrets: ['s3cret0', 'T0A-B0B-s3cret0'],
    });
    expect(slackFromServiceUrl(new URL('slack://watchtower@token-a/token-b/token-c')).options).toEqual({
      url: expect.any(String),
      username: 'watchtower',
    });
  });

  it('rejects the bot-token form and unknown parameters clearly, never quoting the token', () => {
    expect(() => slackFromServiceUrl(new URL('slack://xoxb:123-abc@C0123'))).toThrow(
      /bot token .* not supported/,
    );
    expect(() => slackFromServiceUrl(new URL('slack://hook:T0A-B0B-s3cret0@webhook?colour=red'))).toThrow(
      'slack:// URLs take no parameter "colour"; known: botname, icon, title, thread_ts, color',
    );
  });

  it('delivers through the URL it parsed', async () => {
    const { options } = slackFromServiceUrl(
      new URL('slack://hook:T0DWTEST-B0DWTEST-dwSlackSecret0123456789@webhook'),
    );
    const url = new URL(String(options.url));
    const local = createSlackNotifier({
      ...(options as { url: string }),
      url: `${fake.origin}${url.pathname}`,
    });
    await local.notify({ event: sample('deploy:rolled-back') });
    await local.dispose();
    expect(fake.messages).toHaveLength(1);
  });
});
