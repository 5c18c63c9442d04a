import { describe, expect, it } from 'vitest';
import { classifyNomadError, clip, nomadStatusError, redact } from './_errors.ts';

describe('classifyNomadError', () => {
  it.each([
    [500, 'Enforcing job modify index 12: job exists with conflicting job modify index: 14', 'CONFLICT'],
    [500, 'current job has version 4; enforcing version of 3', 'CONFLICT'],
    [403, 'Permission denied', 'FORBIDDEN'],
    [500, 'rpc error: Permission denied', 'FORBIDDEN'],
    [403, 'ACL token not found', 'UNAUTHORIZED'],
    [403, 'ACL token expired', 'UNAUTHORIZED'],
    [404, 'job not found', 'NOT_FOUND'],
    [500, 'deployment not found', 'NOT_FOUND'],
    [500, 'rpc error: 1 error occurred:\n\t* Task group "web" has 0/1 healthy allocations', 'CONFLICT'],
    [400, '1 error occurred: * Task group web validation failed', 'BAD_REQUEST'],
    [500, '1 error occurred: * Task group web validation failed', 'BAD_REQUEST'],
    [500, 'rpc error: No cluster leader', 'UNAVAILABLE'],
    [503, '', 'UNAVAILABLE'],
    [429, 'Too many requests', 'RATE_LIMITED'],
    [405, 'Invalid method', 'BAD_RESPONSE'],
  ] as const)('%i %j is %s', (status, body, code) => {
    expect(classifyNomadError(status, body)).toBe(code);
  });
});

describe('messages', () => {
  it('clip makes one line of at most max characters', () => {
    expect(clip('a\n\tb   c')).toBe('a b c');
    expect(clip('x'.repeat(10), 4)).toBe('xxxx…');
  });

  it('redact masks every secret, the longest first', () => {
    expect(redact('token abc and abcdef', ['abc', 'abcdef', ''])).toBe('token [redacted] and [redacted]');
  });

  it('nomadStatusError names the action, keeps the status and redacts the body', () => {
    const error = nomadStatusError(
      { target: 'target:nomad', address: 'http://nomad:4646', what: 'read job web', secrets: ['s3cr3t'] },
      403,
      'Permission denied: s3cr3t',
    );
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toBe('Nomad refused to read job web: Permission denied: [redacted]');
    expect(error.details).toEqual({ target: 'target:nomad', address: 'http://nomad:4646', status: 403 });
    expect(nomadStatusError({ target: 't', address: 'a', what: 'w', secrets: [] }, 502, '').message).toBe(
      'Nomad refused to w: HTTP 502',
    );
  });
});
