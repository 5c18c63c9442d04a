import { inspect } from 'node:util';
import { type CoreError, createMemoryLogger, isCoreError, type MemoryLogger } from '@docker-watcher/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeNpm, type FakeNpmUser, startFakeNpm } from '../test/fake-npm.ts';
import { freePort } from '../test/free-port.ts';
import { markerLine } from './_proxy-host.ts';
import { createNpmProxy, type NpmProxy } from './npm-proxy.ts';
import type { NpmProxyOptions } from './options.ts';

let npm: FakeNpm;
const cleanups: Array<() => unknown> = [];

beforeEach(async () => {
  npm = await startFakeNpm();
  cleanups.push(() => npm.close());
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function proxy(options: Partial<NpmProxyOptions> = {}, logger?: MemoryLogger): NpmProxy {
  const created = createNpmProxy(
    { url: npm.url, email: npm.user.email, password: npm.user.password, settleMs: 0, ...options },
    logger ? { logger } : {},
  );
  cleanups.push(() => created.dispose());
  return created;
}

async function caught(promise: Promise<unknown>): Promise<CoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isCoreError(error), `expected a CoreError, got ${String(error)}`).toBe(true);
  return error as CoreError;
}

const upstream = { host: 'web-app-dev-blue', port: 3000 };
const other = { host: 'web-app-dev-green', port: 3001 };
const apiCalls = () => npm.requests.map((entry) => `${entry.method} ${entry.path} ${entry.status}`);

