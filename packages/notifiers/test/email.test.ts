import type { Notifier } from '@docker-watcher/core';
import { type SmtpServer, startSmtpServer } from '@docker-watcher/testkit/notify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmailNotifier, type EmailNotifierOptions, emailFromServiceUrl } from '../src/email/index.ts';
import { parseServiceUrl } from '../src/index.ts';
import { sample } from './_harness.ts';
import { subjectOf } from './_titles.ts';

const auth = { username: 'watcher', password: 'dw-smtp-Secret-0123' };
let server: SmtpServer;
let plain: SmtpServer;

beforeAll(async () => {
  server = await startSmtpServer({ auth });
  plain = await startSmtpServer({ tls: false });
});
afterAll(async () => {
  await server?.stop();
  await plain?.stop();
});

const base = (): EmailNotifierOptions => ({
  host: server.host,
  port: server.port,
  encryption: 'starttls',
  tlsCa: server.ca,
  username: auth.username,
  password: auth.password,
  from: 'watcher@localhost',
  fromName: 'Docker Watcher',
  to: ['ops@localhost'],
  publicUrl: 'https://dw.example',
});

const send = async (options: EmailNotifierOptions, event = sample('deploy:awaiting-confirmation')) => {
  const notifier: Notifier = createEmailNotifier(options);
  try {
    await notifier.notify({ event });
  } finally {
    await notifier.dispose();
  }
};

const failure = (options: EmailNotifierOptions) =>
  send(options).then(
    () => undefined,
    (error: unknown) => error as Record<string, unknown>,
  );

/** Undoes quoted-printable, which nodemailer uses for long lines. */
const unQuote = (text: string) =>
  text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));

describe('email on a real SMTP server', () => {
  it('sends over STARTTLS with AUTH: subject, plain text and HTML, both with the link to the approvals page', async () => {
    const before = server.messages('ops').length;
    await send(base());
    const [message = ''] = (await server.waitForMessages('ops', before + 1)).slice(before);
    expect(subjectOf(message)).toBe('web/prod: v1.2.3 awaits approval');
    expect(message).toMatch(/^From: Docker Watcher <watcher@localhost>$/m);
    expect(message).toMatch(/^X-Docker-Watcher-Event: deploy:awaiting-confirmation$/m);
    expect(message).toMatch(/with esmtpsa\s+\(TLS1\.3\)/);
    const body = unQuote(message);
    expect(body).toContain('Review approval: https://dw.example/approvals');
    expect(body).toContain('<a href="https://dw.example/approvals">Review approval</a>');
    expect(body).toContain('multipart/alternative');
  });

  it('sends over TLS from the first byte (SMTPS)', async () => {
    const before = server.messages('ops').length;
    await send({ ...base(), port: server.tlsPort, encryption: 'tls' });
    expect(await server.waitForMessages('ops', before + 1)).toHaveLength(before + 1);
  });

  it('escapes text from outside in the HTML part', async () => {
    const before = server.messages('ops').length;
    const event = {
      ...sample('deploy:failed'),
      error: {
        code: 'INTERNAL' as const,
        message: '<a href="https://evil">x</a>',
        retryable: false,
        details: {},
      },
    };
    await send(base(), event);
    const [message = ''] = (await server.waitForMessages('ops', before + 1)).slice(before);
    const html = unQuote(message).split('Content-Type: text/html')[1] ?? '';
    expect(html).toContain('&lt;a href=&quot;https://evil&quot;&gt;x&lt;/a&gt;');
    expect(html).not.toContain('<a href="https://evil">');
  });

  it('maps what the server says onto error codes, never quoting the password', async () => {
    const cases = [
      [
        { ...base(), password: 'wrong-password-1' },
        { code: 'UNAUTHORIZED', retryable: false },
      ],
      [
        { ...base(), to: ['nobody@localhost'] },
        { code: 'BAD_REQUEST', retryable: false },
      ],
      [
        { ...base(), tlsCa: undefined },
        { code: 'UNAVAILABLE', retryable: false },
      ],
      [
        {
          ...base(),
          host: plain.host,
          port: plain.port,
          tlsCa: undefined,
          username: undefined,
          password: undefined,
        },
        { code: 'UNAVAILABLE', retryable: false },
      ],
      [
        { ...base(), port: 9 },
        { code: 'UNAVAILABLE', retryable: true },
      ],
    ] as const;
    for (const [options, expected] of cases) {
      const error = await failure(options as EmailNotifierOptions);
      expect({ code: error?.code, retryable: error?.retryable }).toEqual(expected);
      expect(JSON.stringify({ message: error?.message, details: error?.details })).not.toContain(
        auth.password,
      );
    }
  });

  it('sends in plain text to a server without TLS only when STARTTLS is not demanded', async () => {
    await send({
      host: plain.host,
      port: plain.port,
      encryption: 'auto',
      from: 'watcher@localhost',
      to: ['dev@localhost'],
    });
    expect(await plain.waitForMessages('dev', 1)).toHaveLength(1);
  });
});

describe('email service URLs', () => {
  it("reads Shoutrrr's SMTP URL with Watchtower's long names", () => {
    expect(
      parseServiceUrl(
        'smtp://watcher:p%40ss@smtp.example.com:587/?fromaddress=dw@example.com&fromname=DW&toaddresses=a@example.com,b@example.com&subject=Deploys&auth=Plain&encryption=ExplicitTLS&usehtml=no&clienthost=dw.example.com',
      ),
    ).toEqual({
      channel: 'email',
      options: {
        host: 'smtp.example.com',
        port: 587,
        encryption: 'starttls',
        username: 'watcher',
        password: 'p@ss',
        authMethod: 'PLAIN',
        from: 'dw@example.com',
        fromName: 'DW',
        to: ['a@example.com', 'b@example.com'],
        html: false,
        clientHost: 'dw.example.com',
        titleTemplate: 'Deploys: {{title}}',
      },
      secrets: ['p@ss'],
    });
    expect(
      emailFromServiceUrl(
        new URL('smtp://mail.example.com/?from=a@example.com&to=b@example.com&encryption=ImplicitTLS'),
      ).options,
    ).toMatchObject({
      encryption: 'tls',
    });
    expect(() =>
      emailFromServiceUrl(
        new URL('smtp://mail.example.com/?from=a@example.com&to=b@example.com&auth=OAuth2'),
      ),
    ).toThrow(/OAuth2 is not supported/);
  });

  it('delivers through the URL it parsed', async () => {
    const url = `smtp://${auth.username}:${auth.password}@127.0.0.1:${server.port}/?from=watcher@localhost&to=dev@localhost&usestarttls=yes&requirestarttls=yes&skiptlsverify=yes`;
    const { options } = parseServiceUrl(url);
    await send(options as EmailNotifierOptions);
    expect(await server.waitForMessages('dev', 1)).toHaveLength(1);
  });
});
