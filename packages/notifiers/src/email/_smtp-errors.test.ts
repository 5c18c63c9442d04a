import { describe, expect, it } from 'vitest';
import { smtpError } from './_smtp-errors.ts';

const context = { id: 'notifier:email', what: 'send deploy:failed', detail: (text: string) => text };
const failure = (code: string, message = `failed ${code}`, more: object = {}) =>
  Object.assign(new Error(message), { code, ...more });

describe('smtpError', () => {
  it.each([
    [failure('EENVELOPE', 'No recipients defined', { responseCode: 421 }), 'UNAVAILABLE', true],
    [failure('EAUTH', 'Invalid login'), 'UNAUTHORIZED', false],
    [failure('ETIMEDOUT', 'Greeting never received'), 'TIMEOUT', true],
    [failure('ETLS', 'STARTTLS failed'), 'UNAVAILABLE', false],
    [failure('ESOCKET', 'self-signed certificate in certificate chain'), 'UNAVAILABLE', false],
    [failure('ECONNECTION', 'Connection closed'), 'UNAVAILABLE', true],
    [failure('EDNS', 'getaddrinfo ENOTFOUND smtp'), 'UNAVAILABLE', true],
    [failure('ECONNRESET', 'read ECONNRESET'), 'UNAVAILABLE', true],
    [failure('EENVELOPE', 'Recipient refused', { responseCode: 550 }), 'BAD_REQUEST', false],
  ] as const)('maps %s to %s', (thrown, code, retryable) => {
    expect(smtpError(thrown, context)).toMatchObject({ code, retryable });
  });

  it('knows the socket codes every network adapter knows, also under a wrapping error', () => {
    expect(smtpError(failure('ECONNREFUSED', 'connect ECONNREFUSED'), context)).toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
    });
    const wrapped = new Error('Unexpected socket close', { cause: failure('EPIPE', 'write EPIPE') });
    expect(smtpError(wrapped, context)).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
  });
});
