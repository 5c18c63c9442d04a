import { CoreError } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { redact, toStoreError } from './_errors.ts';

const facts = {
  target: 'postgres://app@db:5432/dw',
  schema: 'docker_watcher',
  operation: 'putStage',
  connectTimeoutMs: 5_000,
  queryTimeoutMs: 250,
  password: 'pa$$word',
};

const serverError = (code: string, message: string): Error => Object.assign(new Error(message), { code });
const socketError = (code: string, message: string): Error => Object.assign(new Error(message), { code });

describe('toStoreError', () => {
  it.each([
    ['28P01', 'password authentication failed for user "app"', 'UNAUTHORIZED', false],
    ['3D000', 'database "dw" does not exist', 'CONFIG_INVALID', false],
    ['42501', 'permission denied for database dw', 'FORBIDDEN', false],
    ['57P01', 'terminating connection due to administrator command', 'UNAVAILABLE', true],
    ['57P03', 'the database system is starting up', 'UNAVAILABLE', true],
    ['08006', 'connection failure', 'UNAVAILABLE', true],
    ['53300', 'sorry, too many clients already', 'UNAVAILABLE', true],
    ['40P01', 'deadlock detected', 'UNAVAILABLE', true],
    ['25006', 'cannot execute INSERT in a read-only transaction', 'UNAVAILABLE', true],
    ['57014', 'canceling statement due to statement timeout', 'TIMEOUT', true],
    ['23505', 'duplicate key value violates unique constraint "deploys_id_key"', 'CONFLICT', false],
    ['23502', 'null value in column "line" violates not-null constraint', 'BAD_REQUEST', false],
    ['22021', 'invalid byte sequence for encoding "UTF8": 0x00', 'BAD_REQUEST', false],
    ['XX001', 'invalid page in block 0', 'INTERNAL', false],
    ['42P01', 'relation "x" does not exist', 'INTERNAL', false],
  ] as const)('maps SQLSTATE %s to %s', (state, text, code, retryable) => {
    const mapped = toStoreError(serverError(state, text), facts);
    expect(mapped).toMatchObject({
      code,
      retryable,
      details: { target: facts.target, schema: facts.schema, operation: 'putStage', sqlState: state },
    });
    expect(mapped.message).toContain(facts.target);
    expect(mapped.message).toContain(`${state} ${text}`);
  });

  it.each([
    [socketError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'), 'UNAVAILABLE'],
    [socketError('ENOTFOUND', 'getaddrinfo ENOTFOUND db'), 'UNAVAILABLE'],
    [new Error('Connection terminated unexpectedly'), 'UNAVAILABLE'],
    [new Error('Connection terminated due to connection timeout'), 'UNAVAILABLE'],
    [new Error('timeout exceeded when trying to connect'), 'UNAVAILABLE'],
    [new Error('Client has encountered a connection error and is not queryable'), 'UNAVAILABLE'],
    [new Error('Query read timeout'), 'TIMEOUT'],
    [new Error('connect failed', { cause: socketError('ECONNRESET', 'read ECONNRESET') }), 'UNAVAILABLE'],
    [socketError('ENETDOWN', 'connect ENETDOWN 10.0.0.2:5432'), 'UNAVAILABLE'],
    [socketError('EPROTO', 'write EPROTO wrong version number'), 'CONFIG_INVALID'],
    [new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string'), 'UNAUTHORIZED'],
    [new Error('The server does not support SSL connections'), 'CONFIG_INVALID'],
  ] as const)('maps %s to %s', (error, code) => {
    expect(toStoreError(error, facts)).toMatchObject({ code, details: { operation: 'putStage' } });
  });

  it('names the timeouts', () => {
    expect(toStoreError(serverError('57014', 'canceling statement'), facts).message).toMatch(
      /queryTimeoutMs \(250 ms\)/,
    );
    expect(toStoreError(new Error('timeout exceeded when trying to connect'), facts).message).toMatch(
      /connectTimeoutMs \(5000 ms\)/,
    );
  });

  it('never repeats the password, also when a driver message quotes it', () => {
    const mapped = toStoreError(new Error('could not use pa$$word or pa%24%24word'), facts);
    expect(`${mapped.message}${JSON.stringify(mapped)}`).not.toMatch(/pa\$\$word|pa%24%24word/);
    expect(redact('x pa$$word y', undefined)).toBe('x pa$$word y');
  });

  it('passes CoreErrors through and wraps other errors', () => {
    const original = new CoreError('CONFLICT', 'stale');
    expect(toStoreError(original, facts)).toBe(original);
    expect(toStoreError(new TypeError('boom'), facts)).toMatchObject({ code: 'INTERNAL' });
    expect(toStoreError(Object.assign(new Error('aborted'), { name: 'AbortError' }), facts)).toMatchObject({
      code: 'ABORTED',
    });
  });
});
