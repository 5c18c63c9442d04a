// GET /api/events on the real stack: what a client sees of people's actions, bad filters, resuming,
// and 200 clients that never read over real sockets, which the server drops instead of buffering.
import type { Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { serve } from '@hono/node-server';
import { afterEach, describe, expect, it } from 'vitest';
import { readEventStream } from '../src/client.ts';
import { auth, digest, type Harness, harness, post, tokens } from './support.ts';

let h: Harness | undefined;
let server: Server | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
  await h?.close();
  h = undefined;
});

const repo = 'team/web-app';
const stage = '/api/projects/web-app/stages';

/** The next `count` messages of an event stream response, within 5 s. */
async function take(response: Response, count: number) {
  const messages: Array<{ event: string; id?: string; data: Record<string, unknown> }> = [];
  const timeout = setTimeout(() => void response.body?.cancel(), 5_000);
  for await (const message of readEventStream(response.body!)) {
    messages.push({ ...message, data: JSON.parse(message.data) });
    if (messages.length >= count) break;
  }
  clearTimeout(timeout);
  return messages;
}

describe('GET /api/events', () => {
  it("streams people's actions with who did them, and nothing but events", async () => {
    h = await harness();
    const stream = await h.app.request('/api/events', { headers: auth(tokens.read) });
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    h.registry.push(repo, 'dev-1', digest(1));
    await h.app.request(`${stage}/rel/auto-deploy`, post(tokens.deploy, { enabled: false }));
    await h.app.request(`${stage}/dev/deploy`, post(tokens.deploy, { tag: 'dev-1' }));
    await h.composed.engine.idle();
    const messages = await take(stream, 6);
    expect(messages[0]).toMatchObject({
      event: 'stage:updated',
      data: { type: 'stage:updated', stage: 'rel', change: 'auto-deploy', autoDeploy: false, by: 'deployer' },
    });
    expect(messages[1]).toMatchObject({ event: 'deploy:queued', data: { by: 'deployer', stage: 'dev' } });
    expect(messages.map((m) => Number(m.id))).toEqual(messages.map((_, i) => Number(messages[0]!.id) + i));
    expect(messages.some((m) => m.event === 'deploy:log')).toBe(false);
  });

  it('refuses an unknown event type with the parameter named', async () => {
    h = await harness();
    const response = await h.app.request('/api/events?types=deploy:queued,deploy:exploded', {
      headers: auth(tokens.read),
    });
    expect(response.status).toBe(400);
    expect(
      ((await response.json()) as { error: { fields: Array<{ path: string }> } }).error.fields[0]?.path,
    ).toBe('types.1');
  });

  it('resumes after Last-Event-ID, and says reset when the id is older than the server keeps', async () => {
    h = await harness({ eventStream: { ringSize: 2 } });
    for (const enabled of [false, true, false, true])
      await h.app.request(`${stage}/rel/auto-deploy`, post(tokens.deploy, { enabled }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const last = h.composed.events.lastEventId;
    const resumed = await take(
      await h.app.request('/api/events', {
        headers: auth(tokens.read, { 'last-event-id': String(last - 1) }),
      }),
      1,
    );
    expect(resumed.map((m) => m.id)).toEqual([String(last)]);
    const old = await take(
      await h.app.request('/api/events', {
        headers: auth(tokens.read, { 'last-event-id': String(last - 3) }),
      }),
      1,
    );
    expect(old).toEqual([
      {
        event: 'reset',
        data: {
          reason: `Last-Event-ID ${last - 3} is older than the events this server keeps`,
          lastEventId: last,
        },
      },
    ]);
  });

  it('drops 200 clients that never read over real sockets; memory stays bounded and new clients are served', async () => {
    const limit = 16 * 1024;
    h = await harness({ eventStream: { clientBufferBytes: limit } });
    const app = h.app;
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
    await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
    const { port } = server.address() as AddressInfo;
    for (let n = 0; n < 200; n++) {
      const socket = connect({ host: '127.0.0.1', port });
      socket.on('error', () => undefined);
      socket.write(
        `GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${tokens.read}\r\n\r\n`,
      );
      // It never reads: what the server sends stays in the kernel's buffers, then in the server's.
      socket.pause();
      sockets.push(socket);
    }
    const events = h.composed.events;
    for (let tries = 0; events.stats().subscribers < 200 && tries < 200; tries++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    expect(events.stats().subscribers).toBe(200);
    const heapBefore = process.memoryUsage().heapUsed;
    let worst = 0;
    // 3,000 events of about 2 kB: 6 MB for each client, 1.2 GB for all if the server kept them.
    for (let n = 0; n < 3_000; n++) {
      h.composed.engine.bus.emit({
        type: 'adapter:error',
        at: new Date().toISOString(),
        adapterId: 'registry:memory/local',
        operation: 'listTags',
        error: { code: 'UNAVAILABLE', message: `${n} ${'x'.repeat(2_000)}`, retryable: true, details: {} },
      });
      if (n % 5 === 4) {
        await new Promise((resolve) => setImmediate(resolve));
        worst = Math.max(worst, events.stats().queuedBytes);
      }
    }
    for (let tries = 0; events.stats().subscribers > 0 && tries < 200; tries++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    const heapAfter = process.memoryUsage().heapUsed;
    expect(events.stats()).toMatchObject({ subscribers: 0, dropped: 200, queuedBytes: 0 });
    expect(worst).toBeLessThanOrEqual(200 * limit);
    expect(heapAfter - heapBefore).toBeLessThan(100 * 1024 * 1024);
    // The server goes on: a new client gets the newest event at once.
    const fresh = await fetch(`http://127.0.0.1:${port}/api/events`, {
      headers: auth(tokens.read, { 'last-event-id': String(events.lastEventId - 1) }),
    });
    expect((await take(fresh as unknown as Response, 1))[0]?.event).toBe('adapter:error');
  });
});
