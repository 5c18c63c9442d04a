import { Agent, request } from 'node:http';
import { type CaddyInstance, startCaddy } from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaddyProxy } from '../src/index.ts';
import { type LoopbackUpstream, startUpstream } from './upstreams.ts';

// Caddy 2.6 binds with SO_REUSEPORT: every config load opens a new socket and closes the old one.
// Without net.ipv4.tcp_migrate_req=1 the kernel resets connections still queued on the old socket,
// so the testkit makes sure it is set (the README of proxy-caddy tells users to set it too).
let caddy: CaddyInstance;
let blue: LoopbackUpstream;
let green: LoopbackUpstream;

beforeAll(async () => {
  caddy = await startCaddy({ zeroDropReloads: true });
  blue = await startUpstream('blue');
  green = await startUpstream('green');
});

afterAll(async () => {
  await caddy?.stop();
  await blue?.close();
  await green?.close();
});

interface Outcome {
  readonly ok: boolean;
  readonly detail: string;
  /** The request went out on a kept-alive connection and failed before any byte of an answer. */
  readonly retryable: boolean;
}

function once(host: string, agent: Agent | false): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port: caddy.httpPort, path: '/', headers: { host }, agent },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => {
          const ok = res.statusCode === 200 && (body === 'blue' || body === 'green');
          resolve({ ok, detail: `${res.statusCode} ${body.slice(0, 40)}`, retryable: false });
        });
        res.on('error', (error) => resolve({ ok: false, detail: error.message, retryable: false }));
      },
    );
    req.on('error', (error) => resolve({ ok: false, detail: error.message, retryable: req.reusedSocket }));
    req.end();
  });
}

describe('zero-failure switches', () => {
  it('a request loop through Caddy sees no failure while the upstream switches back and forth 10 times', async () => {
    const host = 'zero-downtime.caddy.test';
    const proxy = createCaddyProxy({ adminUrl: caddy.adminUrl, server: caddy.serverName, tls: 'off' });
    await proxy.ensureRoute({ route: { host, upstream: blue.upstream } });

    const failures: string[] = [];
    let requests = 0;
    let keptAliveRetries = 0;
    let switching = true;
    const startedAt = Date.now();
    // Bounded in count and time whatever happens; the loop normally ends when the switches do.
    const running = () => switching && requests < 5_000 && Date.now() - startedAt < 10_000;

    // Two clients open a connection per request: any error is a failure.
    const freshClient = async () => {
      while (running()) {
        requests++;
        const outcome = await once(host, false);
        if (!outcome.ok) failures.push(`fresh: ${outcome.detail}`);
      }
    };
    // Two clients keep connections alive, as browsers do. A reload closes idle kept-alive
    // connections; like browsers (RFC 9112, 9.3.1), they retry an idempotent request once when a
    // reused connection closes before any byte of an answer. Anything else is a failure.
    const keepAliveClient = async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        while (running()) {
          requests++;
          let outcome = await once(host, agent);
          if (!outcome.ok && outcome.retryable) {
            keptAliveRetries++;
            outcome = await once(host, agent);
          }
          if (!outcome.ok) failures.push(`keep-alive: ${outcome.detail}`);
        }
      } finally {
        agent.destroy();
      }
    };
    const clients = Promise.all([freshClient(), freshClient(), keepAliveClient(), keepAliveClient()]);

    const switchedTo: string[] = [];
    try {
      for (let index = 0; index < 10; index++) {
        await new Promise((resolve) => setTimeout(resolve, 60));
        const target = index % 2 === 0 ? green : blue;
        await proxy.ensureRoute({ route: { host, upstream: target.upstream } });
        switchedTo.push(target.name);
      }
      await new Promise((resolve) => setTimeout(resolve, 60));
    } finally {
      switching = false;
      await clients;
      await proxy.removeRoute({ host });
      await proxy.dispose();
    }

    expect(switchedTo).toHaveLength(10);
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(200);
    expect(blue.served()).toBeGreaterThan(50);
    expect(green.served()).toBeGreaterThan(50);
    process.stdout.write(
      `zero-downtime: ${requests} requests in ${Date.now() - startedAt} ms over 10 switches, 0 failed, ${keptAliveRetries} kept-alive retries\n`,
    );
  });
});
