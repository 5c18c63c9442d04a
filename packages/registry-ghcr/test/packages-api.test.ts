import { createMemoryLogger, isCoreError } from '@docker-watcher/core';
import { type Loopback, startLoopback } from '@docker-watcher/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createGhcrRegistry } from '../src/index.ts';
import { type FakeVersion, startFakeGitHub } from './support/github-api.ts';

const token = 'ghp_fakeClassicPat0123456789abcdef';
const digest = (n: number) => `sha256:${String(n).padStart(64, 'b')}`;

/** 150 tagged images, each with an untagged platform manifest version, newest first. */
const many: FakeVersion[] = Array.from({ length: 150 }, (_, index) => [
  {
    digest: digest(index * 2),
    tags: [`v1.0.${149 - index}`],
    createdAt: `2026-01-01T00:00:${String(index % 60).padStart(2, '0')}Z`,
  },
  { digest: digest(index * 2 + 1), tags: [], createdAt: '2026-01-01T00:00:00Z' },
]).flat();

let servers: Loopback[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

async function track<T extends Loopback>(server: Promise<T>): Promise<T> {
  const started = await server;
  servers.push(started);
  return started;
}

async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isCoreError(error)) throw new Error(`expected a CoreError, got ${String(error)}`);
  return error;
}

describe('listPackageVersions (GitHub REST packages API)', () => {
  it('follows Link pages of an organization package, skipping untagged versions', async () => {
    const server = await track(
      startFakeGitHub({ owners: { acme: { type: 'org', packages: { web: many } } }, token }),
    );
    const registry = createGhcrRegistry({ apiUrl: server.url, username: 'ci', token });
    const versions = await registry.listPackageVersions({ repository: 'acme/web' });
    expect(versions).toHaveLength(150);
    expect(versions[0]).toMatchObject({ digest: digest(0), tags: ['v1.0.149'] });
    expect(server.requests).toHaveLength(3);
    expect(server.requests[0]?.path).toBe(
      '/orgs/acme/packages/container/web/versions?per_page=100&state=active',
    );
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${token}`);
    expect(server.requests[0]?.headers['x-github-api-version']).toBe('2022-11-28');
  });

  it('falls back to the user path, remembers it, and encodes names holding a slash', async () => {
    const versions = [{ digest: digest(1), tags: ['latest', 'v2'], createdAt: '2026-02-01T00:00:00Z' }];
    const server = await track(
      startFakeGitHub({ owners: { octo: { type: 'user', packages: { 'tools/web': versions } } }, token }),
    );
    const registry = createGhcrRegistry({ apiUrl: server.url, username: 'octo', token });
    expect(await registry.listPackageVersions({ repository: 'Octo/Tools/Web' })).toMatchObject([
      { tags: ['latest', 'v2'] },
    ]);
    await registry.listPackageVersions({ repository: 'octo/tools/web' });
    expect(server.requests.map((request) => request.path.split('?')[0])).toEqual([
      '/orgs/octo/packages/container/tools%2Fweb/versions',
      '/users/octo/packages/container/tools%2Fweb/versions',
      '/users/octo/packages/container/tools%2Fweb/versions',
    ]);
  });

  it('ownerType user goes straight to /users', async () => {
    const server = await track(
      startFakeGitHub({ owners: { octo: { type: 'user', packages: { web: many } } } }),
    );
    const registry = createGhcrRegistry({ apiUrl: server.url, ownerType: 'user', apiPageSize: 100 });
    await registry.listPackageVersions({ repository: 'octo/web' });
    expect(server.requests.every((request) => request.path.startsWith('/users/'))).toBe(true);
  });

  it('an unknown package is NOT_FOUND', async () => {
    const server = await track(startFakeGitHub({ owners: {} }));
    const registry = createGhcrRegistry({ apiUrl: server.url });
    const error = await failure(registry.listPackageVersions({ repository: 'acme/missing' }));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toContain('registry:ghcr');
  });

  it('a wrong token is UNAUTHORIZED naming the registry; the token shows in no error or log line', async () => {
    const server = await track(
      startFakeGitHub({ owners: { acme: { type: 'org', packages: { web: many } } }, token }),
    );
    const logger = createMemoryLogger();
    const wrong = 'ghp_wrongwrongwrong42';
    const registry = createGhcrRegistry(
      { apiUrl: server.url, username: 'ci', token: wrong },
      { logger, instance: 'gh' },
    );
    const error = await failure(registry.listPackageVersions({ repository: 'acme/web' }));
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.message).toContain('registry:ghcr/gh');
    expect(JSON.stringify([error, error.message, error.details, logger.entries])).not.toContain(wrong);
  });

  it('403 with an exhausted rate limit is RATE_LIMITED', async () => {
    const server = await track(
      startLoopback((_request, response) => {
        response.writeHead(403, {
          'content-type': 'application/json',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 30),
        });
        response.end('{"message": "API rate limit exceeded"}');
      }),
    );
    const error = await failure(
      createGhcrRegistry({ apiUrl: server.url }).listPackageVersions({ repository: 'acme/web' }),
    );
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryAfterMs).toBeGreaterThan(20_000);
  });

  it.each([
    ['an HTML error page', 'text/html', '<html><body><h1>Unicorn!</h1></body></html>'],
    ['malformed JSON', 'application/json', '[{"id": 1, "name": "sha256:'],
    ['JSON that is not a version list', 'application/json', '{"message": "hi"}'],
  ])('%s is BAD_RESPONSE', async (_name, contentType, body) => {
    const server = await track(
      startLoopback((_request, response) => {
        response.writeHead(200, { 'content-type': contentType });
        response.end(body);
      }),
    );
    const error = await failure(
      createGhcrRegistry({ apiUrl: server.url }).listPackageVersions({ repository: 'acme/web' }),
    );
    expect(error.code).toBe('BAD_RESPONSE');
  });

  it('a truncated body is BAD_RESPONSE (retryable)', async () => {
    const server = await track(
      startLoopback((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '3000' });
        response.write('[{"id": 1, "name": "sha256:');
        setTimeout(() => response.socket?.destroy(), 20);
      }),
    );
    const error = await failure(
      createGhcrRegistry({ apiUrl: server.url }).listPackageVersions({ repository: 'acme/web' }),
    );
    expect(error.code).toBe('BAD_RESPONSE');
    expect(error.retryable).toBe(true);
  });

  it('endless Link pages stop at maxPages; a link to another host is refused without sending the token', async () => {
    let n = 0;
    const endless = await track(
      startLoopback((request, response) => {
        n++;
        response.writeHead(200, {
          'content-type': 'application/json',
          link: `<${request.url.pathname}?page=${n + 1}>; rel="next"`,
        });
        response.end(
          JSON.stringify([{ id: n, name: digest(n), metadata: { container: { tags: [`t${n}`] } } }]),
        );
      }),
    );
    const error = await failure(
      createGhcrRegistry({ apiUrl: endless.url, maxPages: 5 }).listPackageVersions({
        repository: 'acme/web',
      }),
    );
    expect(error.code).toBe('BAD_RESPONSE');
    expect(endless.requests).toHaveLength(5);

    const other = await track(
      startLoopback((_request, response) => {
        response.end('[]');
      }),
    );
    const elsewhere = await track(
      startLoopback((_request, response) => {
        response.writeHead(200, {
          'content-type': 'application/json',
          link: `<${other.url}/next>; rel="next"`,
        });
        response.end(
          '[]'.replace(
            '[]',
            JSON.stringify([{ id: 1, name: digest(1), metadata: { container: { tags: ['a'] } } }]),
          ),
        );
      }),
    );
    const refused = await failure(
      createGhcrRegistry({ apiUrl: elsewhere.url, username: 'ci', token }).listPackageVersions({
        repository: 'acme/web',
      }),
    );
    expect(refused.code).toBe('BAD_RESPONSE');
    expect(other.requests).toHaveLength(0);
  });
});
