import { describe, expect, it } from 'vitest';
import { createMemoryReverseProxy } from './memory-reverse-proxy.ts';

const upstream = (port: number) => ({ host: '127.0.0.1', port });

describe('createMemoryReverseProxy', () => {
  it('records effective changes only, with hosts in lower case', async () => {
    const proxy = createMemoryReverseProxy();
    await proxy.ensureRoute({ route: { host: 'Web.Example.com', upstream: upstream(3000) } });
    await proxy.ensureRoute({ route: { host: 'web.example.com', upstream: upstream(3000) } });
    await proxy.ensureRoute({ route: { host: 'web.example.com', upstream: upstream(3001) } });
    await proxy.removeRoute({ host: 'WEB.example.com' });
    await proxy.removeRoute({ host: 'web.example.com' });
    expect(proxy.changes).toEqual([
      { action: 'ensured', route: { host: 'web.example.com', upstream: upstream(3000) } },
      { action: 'ensured', route: { host: 'web.example.com', upstream: upstream(3001) } },
      { action: 'removed', host: 'web.example.com' },
    ]);
    expect(proxy.routes).toEqual([]);
  });

  it('rejects routes without a host or with a bad port as BAD_REQUEST', async () => {
    const proxy = createMemoryReverseProxy();
    await expect(proxy.ensureRoute({ route: { host: ' ', upstream: upstream(80) } })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(
      proxy.ensureRoute({ route: { host: 'a.test', upstream: upstream(0) } }),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('keeps the previous route when a switch fails', async () => {
    const proxy = createMemoryReverseProxy();
    await proxy.ensureRoute({ route: { host: 'a.test', upstream: upstream(1) } });
    proxy.faults.failNext('ensureRoute', 'UNAVAILABLE');
    await expect(
      proxy.ensureRoute({ route: { host: 'a.test', upstream: upstream(2) } }),
    ).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(proxy.routes).toEqual([{ host: 'a.test', upstream: upstream(1) }]);
  });
});
