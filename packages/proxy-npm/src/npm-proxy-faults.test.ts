// NPM 2.15.1's answers that the hardening report saw reported as success (fixtures/npm-schema/OBSERVED.md,
// "More answers"): a failing global nginx check, permissions hidden behind 404 and 500, certificates'
// private keys in the list, HTML error pages.
import { type CoreError, createMemoryLogger, isCoreError } from '@docker-watcher/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { customKey, type FakeNpm, type FakeNpmUser, startFakeNpm } from '../test/fake-npm.ts';
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

function proxy(options: Partial<NpmProxyOptions> = {}, on: FakeNpm = npm, user = on.user): NpmProxy {
  const created = createNpmProxy({
    url: on.url,
    email: user.email,
    password: user.password,
    settleMs: 0,
    ...options,
  });
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

const a = { host: 'web-dev-blue', port: 3000 };
const b = { host: 'web-dev-green', port: 3001 };
const host = 'stage-dev.example.com';
const creates = () => npm.requests.filter((r) => r.method === 'POST' && r.path === '/api/nginx/proxy-hosts');
const puts = () => npm.requests.filter((r) => r.method === 'PUT');

describe("while nginx's global check fails", () => {
  it('a create answered 500 is never repeated: it is read back, written again, and fails until nginx serves it', async () => {
    const adapter = proxy();
    npm.nginxBroken = true;
    const error = await caught(adapter.ensureRoute({ route: { host, upstream: a } }));
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(error.message).not.toMatch(/already in use/);
    expect(creates()).toHaveLength(1);
    expect(npm.served(host)).toBeUndefined();
    expect(await adapter.getRoute({ host })).toBeUndefined();
    // Still broken: the next call writes again and fails again, never success without a write.
    await caught(adapter.ensureRoute({ route: { host, upstream: a } }));
    expect(creates()).toHaveLength(1);
    expect(puts().length).toBeGreaterThanOrEqual(2);
    npm.nginxBroken = false;
    await adapter.ensureRoute({ route: { host, upstream: a } });
    expect(npm.served(host)).toMatchObject({ forward_host: a.host, forward_port: a.port });
    expect(await adapter.getRoute({ host })).toMatchObject({ upstream: a });
    expect(npm.hosts()).toHaveLength(1);
  });

  it('a switch answered 500 leaves the host unsure: not a route, written again on the next call, done once nginx serves it', async () => {
    const adapter = proxy();
    await adapter.ensureRoute({ route: { host, upstream: a } });
    npm.nginxBroken = true;
    const error = await caught(adapter.ensureRoute({ route: { host, upstream: b } }));
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(error.message).toMatch(/record may hold the new upstream while nginx serves the old one/);
    // NPM's record says b (with a stale nginx_online: true); nginx serves a.
    expect(npm.hosts()[0]).toMatchObject({ forward_host: b.host, meta: { nginx_online: true } });
    expect(npm.served(host)).toMatchObject({ forward_host: a.host });
    expect(await adapter.getRoute({ host })).toBeUndefined();
    const before = puts().length;
    await caught(adapter.ensureRoute({ route: { host, upstream: b } }));
    expect(puts().length).toBeGreaterThan(before);
    npm.nginxBroken = false;
    await adapter.ensureRoute({ route: { host, upstream: b } });
    expect(npm.served(host)).toMatchObject({ forward_host: b.host, forward_port: b.port });
    expect(await adapter.getRoute({ host })).toMatchObject({ upstream: b });
  });
});

describe('missing permissions (NPM 2.15 never answers 403)', () => {
  const start = async (user: FakeNpmUser) => {
    const limited = await startFakeNpm({ users: [user] });
    cleanups.push(() => limited.close());
    return limited;
  };

  it('a create answered 500 and not stored is FORBIDDEN, naming the permission to grant', async () => {
    const limited = await start({ email: 'viewer@example.com', password: 'viewer-pass', proxyHosts: 'view' });
    const error = await caught(proxy({}, limited).ensureRoute({ route: { host, upstream: a } }));
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toContain('"Proxy Hosts: Manage"');
    expect(
      limited.requests.filter((r) => r.method === 'POST' && r.path === '/api/nginx/proxy-hosts'),
    ).toHaveLength(1);
  });

  it('a switch answered 404 for the route is FORBIDDEN, naming the permission to grant', async () => {
    const limited = await start({ email: 'viewer@example.com', password: 'viewer-pass', proxyHosts: 'view' });
    limited.seedHost({
      domain_names: [host],
      advanced_config: markerLine,
      forward_host: a.host,
      forward_port: a.port,
    });
    const error = await caught(proxy({}, limited).ensureRoute({ route: { host, upstream: b } }));
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toContain('"Proxy Hosts: Manage"');
  });

  it('hidden certificates are FORBIDDEN with certificate match, naming the permission', async () => {
    const limited = await start({
      email: 'viewer@example.com',
      password: 'viewer-pass',
      certificates: 'hidden',
    });
    const error = await caught(
      proxy({ certificate: 'match' }, limited).ensureRoute({ route: { host, upstream: a } }),
    );
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toContain('"Certificates: View"');
  });
});

describe("certificates' private keys", () => {
  it('are asked for only when a host has no certificate yet, at most once a while, and never logged', async () => {
    npm.seedCertificate({ domain_names: ['*.example.com'], provider: 'other' });
    const logger = createMemoryLogger();
    const adapter = createNpmProxy(
      { url: npm.url, email: npm.user.email, password: npm.user.password, settleMs: 0, certificate: 'match' },
      { logger },
    );
    cleanups.push(() => adapter.dispose());
    const listings = () => npm.requests.filter((r) => r.path === '/api/nginx/certificates').length;
    await adapter.ensureRoute({ route: { host, upstream: a } });
    expect(listings()).toBe(1);
    // Switches of a host that has its certificate never list the certificates again.
    for (const upstream of [b, a, b]) await adapter.ensureRoute({ route: { host, upstream } });
    expect(listings()).toBe(1);
    expect(npm.hosts()[0]?.certificate_id).toBe(1);
    expect(JSON.stringify(logger.entries)).not.toContain('fake-npm-private-key');
    expect(customKey).toContain('fake-npm-private-key');
  });
});

describe('error pages', () => {
  it("an HTML page from NPM's nginx becomes its status and title, never the page", async () => {
    const adapter = proxy();
    npm.htmlErrors = 502;
    const error = await caught(adapter.getRoute({ host }));
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toContain('502: an HTML page: 502 Bad Gateway');
    expect(error.message).not.toMatch(/<html|<center|openresty/);
  });
});
