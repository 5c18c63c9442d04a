import type { Notifier } from '@docker-watcher/core';
import { type MatrixFake, startMatrixFake } from '@docker-watcher/testkit/notify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseServiceUrl } from '../src/index.ts';
import { createMatrixNotifier } from '../src/matrix/index.ts';
import { expectAnswers, sample } from './_harness.ts';

let fake: MatrixFake;
let notifier: Notifier;

beforeEach(async () => {
  fake = await startMatrixFake();
  notifier = createMatrixNotifier({
    homeserver: fake.homeserver,
    user: fake.user,
    password: fake.password,
    rooms: [fake.roomAlias],
    publicUrl: 'https://dw.example',
  });
});
afterEach(async () => {
  await notifier.dispose();
  await fake.close();
});

const events = (room: string) =>
  (fake.events.get(room) ?? []) as Array<{ msgtype: string; body: string; formatted_body: string }>;

describe('matrix', () => {
  it('logs in, joins the room behind the alias, and posts an m.notice with an escaped HTML body', async () => {
    const event = {
      ...sample('deploy:failed'),
      error: {
        code: 'INTERNAL' as const,
        message: '<img src=x onerror=alert(1)>',
        retryable: false,
        details: {},
      },
    };
    await notifier.notify({ event });
    const [message] = events(fake.roomId);
    expect(message?.msgtype).toBe('m.notice');
    expect(message?.body.split('\n\n')[0]).toBe('web/prod: v1.2.3 failed');
    expect(message?.formatted_body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(message?.formatted_body).not.toContain('<img');
    expect(message?.formatted_body).toContain(
      '<a href="https://dw.example/deploys/deploy-web">Open deploy</a>',
    );
  });

  it('retries with the same transaction id, so a lost answer never posts twice', async () => {
    const event = sample('deploy:failed');
    fake.script('reset');
    await expect(notifier.notify({ event })).rejects.toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    await notifier.notify({ event });
    expect(events(fake.roomId)).toHaveLength(1);
    const sends = fake.requests.filter((request) => request.method === 'PUT');
    expect(sends).toHaveLength(2);
    expect(sends[0]?.path).toBe(sends[1]?.path);
  });

  it('accepts an invite to a listed room, and posts to every joined room when none is listed', async () => {
    const invited = createMatrixNotifier({
      homeserver: fake.homeserver,
      accessToken: fake.accessToken,
      rooms: [fake.invitedRoomId],
    });
    await invited.notify({ event: sample('deploy:failed') });
    await invited.dispose();
    const all = createMatrixNotifier({ homeserver: fake.homeserver, accessToken: fake.accessToken });
    await all.notify({ event: sample('deploy:succeeded') });
    await all.dispose();
    expect(events(fake.invitedRoomId)).toHaveLength(2);
    expect(events(fake.roomId)).toHaveLength(1);
  });

  it('logs in again when its token was revoked', async () => {
    await notifier.notify({ event: sample('deploy:failed') });
    fake.revokeTokens();
    await notifier.notify({ event: sample('deploy:succeeded') });
    expect(events(fake.roomId)).toHaveLength(2);
    expect(fake.requests.filter((request) => request.path.endsWith('/login'))).toHaveLength(2);
  });

  it('maps the documented answers: Retry-After first, retry_after_ms when it is all there is', async () => {
    const token = createMatrixNotifier({
      homeserver: fake.homeserver,
      accessToken: fake.accessToken,
      rooms: [fake.roomId],
    });
    await expectAnswers(
      fake,
      token,
      [
        ['limited_header', { code: 'RATE_LIMITED', retryable: true, retryAfterMs: 1000 }],
        ['limited_body', { code: 'RATE_LIMITED', retryable: true, retryAfterMs: 1200 }],
        ['limited_both', { code: 'RATE_LIMITED', retryable: true, retryAfterMs: 1000 }],
        ['forbidden', { code: 'FORBIDDEN', retryable: false }],
        ['bad_json', { code: 'BAD_REQUEST', retryable: false }],
        ['unknown_token', { code: 'UNAUTHORIZED', retryable: false }],
      ],
      [fake.accessToken],
    );
    await token.dispose();
  });

  it('needs a token, or a user and a password', () => {
    expect(() => createMatrixNotifier({ homeserver: fake.homeserver, user: 'watcher' })).toThrow(
      /needs accessToken, or user and password/,
    );
  });
});

describe('matrix service URLs', () => {
  it('reads user:password@host with rooms and disableTLS, and delivers to the homeserver it names', async () => {
    const host = new URL(fake.homeserver).host;
    const parsed = parseServiceUrl(
      `matrix://${fake.user}:${fake.password}@${host}/?rooms=${encodeURIComponent(fake.roomAlias)}&disableTLS=yes`,
    );
    expect(parsed).toEqual({
      channel: 'matrix',
      options: {
        homeserver: `http://${host}`,
        user: fake.user,
        password: fake.password,
        rooms: [fake.roomAlias],
      },
      secrets: [fake.password],
    });
    const local = createMatrixNotifier(parsed.options as { homeserver: string });
    await local.notify({ event: sample('deploy:rolled-back') });
    await local.dispose();
    expect(events(fake.roomId)).toHaveLength(1);
  });

  it('takes the password of an empty user as an access token', () => {
    expect(parseServiceUrl('matrix://:syt_token_123@matrix.example.org').options).toEqual({
      homeserver: 'https://matrix.example.org',
      accessToken: 'syt_token_123',
    });
  });
});
