import { CoreError } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import {
  classifyPullFailure,
  classifyStartFailure,
  engineMessage,
  redact,
  toTargetError,
} from './_errors.ts';

const context = { action: 'start of dw-x', engine: '/var/run/docker.sock', target: 'target:docker' };

function engineError(statusCode: number, message: string) {
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message}`), {
    statusCode,
    json: { message },
  });
}

describe('toTargetError', () => {
  it('maps a missing or refused socket onto UNAVAILABLE, naming the engine', () => {
    const error = toTargetError(Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' }), context);
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.message).toBe(
      'The Docker Engine at /var/run/docker.sock is unreachable during start of dw-x: its socket does not exist, so the daemon is stopped or restarting (ENOENT)',
    );
  });

  it('says what a refused or broken connection means for the daemon', () => {
    const refused = toTargetError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), context);
    expect(refused.message).toMatch(
      /: it refused the connection, so the daemon is stopped or restarting \(ECONNREFUSED\)$/,
    );
    const reset = toTargetError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), context);
    expect(reset.code).toBe('UNAVAILABLE');
    expect(reset.retryable).toBe(true);
    expect(reset.message).toMatch(/the daemon stopped or restarted during the call \(ECONNRESET\)$/);
  });

  it("reads the socket code under a wrapping error, and codes only other adapters' copies knew", () => {
    const socket = Object.assign(new Error('connect ECONNREFUSED 10.0.0.2:2376'), { code: 'ECONNREFUSED' });
    const wrapped = toTargetError(new Error('request failed', { cause: socket }), context);
    expect(wrapped.message).toMatch(/: it refused the connection, .* \(ECONNREFUSED\)$/);
    const aborted = toTargetError(Object.assign(new Error('x'), { code: 'ECONNABORTED' }), context);
    expect(aborted.message).toMatch(/the daemon stopped or restarted during the call \(ECONNABORTED\)$/);
    const tls = toTargetError(Object.assign(new Error('cert'), { code: 'CERT_HAS_EXPIRED' }), context);
    expect(tls.message).toBe('start of dw-x failed: cert');
  });

  it('maps engine statuses with the engine message, not the modem prefix', () => {
    expect(toTargetError(engineError(404, 'No such container: abc'), context).message).toBe(
      'start of dw-x failed: No such container: abc',
    );
    expect(toTargetError(engineError(404, 'x'), context).code).toBe('NOT_FOUND');
    expect(toTargetError(engineError(409, 'x'), context).code).toBe('CONFLICT');
    expect(toTargetError(engineError(500, 'x'), context).code).toBe('UNAVAILABLE');
  });

  it('lets a classifier pick a more specific code', () => {
    const error = toTargetError(
      engineError(
        500,
        'driver failed programming external connectivity: Bind for 127.0.0.1:8080 failed: port is already allocated',
      ),
      { ...context, classify: classifyStartFailure },
    );
    expect(error.code).toBe('CONFLICT');
  });

  it('keeps CoreErrors, and reports aborts as ABORTED', () => {
    const original = new CoreError('TIMEOUT', 'slow');
    expect(toTargetError(original, context)).toBe(original);
    const controller = new AbortController();
    controller.abort();
    expect(toTargetError(new Error('whatever'), { ...context, signal: controller.signal }).code).toBe(
      'ABORTED',
    );
  });

  it('never carries a secret and clips long engine messages', () => {
    const error = toTargetError(engineError(500, `denied for s3cret ${'x'.repeat(1000)}`), {
      ...context,
      secrets: ['s3cret'],
    });
    expect(error.message).not.toContain('s3cret');
    expect(error.message.length).toBeLessThan(400);
    expect(redact('a s3cret b', ['s3cret', ''])).toBe('a [redacted] b');
  });
});

describe('classifiers', () => {
  it('read pull failures as the registry relays them', () => {
    expect(classifyPullFailure('unauthorized: authentication required')).toBe('UNAUTHORIZED');
    expect(classifyPullFailure('Get "http://r/v2/x/manifests/sha256:1": no basic auth credentials')).toBe(
      'UNAUTHORIZED',
    );
    expect(classifyPullFailure('pull access denied for x, repository does not exist')).toBe('UNAUTHORIZED');
    expect(
      classifyPullFailure('manifest for r/x@sha256:1 not found: manifest unknown: manifest unknown'),
    ).toBe('NOT_FOUND');
    expect(classifyPullFailure('toomanyrequests: You have reached your pull rate limit')).toBe(
      'RATE_LIMITED',
    );
    expect(classifyPullFailure('dial tcp 127.0.0.1:9: connect: connection refused')).toBe('UNAVAILABLE');
  });

  it('read start failures', () => {
    expect(classifyStartFailure('listen tcp4 127.0.0.1:8080: bind: address already in use')).toBe('CONFLICT');
    expect(
      classifyStartFailure('invalid mount config for type "bind": bind source path does not exist'),
    ).toBe('BAD_REQUEST');
    expect(classifyStartFailure('something else')).toBeUndefined();
  });

  it('engineMessage prefers the JSON body', () => {
    expect(engineMessage(engineError(500, ' body '))).toBe('body');
    expect(engineMessage(new Error('plain'))).toBe('plain');
    expect(engineMessage(Object.assign(new Error('x'), { json: 'text body' }))).toBe('text body');
  });
});
