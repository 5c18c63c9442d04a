import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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

  it('reports the answer it got, not an attempt the deadline cut short after it', async () => {
    // The first request gets a 502, every later one hangs: the last attempt ends at the deadline.
    let requests = 0;
    const server = createServer((_req, res) => {
      requests += 1;
      if (requests === 1) res.writeHead(502).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const outcome = await verifyThroughListener({
        url: new URL(`http://127.0.0.1:${port}`),
        host: 'a.test',
        path: '/',
        expected: 'x',
        timeoutMs: 300,
      });
      expect(requests).toBeGreaterThan(1);
      expect(outcome).toMatchObject({ ok: false, seen: 'status 502 without X-Docker-Watcher-Upstream' });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