describe('routes as proxy hosts', () => {
  it('creates one marked proxy host per host and writes nothing when nothing changes', async () => {
    const adapter = proxy();
    const route = await adapter.ensureRoute({ route: { host: 'Stage-Dev.Example.com', upstream } });
    expect(route).toEqual({ host: 'stage-dev.example.com', upstream: { ...upstream, scheme: 'http' } });
    const [host] = npm.hosts();
    expect(host).toMatchObject({
      domain_names: ['stage-dev.example.com'],
      forward_scheme: 'http',
      forward_host: 'web-app-dev-blue',
      forward_port: 3000,
      certificate_id: 0,
      advanced_config: markerLine,
      meta: { nginx_online: true, nginx_err: null },
    });
    expect(npm.served('stage-dev.example.com')).toEqual({
      forward_scheme: 'http',
      forward_host: 'web-app-dev-blue',
      forward_port: 3000,
    });

    const writes = npm.writes().length;
    await adapter.ensureRoute({ route: { host: 'stage-dev.example.com', upstream } });
    await proxy().ensureRoute({ route: { host: 'STAGE-DEV.example.com', upstream } });
    expect(npm.writes()).toHaveLength(writes);
    expect(npm.hosts()).toHaveLength(1);
  });

  it('switches with one PUT of the forward fields and keeps what a person set in the UI', async () => {
    const certificate = npm.seedCertificate({ domain_names: ['*.example.com'] });
    const seeded = npm.seedHost({
      domain_names: ['Stage-Rel.Example.com'],
      forward_host: 'web-app-rel-blue',
      forward_port: 3000,
      certificate_id: certificate.id,
      ssl_forced: true,
      http2_support: true,
      hsts_enabled: true,
      hsts_subdomains: true,
      access_list_id: 4,
      allow_websocket_upgrade: true,
      block_exploits: true,
      caching_enabled: true,
      advanced_config: `${markerLine}\nclient_max_body_size 50m;`,
    });
    await proxy().ensureRoute({
      route: { host: 'stage-rel.example.com', upstream: { host: 'web-app-rel-green', port: 3001 } },
    });
    expect(npm.writes().map((entry) => [entry.method, entry.path, entry.body])).toEqual([
      [
        'PUT',
        `/api/nginx/proxy-hosts/${seeded.id}`,
        { forward_host: 'web-app-rel-green', forward_port: 3001 },
      ],
    ]);
    expect(npm.host(seeded.id)).toMatchObject({
      domain_names: ['Stage-Rel.Example.com'],
      forward_host: 'web-app-rel-green',
      forward_port: 3001,
      certificate_id: certificate.id,
      ssl_forced: true,
      http2_support: true,
      hsts_enabled: true,
      hsts_subdomains: true,
      access_list_id: 4,
      allow_websocket_upgrade: true,
      block_exploits: true,
      caching_enabled: true,
      advanced_config: `${markerLine}\nclient_max_body_size 50m;`,
    });
  });

  it('sets what options name, on new and existing hosts', async () => {
    const options = {
      sslForced: false,
      http2Support: true,
      hstsEnabled: false,
      hstsSubdomains: false,
      accessListId: 2,
      allowWebsocketUpgrade: true,
      blockExploits: true,
      advancedConfig: 'proxy_read_timeout 300s;',
      certificate: 7,
    } as const;
    await proxy(options).ensureRoute({
      route: { host: 'new.example.com', upstream: { ...upstream, scheme: 'https' } },
    });
    expect(npm.writes()[0]?.body).toEqual({
      domain_names: ['new.example.com'],
      forward_scheme: 'https',
      forward_host: 'web-app-dev-blue',
      forward_port: 3000,
      certificate_id: 7,
      ssl_forced: false,
      http2_support: true,
      hsts_enabled: false,
      hsts_subdomains: false,
      access_list_id: 2,
      allow_websocket_upgrade: true,
      block_exploits: true,
      advanced_config: `${markerLine}\nproxy_read_timeout 300s;`,
    });
    const seeded = npm.seedHost({
      domain_names: ['old.example.com'],
      ssl_forced: true,
      http2_support: false,
      advanced_config: markerLine,
      forward_host: upstream.host,
      forward_port: upstream.port,
    });
    await proxy(options).ensureRoute({ route: { host: 'old.example.com', upstream } });
    expect(npm.writes().at(-1)?.body).toEqual({
      certificate_id: 7,
      ssl_forced: false,
      http2_support: true,
      access_list_id: 2,
      allow_websocket_upgrade: true,
      block_exploits: true,
      advanced_config: `${markerLine}\nproxy_read_timeout 300s;`,
    });
    expect(npm.host(seeded.id)?.forward_host).toBe(upstream.host);
  });

  it('reads routes of any host and removes its own', async () => {
    const adapter = proxy();
    expect(await adapter.getRoute({ host: 'absent.example.com' })).toBeUndefined();
    await adapter.ensureRoute({ route: { host: 'web.example.com', upstream } });
    npm.seedHost({
      domain_names: ['Person.Example.com'],
      forward_scheme: 'https',
      forward_host: '10.0.0.9',
      forward_port: 8443,
    });
    expect(await adapter.getRoute({ host: 'PERSON.example.com' })).toEqual({
      host: 'person.example.com',
      upstream: { host: '10.0.0.9', port: 8443, scheme: 'https' },
    });
    await adapter.removeRoute({ host: 'Web.Example.com' });
    await adapter.removeRoute({ host: 'web.example.com' });
    expect(npm.hosts().map((host) => host.domain_names)).toEqual([['Person.Example.com']]);
  });

  it('claims no verified switch and waits settleMs after a change only', async () => {
    const adapter = proxy({ settleMs: 300 });
    expect(adapter.capabilities.verifiedSwitch).toBe(false);
    let started = Date.now();
    await adapter.ensureRoute({ route: { host: 'settle.example.com', upstream } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    started = Date.now();
    await adapter.ensureRoute({ route: { host: 'settle.example.com', upstream } });
    expect(Date.now() - started).toBeLessThan(250);
  });

  it('enables a disabled host of its own when it routes it', async () => {
    const seeded = npm.seedHost({
      domain_names: ['off.example.com'],
      advanced_config: markerLine,
      enabled: false,
      forward_host: upstream.host,
      forward_port: upstream.port,
    });
    expect(npm.served('off.example.com')).toBeUndefined();
    await proxy().ensureRoute({ route: { host: 'off.example.com', upstream } });
    expect(npm.host(seeded.id)?.enabled).toBe(true);
    expect(npm.served('off.example.com')).toMatchObject({ forward_host: upstream.host });
  });
});

describe('hosts Docker Watcher did not create', () => {
  it('are a CONFLICT, untouched, unless adopt is set', async () => {
    const seeded = npm.seedHost({
      domain_names: ['Hand.Example.com'],
      advanced_config: 'client_max_body_size 1g;',
    });
    const adapter = proxy();
    const error = await caught(adapter.ensureRoute({ route: { host: 'hand.example.com', upstream } }));
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toContain(`proxy host ${seeded.id}`);
    expect(error.message).toContain('adopt: true');
    expect((await caught(adapter.removeRoute({ host: 'hand.example.com' }))).code).toBe('CONFLICT');
    expect(npm.writes()).toEqual([]);
    expect(npm.host(seeded.id)).toEqual(seeded);
  });

  it('are taken over with adopt: the marker goes above the person’s own config, and they stay ours', async () => {
    const seeded = npm.seedHost({
      domain_names: ['hand.example.com'],
      advanced_config: 'client_max_body_size 1g;',
      ssl_forced: true,
    });
    await proxy({ adopt: true }).ensureRoute({ route: { host: 'hand.example.com', upstream } });
    expect(npm.host(seeded.id)).toMatchObject({
      forward_host: upstream.host,
      forward_port: upstream.port,
      ssl_forced: true,
      advanced_config: `${markerLine}\nclient_max_body_size 1g;`,
    });
    // From now on it is Docker Watcher's, also for an adapter without adopt.
    await proxy().ensureRoute({ route: { host: 'hand.example.com', upstream: other } });
    expect(npm.host(seeded.id)?.forward_host).toBe(other.host);
  });

  it('adopted hosts with more names lose only the removed one', async () => {
    const seeded = npm.seedHost({ domain_names: ['a.example.com', 'b.example.com'] });
    const adapter = proxy({ adopt: true });
    await adapter.ensureRoute({ route: { host: 'b.example.com', upstream } });
    await adapter.removeRoute({ host: 'B.example.com' });
    expect(npm.host(seeded.id)?.domain_names).toEqual(['a.example.com']);
  });

  it('a domain used by a redirection or 404 host is a CONFLICT', async () => {
    npm.reserveDomain('redirected.example.com');
    const error = await caught(proxy().ensureRoute({ route: { host: 'redirected.example.com', upstream } }));
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toContain('already in use');
  });
});

describe('certificates', () => {
  it("'match' picks the exact name over a wildcard, then the latest expiry; a wildcard covers one label", async () => {
    const wildcard = npm.seedCertificate({
      domain_names: ['*.example.com'],
      expires_on: '2099-01-01T00:00:00.000Z',
    });
    npm.seedCertificate({ domain_names: ['app.example.com'], expires_on: '2030-01-01T00:00:00.000Z' });
    const latest = npm.seedCertificate({
      domain_names: ['www.app.example.com', 'App.Example.com'],
      expires_on: '2031-01-01T00:00:00.000Z',
    });
    npm.seedCertificate({ domain_names: ['other.test'] });
    const adapter = proxy({ certificate: 'match' });
    await adapter.ensureRoute({ route: { host: 'app.example.com', upstream } });
    await adapter.ensureRoute({ route: { host: 'api.example.com', upstream } });
    await adapter.ensureRoute({ route: { host: 'deep.api.example.com', upstream } });
    const certificateOf = (domain: string) =>
      npm.hosts().find((host) => host.domain_names[0] === domain)?.certificate_id;
    expect(certificateOf('app.example.com')).toBe(latest.id);
    expect(certificateOf('api.example.com')).toBe(wildcard.id);
    expect(certificateOf('deep.api.example.com')).toBe(0);
  });

  it("'match' keeps the certificate a host has when none matches, and 'keep' never changes it", async () => {
    const seeded = npm.seedHost({
      domain_names: ['kept.example.org'],
      certificate_id: 12,
      advanced_config: markerLine,
    });
    await proxy({ certificate: 'match' }).ensureRoute({ route: { host: 'kept.example.org', upstream } });
    await proxy({ certificate: 'keep' }).ensureRoute({
      route: { host: 'kept.example.org', upstream: other },
    });
    expect(npm.host(seeded.id)?.certificate_id).toBe(12);
    expect(npm.writes().every((entry) => !Object.hasOwn(entry.body as object, 'certificate_id'))).toBe(true);
  });

  it('an id sets that certificate', async () => {
    const seeded = npm.seedHost({
      domain_names: ['id.example.org'],
      certificate_id: 12,
      advanced_config: markerLine,
    });
    await proxy({ certificate: 3 }).ensureRoute({ route: { host: 'id.example.org', upstream } });
    expect(npm.host(seeded.id)?.certificate_id).toBe(3);
  });
});

describe("nginx's verdict", () => {
  const nginxError =
    'nginx: [emerg] host not found in upstream "web-app-dev-broken" in /data/nginx/proxy_host/1.conf:42\nnginx: configuration file /etc/nginx/nginx.conf test failed';

  beforeEach(() => {
    npm.nginxFails = (host) => (host.forward_host === 'web-app-dev-broken' ? nginxError : undefined);
  });

  it('nginx_online false after a switch is UNAVAILABLE with nginx’s error, and the previous values come back', async () => {
    const adapter = proxy();
    await adapter.ensureRoute({ route: { host: 'switch.example.com', upstream } });
    const error = await caught(
      adapter.ensureRoute({
        route: { host: 'switch.example.com', upstream: { host: 'web-app-dev-broken', port: 3001 } },
      }),
    );
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toContain('host not found in upstream "web-app-dev-broken"');
    expect(error.message).toContain('the previous settings are back');
    expect(error.details.restored).toBe(true);
    expect(await adapter.getRoute({ host: 'switch.example.com' })).toEqual({
      host: 'switch.example.com',
      upstream: { ...upstream, scheme: 'http' },
    });
    expect(npm.served('switch.example.com')).toMatchObject({
      forward_host: upstream.host,
      forward_port: upstream.port,
    });
    const [host] = npm.hosts();
    expect(host?.meta).toEqual({ nginx_online: true, nginx_err: null });
  });

  it('nginx_online false for a new host is UNAVAILABLE, and the host is removed again', async () => {
    const error = await caught(
      proxy().ensureRoute({
        route: { host: 'fresh.example.com', upstream: { host: 'web-app-dev-broken', port: 1 } },
      }),
    );
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toContain('it was removed again');
    expect(npm.hosts()).toEqual([]);
  });

  it('an unchanged host nginx refused earlier is sent again, so NPM rebuilds its config', async () => {
    const seeded = npm.seedHost({
      domain_names: ['stuck.example.com'],
      advanced_config: markerLine,
      forward_host: upstream.host,
      forward_port: upstream.port,
    });
    npm.nginxFails = () => 'nginx: [emerg] a neighbour host broke the test';
    await caught(proxy().ensureRoute({ route: { host: 'stuck.example.com', upstream: other } }));
    npm.nginxFails = undefined;
    // The restore left it offline (nginx still refused); the same route again repairs it.
    expect(npm.host(seeded.id)?.meta.nginx_online).toBe(false);
    await proxy().ensureRoute({ route: { host: 'stuck.example.com', upstream } });
    expect(npm.host(seeded.id)?.meta.nginx_online).toBe(true);
    expect(npm.served('stuck.example.com')).toMatchObject({ forward_host: upstream.host });
  });
});

describe('authentication', () => {
  it('logs in once and reuses the token', async () => {
    const adapter = proxy();
    await adapter.ensureRoute({ route: { host: 'a.example.com', upstream } });
    await adapter.getRoute({ host: 'a.example.com' });
    await adapter.removeRoute({ host: 'a.example.com' });
    expect(npm.requests.filter((entry) => entry.path === '/api/tokens')).toHaveLength(1);
    expect(npm.requests.every((entry) => entry.path === '/api/tokens' || entry.auth === 'valid')).toBe(true);
  });

  it('an expired token (400 "Token has expired") leads to one new login, and the call succeeds', async () => {
    const adapter = proxy();
    await adapter.getRoute({ host: 'a.example.com' });
    npm.expireTokens();
    npm.requests.length = 0;
    expect(await adapter.getRoute({ host: 'a.example.com' })).toBeUndefined();
    expect(apiCalls()).toEqual([
      'GET /api/nginx/proxy-hosts 400',
      'POST /api/tokens 200',
      'GET /api/nginx/proxy-hosts 200',
    ]);
  });

  it('a token NPM no longer knows (500 "Internal Error" after a restart) leads to one new login', async () => {
    const adapter = proxy();
    await adapter.getRoute({ host: 'a.example.com' });
    npm.forgetTokens();
    npm.requests.length = 0;
    await adapter.ensureRoute({ route: { host: 'a.example.com', upstream } });
    expect(apiCalls().slice(0, 3)).toEqual([
      'GET /api/nginx/proxy-hosts 500',
      'POST /api/tokens 200',
      'GET /api/nginx/proxy-hosts 200',
    ]);
    expect(npm.hosts()).toHaveLength(1);
  });

  it('logs in again only once: a token refused right after login is UNAUTHORIZED', async () => {
    npm.tokenLifetimeMs = 0;
    const error = await caught(proxy().getRoute({ host: 'a.example.com' }));
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.message).toContain('refused a fresh token');
    expect(apiCalls()).toEqual([
      'POST /api/tokens 200',
      'GET /api/nginx/proxy-hosts 400',
      'POST /api/tokens 200',
      'GET /api/nginx/proxy-hosts 400',
    ]);
  });

  it('refreshes the token with GET /api/tokens before it expires', async () => {
    // Refreshed in the last quarter of its lifetime: from 1.5 s on, for a token of 2 s.
    npm.tokenLifetimeMs = 2_000;
    const adapter = proxy();
    await adapter.getRoute({ host: 'a.example.com' });
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    npm.requests.length = 0;
    await adapter.getRoute({ host: 'a.example.com' });
    expect(apiCalls()).toEqual(['GET /api/tokens 200', 'GET /api/nginx/proxy-hosts 200']);
  });

  it('bad credentials are UNAUTHORIZED, not retried, and the password appears nowhere', async () => {
    const logger = createMemoryLogger();
    const password = 'Sup3r-Secret-Watcher-Pa55';
    const adapter = proxy({ password }, logger);
    const error = await caught(adapter.ensureRoute({ route: { host: 'a.example.com', upstream } }));
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(npm.user.email);
    expect(error.message).toContain('Invalid email or password');
    for (const text of [
      error.message,
      JSON.stringify(error.toJSON()),
      inspect(error, { depth: 20 }),
      JSON.stringify(logger.entries),
    ]) {
      expect(text).not.toContain(password);
    }
    expect(npm.requests.filter((entry) => entry.path === '/api/tokens')).toHaveLength(1);
    expect(npm.writes()).toEqual([]);
  });

  it('a user with 2FA gets a clear UNAUTHORIZED: 2FA is not supported for the watcher’s user', async () => {
    const user: FakeNpmUser = { email: 'admin@example.com', password: 'admin-pass-2fa', twoFactor: true };
    const twoFactor = await startFakeNpm({ users: [user] });
    cleanups.push(() => twoFactor.close());
    const adapter = createNpmProxy({ url: twoFactor.url, email: user.email, password: user.password });
    const error = await caught(adapter.getRoute({ host: 'a.example.com' }));
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.message).toContain('2FA');
    expect(error.message).toContain('dedicated NPM user without 2FA');
    expect(error.message).not.toContain(user.password);
  });
});

