// The socket fault proxy in front of the real Docker Engine: passes the API on, stalls it (held
// connections answered once healed, nothing lost) and resets it, without touching the engine.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerClient, type SocketFaultProxy, startSocketFaultProxy } from '../src/index.ts';

let proxy: SocketFaultProxy;

beforeAll(async () => {
  proxy = await startSocketFaultProxy();
});

afterAll(async () => {
  await proxy?.stop();
});

type Outcome = { status: number; body: string } | { error: string };

/** `GET /_ping` of the engine through the proxy, on a fresh connection. */
function ping(): { outcome: Promise<Outcome> } {
  const req = request({ host: '127.0.0.1', port: proxy.port, path: '/_ping', agent: false });
  const outcome = new Promise<Outcome>((resolve) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (error) => resolve({ error: error.message }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
  });
  req.end();
  return { outcome };
}

describe('socket fault proxy in front of the Docker Engine', () => {
  it('passes the API on', async () => {
    expect(proxy.url).toBe(`tcp://127.0.0.1:${proxy.port}`);
    expect(await ping().outcome).toEqual({ status: 200, body: 'OK' });
  });

  it('stall: accepts the connection and answers nothing until healed, then passes what it held', async () => {
    proxy.set('stall');
    const held = ping();
    let settled = false;
    void held.outcome.then(() => {
      settled = true;
    });
    // Bounded: the connection reaches the proxy within milliseconds.
    for (let i = 0; i < 250 && (proxy.faulted.get('stall') ?? 0) < 1; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(proxy.faulted.get('stall')).toBe(1);
    // The engine itself answers meanwhile (twice, directly): the held request would have been answered too.
    await dockerClient().ping();
    await dockerClient().ping();
    expect(settled).toBe(false);
    proxy.set('pass');
    expect(await held.outcome).toEqual({ status: 200, body: 'OK' });
  });

  it('reset: drops new connections until healed', async () => {
    proxy.set('reset');
    const outcome = await ping().outcome;
    expect(outcome).toHaveProperty('error');
    expect(proxy.faulted.get('reset')).toBeGreaterThanOrEqual(1);
    proxy.set('pass');
    expect(await ping().outcome).toEqual({ status: 200, body: 'OK' });
  });
});
