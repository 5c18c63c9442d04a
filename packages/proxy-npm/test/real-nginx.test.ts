import { request } from 'node:http';
import { type Loopback, type NginxInstance, startLoopback, startNginx } from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNpmProxy, type NpmProxy } from '../src/index.ts';
import { type FakeNpm, startFakeNpm } from './fake-npm.ts';

// The adapter through the loopback NPM in its real-nginx mode: every change NPM would make is
// rendered into a real nginx and reloaded, and real requests go through that nginx.
let nginx: NginxInstance;
let npm: FakeNpm;
let proxy: NpmProxy;
const upstreams: Loopback[] = [];

const named = (name: string) =>
  startLoopback((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end(name);
  });

/** One GET through nginx with the given Host, on a new connection: status and body, or the failure. */
function through(host: string): Promise<string> {
  return new Promise((resolve) => {
    // node:http, not fetch: fetch does not send a Host header of the caller's choosing.
    const req = request(
      {
        host: '127.0.0.1',
        port: nginx.httpPort,
        path: '/',
        headers: { host },
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve(`${res.statusCode} ${body}`));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', (error) => resolve(`failed: ${error.message}`));
    req.end();
  });
}

const upstreamOf = (loopback: Loopback) => {
  const url = new URL(loopback.url);
  return { host: url.hostname, port: Number(url.port), scheme: 'http' as const };
};

beforeAll(async () => {
  nginx = await startNginx();
  npm = await startFakeNpm({ nginx });
  proxy = createNpmProxy({ url: npm.url, email: npm.user.email, password: npm.user.password, settleMs: 0 });
  upstreams.push(await named('blue'), await named('green'));
}, 300_000);

afterAll(async () => {
  await proxy?.dispose();
  await npm?.close();
  await nginx?.stop();
  await Promise.all(upstreams.map((upstream) => upstream.close()));
});

describe('proxy:npm through a real nginx configured as NPM configures it', () => {
  it('routes, switches and removes a host for real traffic', async () => {
    const [blue, green] = upstreams as [Loopback, Loopback];
    const host = 'app.npm-real.test';
    expect(await through(host)).toMatch(/^404 /);

    await proxy.ensureRoute({ route: { host, upstream: upstreamOf(blue) } });
    await expect.poll(() => through(host), { timeout: 30_000, interval: 100 }).toBe('200 blue');

    await proxy.ensureRoute({ route: { host, upstream: upstreamOf(green) } });
    await expect.poll(() => through(host), { timeout: 30_000, interval: 100 }).toBe('200 green');

    await proxy.removeRoute({ host });
    await expect.poll(() => through(host), { timeout: 30_000, interval: 100 }).toMatch(/^404 /);
  });

  it("keeps nginx serving when a host's config fails nginx -t, and says so", async () => {
    const [blue] = upstreams as [Loopback, Loopback];
    const host = 'broken.npm-real.test';
    // advanced_config goes into the server block as NPM writes it: an unknown directive fails nginx -t.
    const broken = createNpmProxy({
      url: npm.url,
      email: npm.user.email,
      password: npm.user.password,
      advancedConfig: 'no_such_directive on;',
      settleMs: 0,
    });
    try {
      await expect(broken.ensureRoute({ route: { host, upstream: upstreamOf(blue) } })).rejects.toThrow(
        /nginx did not accept the new proxy host .*no_such_directive/,
      );
      expect(npm.hosts().some((record) => record.domain_names.includes(host))).toBe(false);
      expect((await nginx.test()).ok).toBe(true);
      await proxy.ensureRoute({ route: { host: 'ok.npm-real.test', upstream: upstreamOf(blue) } });
      await expect
        .poll(() => through('ok.npm-real.test'), { timeout: 30_000, interval: 100 })
        .toBe('200 blue');
      await proxy.removeRoute({ host: 'ok.npm-real.test' });
    } finally {
      await broken.dispose();
    }
  });
});