describe('other failures', () => {
  it('NPM unreachable is UNAVAILABLE', async () => {
    const adapter = createNpmProxy({
      url: `http://127.0.0.1:${await freePort()}`,
      email: 'a@example.com',
      password: 'pw-unreachable',
    });
    const error = await caught(adapter.getRoute({ host: 'a.example.com' }));
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('ECONNREFUSED');
    expect(inspect(error, { depth: 20 })).not.toContain('pw-unreachable');
  });

  it('invalid host names and upstreams are BAD_REQUEST before any request', async () => {
    const adapter = proxy();
    for (const host of ['', 'bad host.example.com', 'bad!.example.com', 'a..b', '*.example.com']) {
      expect((await caught(adapter.ensureRoute({ route: { host, upstream } }))).code, host).toBe(
        'BAD_REQUEST',
      );
    }
    expect(
      (
        await caught(
          adapter.ensureRoute({ route: { host: 'a.example.com', upstream: { host: 'a b', port: 80 } } }),
        )
      ).code,
    ).toBe('BAD_REQUEST');
    expect((await caught(adapter.getRoute({ host: 'a/b' }))).code).toBe('BAD_REQUEST');
    expect((await caught(adapter.removeRoute({ host: 'a b' }))).code).toBe('BAD_REQUEST');
    expect(npm.requests).toEqual([]);
  });

  it('calls after dispose are UNAVAILABLE', async () => {
    const adapter = proxy();
    await adapter.dispose();
    expect((await caught(adapter.getRoute({ host: 'a.example.com' }))).code).toBe('UNAVAILABLE');
  });
});
