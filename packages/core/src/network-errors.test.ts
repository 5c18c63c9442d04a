import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CoreError } from './errors.ts';
import { networkErrorCode, networkFailure } from './network-errors.ts';

const socketError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });

/** A loopback port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('networkFailure', () => {
  it("reads a Node socket error's own code", () => {
    expect(networkFailure(socketError('ECONNREFUSED'))).toEqual({ code: 'ECONNREFUSED', reason: 'refused' });
    expect(networkFailure(socketError('ENOENT'))).toEqual({ code: 'ENOENT', reason: 'socket' });
  });

  it("finds the code under fetch's `fetch failed` of a real refused connection", async () => {
    const port = await closedPort();
    const thrown = await fetch(`http://127.0.0.1:${port}/`).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(thrown).toBeInstanceOf(TypeError);
    expect(networkFailure(thrown)).toEqual({ code: 'ECONNREFUSED', reason: 'refused' });
  });

  it('walks nested causes (ofetch wraps fetch, which wraps the socket error)', () => {
    const fetchFailed = new TypeError('fetch failed', { cause: socketError('ENOTFOUND') });
    const ofetch = new Error('[GET] "http://nomad:4646": <no response> fetch failed', { cause: fetchFailed });
    expect(networkFailure(ofetch)).toEqual({ code: 'ENOTFOUND', reason: 'dns' });
  });

  it("reads the members of a happy-eyeballs connect's AggregateError", () => {
    const both = new AggregateError([socketError('ENETUNREACH'), socketError('ECONNREFUSED')], '');
    expect(networkFailure(new TypeError('fetch failed', { cause: both }))).toEqual({
      code: 'ENETUNREACH',
      reason: 'unreachable',
    });
  });

  it('prefers a code it knows over one it does not, found first', () => {
    const wrapped = Object.assign(new Error('failed', { cause: socketError('ECONNRESET') }), {
      code: 'ERR_SOMETHING',
    });
    expect(networkFailure(wrapped)).toEqual({ code: 'ECONNRESET', reason: 'reset' });
    expect(networkFailure(Object.assign(new Error('x'), { code: 'UND_ERR_ABORTED' }))).toEqual({
      code: 'UND_ERR_ABORTED',
      reason: 'other',
    });
  });

  it('knows TLS failures by their codes', () => {
    for (const code of ['SELF_SIGNED_CERT_IN_CHAIN', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED']) {
      expect(networkFailure(new TypeError('fetch failed', { cause: socketError(code) }))?.reason).toBe('tls');
    }
  });

  it("passes over a CoreError's own code and reads its cause", () => {
    const wrapped = new CoreError('UNAVAILABLE', 'down', { cause: socketError('EHOSTUNREACH') });
    expect(networkFailure(wrapped)).toEqual({ code: 'EHOSTUNREACH', reason: 'unreachable' });
    expect(networkFailure(new CoreError('UNAVAILABLE', 'down'))).toBeUndefined();
  });

  it('ends on cycles and on long chains', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.assign(a, { cause: b });
    expect(networkFailure(a)).toBeUndefined();
    let deep: unknown = socketError('ECONNREFUSED');
    for (let i = 0; i < 100; i += 1) deep = new Error(`level ${i}`, { cause: deep });
    expect(networkFailure(deep)).toBeUndefined();
  });

  it('returns undefined for non-errors and errors without a code', () => {
    for (const value of [undefined, null, 'ECONNREFUSED', 42, { code: 7 }, new Error('plain')]) {
      expect(networkFailure(value)).toBeUndefined();
    }
    expect(networkFailure({ code: 'ECONNREFUSED' })).toEqual({ code: 'ECONNREFUSED', reason: 'refused' });
  });
});

describe('networkErrorCode', () => {
  it('makes a timeout TIMEOUT, TLS a final UNAVAILABLE, the rest a retryable UNAVAILABLE', () => {
    expect(networkErrorCode('timeout')).toEqual({ code: 'TIMEOUT', retryable: true });
    expect(networkErrorCode('tls')).toEqual({ code: 'UNAVAILABLE', retryable: false });
    expect(networkErrorCode('refused')).toEqual({ code: 'UNAVAILABLE', retryable: true });
  });
});
