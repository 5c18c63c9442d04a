import { isCoreError } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { listenerUrl, verifyThroughListener } from './_verify.ts';

describe('listenerUrl', () => {
  it.each([
    [['127.0.0.1:8080'], 'http', 'http://127.0.0.1:8080/'],
    [[':80'], 'http', 'http://127.0.0.1/'],
    [[':443'], 'https', 'https://127.0.0.1/'],
    [['0.0.0.0:8443'], 'https', 'https://127.0.0.1:8443/'],
    [['tcp/:8080'], 'http', 'http://127.0.0.1:8080/'],
    [['tcp6/[::]:8080'], 'http', 'http://[::1]:8080/'],
    [['[::1]:8080'], 'http', 'http://[::1]:8080/'],
    [['127.0.0.1:8000-8010'], 'http', 'http://127.0.0.1:8000/'],
    [['caddy:80', ':81'], 'http', 'http://caddy/'],
  ] as const)('%j over %s → %s', (listen, scheme, expected) => {
    expect(listenerUrl(listen, scheme, 'p').href).toBe(expected);
  });

  it.each([[[]], [['unix//run/caddy.sock']], [undefined], [[42]]])(
    '%j needs verifyUrl (CONFIG_INVALID)',
    (listen) => {
      let error: unknown;
      try {
        listenerUrl(listen, 'http', 'p');
      } catch (caught) {
        error = caught;
      }
      expect(isCoreError(error, 'CONFIG_INVALID')).toBe(true);
      expect((error as Error).message).toContain('verifyUrl');
    },
  );
});

describe('verifyThroughListener', () => {
  it('gives up after its timeout and says what it saw', async () => {
    const started = Date.now();
    const outcome = await verifyThroughListener({
      url: new URL('http://127.0.0.1:9'),
      host: 'a.test',
      path: '/',
      expected: 'x',
      timeoutMs: 200,
    });
    expect(outcome).toEqual({ ok: false, seen: 'ECONNREFUSED' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
