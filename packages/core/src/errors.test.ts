import { describe, expect, it } from 'vitest';
import {
  CoreError,
  codeFromHttpStatus,
  httpStatusOf,
  isCoreError,
  parseRetryAfter,
  toCoreError,
} from './errors.ts';

describe('CoreError', () => {
  it('is recognised by its brand, also as a plain object from another copy of core', () => {
    const error = new CoreError('NOT_FOUND', 'no such repository');
    expect(isCoreError(error)).toBe(true);
    expect(isCoreError(error, 'NOT_FOUND')).toBe(true);
    expect(isCoreError(error, 'CONFLICT')).toBe(false);
    expect(isCoreError(new Error('x'))).toBe(false);
    const foreign = Object.assign(new Error('x'), {
      [Symbol.for('docker-watcher.core-error')]: true,
      code: 'TIMEOUT',
    });
    expect(isCoreError(foreign, 'TIMEOUT')).toBe(true);
  });

  it('derives retryable from the code unless told otherwise', () => {
    expect(new CoreError('RATE_LIMITED', 'slow down').retryable).toBe(true);
    expect(new CoreError('UNAVAILABLE', 'down').retryable).toBe(true);
    expect(new CoreError('NOT_FOUND', 'gone').retryable).toBe(false);
    expect(new CoreError('NOT_FOUND', 'gone', { retryable: true }).retryable).toBe(true);
  });

  it('serialises without its cause', () => {
    const error = new CoreError('BAD_RESPONSE', 'garbled', {
      cause: new Error('secret body'),
      details: { status: 200 },
    });
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      code: 'BAD_RESPONSE',
      message: 'garbled',
      retryable: false,
      details: { status: 200 },
    });
  });

  it('wraps aborts and timeouts with their own codes', () => {
    expect(toCoreError(new DOMException('x', 'AbortError')).code).toBe('ABORTED');
    expect(toCoreError(new DOMException('x', 'TimeoutError')).code).toBe('TIMEOUT');
    expect(toCoreError('boom').code).toBe('INTERNAL');
  });

  it.each([
    [400, 'BAD_REQUEST'],
    [401, 'UNAUTHORIZED'],
    [403, 'FORBIDDEN'],
    [404, 'NOT_FOUND'],
    [409, 'CONFLICT'],
    [429, 'RATE_LIMITED'],
    [500, 'UNAVAILABLE'],
    [503, 'UNAVAILABLE'],
    [504, 'TIMEOUT'],
    [302, 'BAD_RESPONSE'],
  ] as const)('maps HTTP %i to %s and back to a sensible status', (status, code) => {
    expect(codeFromHttpStatus(status)).toBe(code);
    expect(httpStatusOf(code)).toBeGreaterThanOrEqual(400);
  });

  it('parses Retry-After in seconds and as a date', () => {
    expect(parseRetryAfter('12')).toBe(12_000);
    expect(
      parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')),
    ).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
