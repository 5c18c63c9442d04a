import { createMemoryLogger, isCoreError } from '@docker-watcher/core';
import { type Loopback, startLoopback } from '@docker-watcher/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGiteaRegistry } from '../src/index.ts';
import { type FakeVersion, startFakeGitea } from './support/gitea-api.ts';

const token = 'gitea-api-token-3f9c1a';
const digest = (n: number) => `sha256:${String(n).padStart(64, 'a')}`;
const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();

/** 120 tags, each pushed with an untagged platform manifest next to it, as a multi-arch push leaves them. */
const many: FakeVersion[] = Array.from({ length: 120 }, (_, index) => [
  { version: `v1.0.${index}`, createdAt: at(index * 2 + 1) },
  { version: digest(index), createdAt: at(index * 2) },
]).flat();

let servers: Loopback[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

async function fake(...args: Parameters<typeof startFakeGitea>) {
  const server = await startFakeGitea(...args);
  servers.push(server);
  return server;
}

async function loopback(...args: Parameters<typeof startLoopback>) {
  const server = await startLoopback(...args);
  servers.push(server);
  return server;
}

async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isCoreError(error)) throw new Error(`expected a CoreError, got ${String(error)}`);
  return error;
}

describe('listPackageVersions (Gitea packages API)', () => {
  it('pages through every version, newest push first, without untagged sha256 versions', async () => {
    const server = await fake({ packages: { 'acme/web': many }, token });
    const registry = createGiteaRegistry({ url: server.url, username: 'ci', token });
    const versions = await registry.listPackageVersions({ repository: 'acme/web' });
    expect(versions).toHaveLength(120);
    expect(versions[0]).toMatchObject({ tag: 'v1.0.119', createdAt: at(239) });
    expect(versions.at(-1)?.tag).toBe('v1.0.0');
    expect(versions.every((version) => !version.tag.startsWith('sha256:'))).toBe(true);
    // 240 versions at Gitea's cap of 50 per page: 5 pages, the total header ends the walk.
    expect(server.requests.map((request) => request.url.searchParams.get('page'))).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
    ]);
    expect(server.requests[0]?.headers.authorization).toBe(`token ${token}`);
    expect(registry.stats().apiRequests).toBe(5);
  });

  it('reads on to the empty page when Gitea caps the limit and sends no total', async () => {
    const server = await fake({ packages: { 'acme/web': many }, omitTotal: true, maxResponseItems: 50 });
    const registry = createGiteaRegistry({ url: server.url, apiPageSize: 100 });
    const versions = await registry.listPackageVersions({ repository: 'acme/web' });
    expect(versions).toHaveLength(120);
    expect(server.requests).toHaveLength(6);
  });

  it('lower-cases names and encodes image names holding a slash', async () => {
    const server = await fake({ packages: { 'acme/tools/web': [{ version: 'dev-1', createdAt: at(1) }] } });
    const registry = createGiteaRegistry({ url: server.url });
    const versions = await registry.listPackageVersions({ repository: 'Acme/Tools/Web' });
    expect(versions.map((version) => version.tag)).toEqual(['dev-1']);
    expect(server.requests[0]?.path).toMatch(/^\/api\/v1\/packages\/acme\/container\/tools%2Fweb\?/);
  });

  it('an unknown package is NOT_FOUND', async () => {
    const server = await fake({ packages: {} });
    const registry = createGiteaRegistry({ url: server.url });
    const error = await failure(registry.listPackageVersions({ repository: 'acme/missing' }));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toContain('registry:gitea');
  });

  it('a wrong token is UNAUTHORIZED naming the registry, and the token shows nowhere', async () => {
    const server = await fake({ packages: { 'acme/web': many }, token });
    const logger = createMemoryLogger();
    const wrong = 'wrong-token-77d1e0';
    const registry = createGiteaRegistry({ url: server.url, token: wrong }, { logger, instance: 'main' });
    const error = await failure(registry.listPackageVersions({ repository: 'acme/web' }));
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.message).toContain('registry:gitea/main');
    const everything = JSON.stringify([error, error.message, error.details, logger.entries]);
    expect(everything).not.toContain(wrong);
    expect(logger.entries.length).toBeGreaterThan(0);
  });

  it.each([
    ['an HTML error page', 'text/html', '<!DOCTYPE html><html><body>502 Bad Gateway</body></html>'],
    ['malformed JSON', 'application/json', '[{"version": "v1", '],
    ['JSON that is not a package list', 'application/json', '{"message": "hello"}'],
  ])('%s is BAD_RESPONSE', async (_name, contentType, body) => {
    const server = await loopback((_request, response) => {
      response.writeHead(200, { 'content-type': contentType });
      response.end(body);
    });
    const registry = createGiteaRegistry({ url: server.url });
    const error = await failure(registry.listPackageVersions({ repository: 'acme/web' }));
    expect(error.code).toBe('BAD_RESPONSE');
    expect(error.message).not.toContain(body);
  });

  it('a body cut off mid-way is BAD_RESPONSE', async () => {
    const server = await loopback((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '4000' });
      response.write('[{"version": "v1.0.0", "created_at": "2026-01-01T00:00:00Z"}');
      setTimeout(() => response.socket?.destroy(), 20);
    });
    const registry = createGiteaRegistry({ url: server.url });
    const error = await failure(registry.listPackageVersions({ repository: 'acme/web' }));
    expect(error.code).toBe('BAD_RESPONSE');
    expect(error.retryable).toBe(true);
  });

  it('endless pages stop at maxPages with BAD_RESPONSE', async () => {
    let n = 0;
    const server = await loopback((_request, response) => {
      n++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify([{ type: 'container', version: `t${n}`, created_at: at(n) }]));
    });
    const registry = createGiteaRegistry({ url: server.url, maxPages: 7 });
    const error = await failure(registry.listPackageVersions({ repository: 'acme/web' }));
    expect(error.code).toBe('BAD_RESPONSE');
    expect(server.requests).toHaveLength(7);
  });

  it('5xx is UNAVAILABLE and 429 is RATE_LIMITED with its Retry-After', async () => {
    let status = 503;
    const server = await loopback((_request, response) => {
      response.writeHead(status, { 'content-type': 'application/json', 'retry-after': '7' });
      response.end('{"message": "busy"}');
    });
    const registry = createGiteaRegistry({ url: server.url });
    expect((await failure(registry.listPackageVersions({ repository: 'acme/web' }))).code).toBe(
      'UNAVAILABLE',
    );
    status = 429;
    const limited = await failure(registry.listPackageVersions({ repository: 'acme/web' }));
    expect(limited.code).toBe('RATE_LIMITED');
    expect(limited.retryAfterMs).toBe(7000);
  });

  it("asks the API over the registry's node:http transport, not fetch (undici costs an idle server memory)", async () => {
    const server = await fake({ packages: { 'acme/web': many.slice(0, 4) }, token });
    const fetchSpy = vi.spyOn(globalThis, 'fetch').mockRejectedValue(new Error('fetch is not to be used'));
    try {
      const registry = createGiteaRegistry({ url: server.url, username: 'ci', token });
      expect(await registry.listPackageVersions({ repository: 'acme/web' })).toHaveLength(2);
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
    }
  });

  it('does not send the token to a host a redirect points at', async () => {
    const other = await loopback((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('[]');
    });
    const server = await loopback((request, response) => {
      response.writeHead(302, { location: `${other.url}${request.path}` });
      response.end();
    });
    const registry = createGiteaRegistry({ url: server.url, token });
    await failure(registry.listPackageVersions({ repository: 'acme/web' }));
    expect(other.requests).toHaveLength(0);
  });

  it('an invalid name is BAD_REQUEST before any request; after dispose calls are UNAVAILABLE', async () => {
    const server = await fake({ packages: {} });
    const registry = createGiteaRegistry({ url: server.url });
    expect((await failure(registry.listPackageVersions({ repository: 'no-owner' }))).code).toBe(
      'BAD_REQUEST',
    );
    expect(server.requests).toHaveLength(0);
    await registry.dispose();
    expect((await failure(registry.listPackageVersions({ repository: 'acme/web' }))).code).toBe(
      'UNAVAILABLE',
    );
  });
});
