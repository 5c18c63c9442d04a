import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type CoreError, isCoreError } from '@docker-watcher/core';
import { type CaddyInstance, startCaddy } from '@docker-watcher/testkit';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createCaddyProxy } from '../src/caddy-proxy.ts';
import { getThrough, type LoopbackUpstream, startUpstream } from './upstreams.ts';

// A real Caddy whose admin API listens on a Unix socket only (`admin.listen: "unix//…"`).
let caddy: CaddyInstance;
let blue: LoopbackUpstream;
let socket: string;

beforeAll(async () => {
  caddy = await startCaddy();
  blue = await startUpstream('blue');
  socket = join(caddy.dir, 'admin.sock');
  // Caddy answers, then moves its admin server to the socket.
  await fetch(`${caddy.adminUrl}/config/admin/listen`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', connection: 'close' },
    body: JSON.stringify(`unix/${socket}`),
  }).catch(() => undefined);
  await vi.waitFor(
    () => {
      if (!existsSync(socket)) throw new Error(`Caddy has not opened ${socket} yet`);
    },
    { timeout: 30_000, interval: 50 },
  );
});

afterAll(async () => {
  await caddy?.stop();
  await blue?.close();
});

it('routes a host through an admin API on a Unix socket (adminSocket)', async () => {
  const adapter = createCaddyProxy({
    adminSocket: socket,
    server: caddy.serverName,
    tls: 'off',
    verifyTimeoutMs: 10_000,
  });
  try {
    expect(adapter.adminUrl).toBe(`unix:${socket}`);
    const host = 'socket.caddy.test';
    await adapter.ensureRoute({ route: { host, upstream: blue.upstream } });
    expect(await adapter.getRoute({ host })).toEqual({
      host,
      upstream: { ...blue.upstream, scheme: 'http' },
    });
    expect((await getThrough(caddy.httpPort, host)).body).toBe('blue');
    await adapter.removeRoute({ host });
    expect(await adapter.getRoute({ host })).toBeUndefined();
  } finally {
    await adapter.dispose();
  }
});

it('a missing admin socket is UNAVAILABLE, naming the socket', async () => {
  const missing = join(caddy.dir, 'missing.sock');
  const adapter = createCaddyProxy({ adminSocket: missing, server: caddy.serverName, tls: 'off' });
  try {
    const error = (await adapter.getRoute({ host: 'a.caddy.test' }).catch((e: unknown) => e)) as CoreError;
    expect(isCoreError(error, 'UNAVAILABLE')).toBe(true);
    expect(error.message).toContain(`unix:${missing}`);
    expect(error.message).toContain('(ENOENT)');
  } finally {
    await adapter.dispose();
  }
});
