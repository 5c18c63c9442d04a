import type { Notifier } from '@docker-watcher/core';
import { type NtfyFake, startNtfyFake } from '@docker-watcher/testkit/notify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseServiceUrl } from '../src/index.ts';
import { createNtfyNotifier, ntfyFromServiceUrl } from '../src/ntfy/index.ts';
import { expectAnswers, hugeEvent, sample } from './_harness.ts';

let fake: NtfyFake;
let notifier: Notifier;

beforeEach(async () => {
  fake = await startNtfyFake();
  notifier = createNtfyNotifier({
    url: fake.origin,
    topic: fake.topic,
    token: fake.token,
    publicUrl: 'https://dw.example',
  });
});
afterEach(async () => {
  await notifier.dispose();
  await fake.close();
});

describe('ntfy', () => {
  it('publishes JSON with priority and tag by outcome and a view action to the approvals page', async () => {
    await notifier.notify({ event: sample('deploy:awaiting-confirmation') });
    expect(fake.messages[0]?.headers.authorization).toBe(`Bearer ${fake.token}`);
    expect(fake.messages[0]?.json).toMatchObject({
      topic: fake.topic,
      title: 'web/prod: v1.2.3 awaits approval',
      priority: 4,
      tags: ['point_right'],
      click: 'https://dw.example/approvals',
      actions: [
        { action: 'view', label: 'Review approval', url: 'https://dw.example/approvals', clear: true },
      ],
    });
    await notifier.notify({ event: sample('deploy:succeeded') });
    expect(fake.messages[1]?.json).toMatchObject({ priority: 3, tags: ['white_check_mark'] });
  });

  it('keeps any message under 4096 bytes, so it never turns into an attachment', async () => {
    await notifier.notify({ event: hugeEvent() });
    await notifier.notifyDigest?.({ digest: { events: Array.from({ length: 50 }, () => hugeEvent()) } });
    expect(fake.messages).toHaveLength(2);
    expect(fake.attachments).toBe(0);
  });

  it('maps the documented answers; a 429 has no Retry-After, a spent daily quota is not retried', async () => {
    await expectAnswers(
      fake,
      notifier,
      [
        ['unauthorized', { code: 'UNAUTHORIZED', retryable: false }],
        ['forbidden', { code: 'FORBIDDEN', retryable: false }],
        ['invalid_actions', { code: 'BAD_REQUEST', retryable: false }],
        ['too_many_requests', { code: 'RATE_LIMITED', retryable: true }],
        ['daily_quota', { code: 'RATE_LIMITED', retryable: false }],
      ],
      [fake.token],
    );
  });
});

describe('ntfy service URLs', () => {
  it('reads user and password, priority names, tags and the scheme, and delivers to the host it names', async () => {
    const host = new URL(fake.origin).host;
    const url = `ntfy://${fake.username}:${fake.password}@${host}/${fake.topic}?scheme=http&priority=high&tags=rocket,dw&title=DW&click=https://x&delay=1h`;
    const parsed = parseServiceUrl(url);
    expect(parsed).toEqual({
      channel: 'ntfy',
      options: {
        url: `http://${host}/`,
        topic: fake.topic,
        username: fake.username,
        password: fake.password,
        priority: 4,
        tags: ['rocket', 'dw'],
        titleTemplate: 'DW: {{title}}',
      },
      secrets: [fake.password],
    });
    const local = createNtfyNotifier(parsed.options as { topic: string });
    await local.notify({ event: sample('deploy:failed') });
    await local.dispose();
    expect(fake.messages[0]?.json).toMatchObject({
      title: 'DW: web/prod: v1.2.3 failed',
      priority: 4,
      tags: ['x', 'rocket', 'dw'],
    });
  });

  it('takes a token as the password of an empty user, and ntfy.sh by default', async () => {
    expect(ntfyFromServiceUrl(new URL('ntfy:///releases')).options).toEqual({
      url: 'https://ntfy.sh/',
      topic: 'releases',
    });
    const host = new URL(fake.origin).host;
    const local = createNtfyNotifier(
      ntfyFromServiceUrl(new URL(`ntfy://:${fake.token}@${host}/${fake.topic}?disabletls=yes`)).options as {
        topic: string;
      },
    );
    await local.notify({ event: sample('deploy:failed') });
    await local.dispose();
    expect(fake.messages).toHaveLength(1);
  });
});
