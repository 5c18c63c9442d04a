import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { type CoreError, createMemoryLogger, isCoreError } from '@docker-watcher/core';
import { type CaddyInstance, freePort, startCaddy } from '@docker-watcher/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CaddyProxy, createCaddyProxy } from '../src/caddy-proxy.ts';
import type { CaddyProxyOptions } from '../src/options.ts';
import { type AdminRecorder, startAdminRecorder } from './admin-recorder.ts';
import { getThrough, type LoopbackUpstream, startUpstream } from './upstreams.ts';

let caddy: CaddyInstance;
let blue: LoopbackUpstream;
let green: LoopbackUpstream;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  caddy = await startCaddy({ https: true });
  blue = await startUpstream('blue');
  green = await startUpstream('green');
});

afterAll(async () => {
  await caddy?.stop();
  await blue?.close();
  await green?.close();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function hostName(label = 'web'): string {
  return `${label}-${randomUUID().slice(0, 8)}.caddy.test`;
}

function proxy(options: CaddyProxyOptions = {}): CaddyProxy {
  const created = createCaddyProxy({
    adminUrl: caddy.adminUrl,
    server: caddy.serverName,
    tls: 'off',
    verifyTimeoutMs: 2_000,
    ...options,
  });
  cleanups.push(() => created.dispose());
  return created;
}

async function recorder(): Promise<AdminRecorder> {
  const started = await startAdminRecorder(caddy.adminUrl);
  cleanups.push(() => started.close());
  return started;
}

async function adminJson(path: string): Promise<unknown> {
  const response = await fetch(`${caddy.adminUrl}${path}`, { headers: { connection: 'close' } });
  return response.json();
}

async function adminSend(method: string, path: string, body?: unknown): Promise<number> {
  const response = await fetch(`${caddy.adminUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', connection: 'close' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  await response.text();
  return response.status;
}

async function caught(promise: Promise<unknown>): Promise<CoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isCoreError(error), `expected a CoreError, got ${String(error)}`).toBe(true);
  return error as CoreError;
}

const serverPath = () => `/config/apps/http/servers/${caddy.serverName}`;

describe('switching through a real Caddy', () => {
  it('serves the new upstream as soon as ensureRoute returns, every time', async () => {
    const adapter = proxy();
    const host = hostName();
    cleanups.push(() => adapter.removeRoute({ host }));
    for (const [index, target] of [blue, green, blue, green, blue, green].entries()) {
      await adapter.ensureRoute({ route: { host, upstream: target.upstream } });
      const answer = await getThrough(caddy.httpPort, host);
      expect(answer.body, `switch ${index}`).toBe(target.name);
      expect(answer.headers['x-docker-watcher-upstream']).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('switches with one admin request and writes nothing when nothing changes', async () => {
    const admin = await recorder();
    const adapter = proxy({ adminUrl: admin.url });
    const host = hostName();
    cleanups.push(() => adapter.removeRoute({ host }));
    await adapter.ensureRoute({ route: { host, upstream: blue.upstream } });
    expect(admin.writes()).toHaveLength(1);
    admin.requests.length = 0;
    await adapter.ensureRoute({ route: { host, upstream: green.upstream } });
    expect(admin.writes()).toEqual([{ method: 'PATCH', path: `/id/dw-route-${host.replaceAll('.', '_')}` }]);
    admin.requests.length = 0;
    await adapter.ensureRoute({ route: { host: host.toUpperCase(), upstream: green.upstream } });
    expect(admin.writes()).toEqual([]);
  });

  it('touches nothing but its own route: a route a person wrote and other servers stay as they were', async () => {
    const personRoute = {
      match: [{ host: ['person.caddy.test'] }],
      handle: [{ handler: 'static_response', body: 'hand-written' }],
    };
    expect(await adminSend('POST', `${serverPath()}/routes`, personRoute)).toBe(200);
    cleanups.push(async () => {
      const routes = (await adminJson(`${serverPath()}/routes`)) as unknown[];
      const index = routes.findIndex((route) => JSON.stringify(route).includes('person.caddy.test'));
      if (index >= 0) await adminSend('DELETE', `${serverPath()}/routes/${index}`);
    });
    const tlsServerBefore = await adminJson(`/config/apps/http/servers/${caddy.httpsServerName}`);
    const adapter = proxy();
    const host = hostName();
    await adapter.ensureRoute({ route: { host, upstream: blue.upstream } });
    await adapter.ensureRoute({ route: { host, upstream: green.upstream } });

    const routes = (await adminJson(`${serverPath()}/routes`)) as Array<Record<string, unknown>>;
    expect(routes[0]?.['@id']).toBe(`dw-route-${host.replaceAll('.', '_')}`);
    expect(routes).toContainEqual(personRoute);
    expect(await adminJson(`/config/apps/http/servers/${caddy.httpsServerName}`)).toEqual(tlsServerBefore);
    expect((await getThrough(caddy.httpPort, 'person.caddy.test')).body).toBe('hand-written');

    await adapter.removeRoute({ host });
    const after = (await adminJson(`${serverPath()}/routes`)) as unknown[];
    expect(after).toContainEqual(personRoute);
    expect(JSON.stringify(after)).not.toContain(host);
    expect((await getThrough(caddy.httpPort, host)).body).not.toBe('green');
  });

  it('reads back what it wrote and treats hosts case-insensitively', async () => {
    const adapter = proxy();
    const host = hostName();
    cleanups.push(() => adapter.removeRoute({ host }));
    await adapter.ensureRoute({ route: { host: host.toUpperCase(), upstream: blue.upstream } });
    expect(await adapter.getRoute({ host })).toEqual({
      host,
      upstream: { ...blue.upstream, scheme: 'http' },
    });
    // A second adapter (a restarted server) finds the same route.
    expect(await proxy().getRoute({ host: host.toUpperCase() })).toEqual({
      host,
      upstream: { ...blue.upstream, scheme: 'http' },
    });
  });
});

describe('verification and rollback', () => {
  it('restores the previous route when the new upstream does not answer', async () => {
    const logger = createMemoryLogger();
    const adapter = createCaddyProxy(
      { adminUrl: caddy.adminUrl, server: caddy.serverName, tls: 'off', verifyTimeoutMs: 1_500 },
      { logger },
    );
    cleanups.push(() => adapter.dispose());
    const host = hostName();
    cleanups.push(() => adapter.removeRoute({ host }));
    await adapter.ensureRoute({ route: { host, upstream: blue.upstream } });
    const dead = { host: '127.0.0.1', port: await freePort() };
    const error = await caught(adapter.ensureRoute({ route: { host, upstream: dead } }));
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toContain('the previous route is back in place');
    expect(error.message).toMatch(/last: status 502/);
    expect(error.details.restored).toBe(true);
    expect(await adapter.getRoute({ host })).toEqual({
      host,
      upstream: { ...blue.upstream, scheme: 'http' },
    });
    expect((await getThrough(caddy.httpPort, host)).body).toBe('blue');
    expect(logger.entries.map((entry) => entry.message)).toEqual(['route added']);
  });

  it('removes a new route again when its upstream does not answer', async () => {
    const adapter = proxy({ verifyTimeoutMs: 300 });
    const host = hostName();
    const error = await caught(
      adapter.ensureRoute({ route: { host, upstream: { host: '127.0.0.1', port: await freePort() } } }),
    );
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toContain('the new route was removed again');
    expect(await adapter.getRoute({ host })).toBeUndefined();
    expect(JSON.stringify(await adminJson(`${serverPath()}/routes`))).not.toContain(host);
  });

  it('an unchanged route whose upstream went away is reported, not rewritten', async () => {
    const admin = await recorder();
    const adapter = proxy({ adminUrl: admin.url, verifyTimeoutMs: 300 });
    const host = hostName();
    cleanups.push(() => adapter.removeRoute({ host }));
    const gone = await startUpstream('gone');
    await adapter.ensureRoute({ route: { host, upstream: gone.upstream } });
    await gone.close();
    admin.requests.length = 0;
    const error = await caught(adapter.ensureRoute({ route: { host, upstream: gone.upstream } }));
    expect(error.code).toBe('UNAVAILABLE');
    expect(admin.writes()).toEqual([]);
  });

  it('an abort during verification restores the previous route and throws ABORTED', async () => {
    const adapter = proxy({ verifyTimeoutMs: 5_000 });
    const host = hostName();
    cleanups.push(() => adapter.removeRoute({ host }));
    await adapter.ensureRoute({ route: { host, upstream: blue.upstream } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('deploy cancelled')), 300);
    const dead = { host: '127.0.0.1', port: await freePort() };
    const error = await caught(
      adapter.ensureRoute({ route: { host, upstream: dead }, signal: controller.signal }),
    );
    expect(error.code).toBe('ABORTED');
    expect((await getThrough(caddy.httpPort, host)).body).toBe('blue');
  });

  it('with verify off, claims no verified switch and routes to upstreams nobody checked', async () => {
    const adapter = proxy({ verify: false });
    expect(adapter.capabilities.verifiedSwitch).toBe(false);
    expect(proxy().capabilities.verifiedSwitch).toBe(true);
    const host = hostName();
    cleanups.push(() => adapter.removeRoute({ host }));
    await adapter.ensureRoute({ route: { host, upstream: { host: 'web-app-dev-blue', port: 8080 } } });
    expect(await adapter.getRoute({ host })).toEqual({
      host,
      upstream: { host: 'web-app-dev-blue', port: 8080, scheme: 'http' },
    });
  });
});

describe('errors', () => {
  it('an unreachable admin API is UNAVAILABLE', async () => {
    const adapter = proxy({ adminUrl: `http://127.0.0.1:${await freePort()}` });
    const error = await caught(adapter.getRoute({ host: hostName() }));
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('unreachable (ECONNREFUSED)');
    expect(
      (await caught(adapter.ensureRoute({ route: { host: hostName(), upstream: blue.upstream } }))).code,
    ).toBe('UNAVAILABLE');
  });

  it('invalid host names are BAD_REQUEST before anything is sent', async () => {
    const admin = await recorder();
    const adapter = proxy({ adminUrl: admin.url });
    for (const host of [
      '',
      'bad host.test',
      'under_score.test',
      '-lead.test',
      `${'a'.repeat(64)}.test`,
      'a..b',
      'ü.test',
    ]) {
      const error = await caught(adapter.ensureRoute({ route: { host, upstream: blue.upstream } }));
      expect(error.code, host).toBe('BAD_REQUEST');
    }
    expect((await caught(adapter.getRoute({ host: 'bad/host' }))).code).toBe('BAD_REQUEST');
    expect((await caught(adapter.removeRoute({ host: 'bad host' }))).code).toBe('BAD_REQUEST');
    const badUpstream = await caught(
      adapter.ensureRoute({ route: { host: hostName(), upstream: { host: 'x:1', port: 80 } } }),
    );
    expect(badUpstream.code).toBe('BAD_REQUEST');
    expect(
      (await caught(adapter.ensureRoute({ route: { host: hostName(), upstream: { host: 'x', port: 0 } } })))
        .code,
    ).toBe('BAD_REQUEST');
    expect(admin.requests).toEqual([]);
  });

  it("Caddy rejecting the config is BAD_REQUEST with Caddy's error, and nothing is half-applied", async () => {
    const adapter = proxy();
    const host = hostName();
    cleanups.push(() => adapter.removeRoute({ host }));
    await adapter.ensureRoute({ route: { host, upstream: blue.upstream } });
    // A route a person wrote that loads now but not on the next load: its CA file goes away.
    const caFile = `${caddy.dir}/person-ca-${randomUUID()}.pem`;
    writeFileSync(caFile, rootCertificates[0] ?? '');
    const personRoute = {
      match: [{ host: ['ca.person.caddy.test'] }],
      handle: [
        {
          handler: 'reverse_proxy',
          upstreams: [{ dial: '127.0.0.1:9' }],
          transport: { protocol: 'http', tls: { root_ca_pem_files: [caFile] } },
        },
      ],
    };
    expect(await adminSend('POST', `${serverPath()}/routes`, personRoute)).toBe(200);
    cleanups.push(async () => {
      writeFileSync(caFile, rootCertificates[0] ?? '');
      const routes = (await adminJson(`${serverPath()}/routes`)) as unknown[];
      const index = routes.findIndex((route) => JSON.stringify(route).includes('ca.person.caddy.test'));
      if (index >= 0) await adminSend('DELETE', `${serverPath()}/routes/${index}`);
      rmSync(caFile, { force: true });
    });
    rmSync(caFile);
    const before = await adminJson(serverPath());

    const error = await caught(adapter.ensureRoute({ route: { host, upstream: green.upstream } }));
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toContain('Caddy rejected PATCH');
    expect(error.message).toContain('loading new config');
    expect(error.message.length).toBeLessThan(500);
    expect(await adminJson(serverPath())).toEqual(before);
    expect((await getThrough(caddy.httpPort, host)).body).toBe('blue');

    const fresh = hostName();
    expect(
      (await caught(adapter.ensureRoute({ route: { host: fresh, upstream: blue.upstream } }))).code,
    ).toBe('BAD_REQUEST');
    expect(await adminJson(serverPath())).toEqual(before);
  });

  it('a server that is not in the config is CONFIG_INVALID, naming the servers there are', async () => {
    const adapter = proxy({ server: 'nope' });
    const error = await caught(adapter.getRoute({ host: hostName() }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('no HTTP server named "nope"');
    expect(error.message).toContain(caddy.serverName);
  });

  it('an @id of ours in another server is a CONFLICT, and nothing is written', async () => {
    const host = hostName();
    const elsewhere = proxy({ server: caddy.httpsServerName ?? '', tls: 'auto', verify: false });
    cleanups.push(() => elsewhere.removeRoute({ host }));
    await elsewhere.ensureRoute({ route: { host, upstream: blue.upstream } });
    const admin = await recorder();
    const error = await caught(
      proxy({ adminUrl: admin.url }).ensureRoute({ route: { host, upstream: green.upstream } }),
    );
    expect(error.code).toBe('CONFLICT');
    expect(admin.writes()).toEqual([]);
    // And removing it through the other server's adapter leaves the foreign route alone.
    await proxy().removeRoute({ host });
    expect(await elsewhere.getRoute({ host })).toBeDefined();
  });

  it('calls after dispose are UNAVAILABLE', async () => {
    const adapter = proxy();
    await adapter.dispose();
    expect((await caught(adapter.getRoute({ host: hostName() }))).code).toBe('UNAVAILABLE');
  });
});

describe('automatic HTTPS', () => {
  it("tls: 'auto' serves the host over HTTPS with a certificate Caddy obtains, verified through TLS", async () => {
    const adapter = proxy({ server: caddy.httpsServerName ?? '', tls: 'auto', certificateTimeoutMs: 15_000 });
    const host = hostName('secure');
    cleanups.push(() => adapter.removeRoute({ host }));
    await adapter.ensureRoute({ route: { host, upstream: blue.upstream } });
    await adapter.ensureRoute({ route: { host, upstream: green.upstream } });
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: caddy.httpsPort,
          path: '/',
          servername: host,
          headers: { host },
          rejectUnauthorized: false,
          agent: false,
        },
        (res) => {
          let text = '';
          res.on('data', (chunk) => {
            text += chunk;
          });
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('green');
  });

  it("tls: 'auto' on a server with automatic HTTPS disabled is CONFIG_INVALID before any write", async () => {
    const admin = await recorder();
    const error = await caught(
      proxy({ adminUrl: admin.url, tls: 'auto' }).ensureRoute({
        route: { host: hostName(), upstream: blue.upstream },
      }),
    );
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('disables it');
    expect(admin.writes()).toEqual([]);
  });

  it("tls: 'off' on a server with automatic HTTPS on adds the host to its skip list and serves plain HTTP", async () => {
    // A plain listener on a port other than the HTTP port: Caddy would turn on TLS there for routed hosts.
    const port = await freePort();
    const name = `plain-${randomUUID().slice(0, 6)}`;
    expect(
      await adminSend('POST', `/config/apps/http/servers/${name}`, {
        listen: [`127.0.0.1:${port}`],
        routes: [],
      }),
    ).toBe(200);
    cleanups.push(() => adminSend('DELETE', `/config/apps/http/servers/${name}`));
    const adapter = proxy({ server: name, tls: 'off' });
    const host = hostName();
    await adapter.ensureRoute({ route: { host, upstream: blue.upstream } });
    expect(await adminJson(`/config/apps/http/servers/${name}/automatic_https`)).toEqual({ skip: [host] });
    const other = hostName();
    await adapter.ensureRoute({ route: { host: other, upstream: green.upstream } });
    expect(await adminJson(`/config/apps/http/servers/${name}/automatic_https/skip`)).toEqual([host, other]);
    expect((await getThrough(port, host)).body).toBe('blue');
    expect((await getThrough(port, other)).body).toBe('green');

    // Switching the same server to tls: 'auto' takes the host out of the skip list again.
    await proxy({ server: name, tls: 'auto', verify: false }).ensureRoute({
      route: { host, upstream: blue.upstream },
    });
    expect(await adminJson(`/config/apps/http/servers/${name}/automatic_https/skip`)).toEqual([other]);
  });
});
