// Auth and request economy against the real distribution registry in its three auth modes.
import { inspect } from 'node:util';
import { type CoreError, createMemoryLogger, isCoreError } from '@docker-watcher/core';
import { type LocalRegistry, pushSyntheticTags, startRegistry } from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOciRegistry } from '../src/index.ts';
import { optionsFor } from './support/harness.ts';

async function failure(action: Promise<unknown>): Promise<CoreError> {
  try {
    await action;
  } catch (error) {
    if (isCoreError(error)) return error;
    throw error;
  }
  throw new Error('expected a CoreError, but the call resolved');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(['anonymous', 'basic', 'token'] as const)('distribution 2.8, %s', (auth) => {
  let registry: LocalRegistry;
  const repositories = ['economy/one', 'economy/two', 'economy/three'];
  beforeAll(async () => {
    registry = await startRegistry({ auth });
    for (const repository of repositories) await pushSyntheticTags(registry, repository, ['v1', 'v2']);
  });
  afterAll(() => registry?.stop());

  it('costs one request per repository per poll once auth is learned', async () => {
    const adapter = createOciRegistry(optionsFor(registry));
    for (const repository of repositories) await adapter.listTags({ repository });
    const warm = adapter.stats();
    for (let cycle = 0; cycle < 3; cycle++) {
      for (const repository of repositories)
        expect((await adapter.listTags({ repository })).sort()).toEqual(['v1', 'v2']);
    }
    const spent = adapter.stats().requests - warm.requests;
    expect(spent).toBe(3 * repositories.length);
    // A digest check is one HEAD.
    const before = adapter.stats().requests;
    await adapter.resolveReference({ repository: 'economy/one', reference: 'v1' });
    expect(adapter.stats().requests - before).toBe(1);
    await adapter.dispose();
  });

  it('probes /v2/ and reports the scheme it was asked for', async () => {
    const adapter = createOciRegistry(optionsFor(registry));
    const probe = await adapter.probe();
    expect(probe).toEqual({
      auth: auth === 'anonymous' ? 'none' : auth === 'basic' ? 'basic' : 'bearer',
      apiVersion: 'registry/2.0',
    });
  });

  it('an unknown repository is NOT_FOUND', async () => {
    const adapter = createOciRegistry(optionsFor(registry));
    expect((await failure(adapter.listTags({ repository: 'economy/missing' }))).code).toBe('NOT_FOUND');
  });

  // An anonymous registry never asks for credentials, so it cannot refuse them.
  if (auth !== 'anonymous') {
    it('refuses wrong credentials with UNAUTHORIZED, and no secret leaks', async () => {
      const password = `wrong-${auth}-password-7f3a`;
      const logger = createMemoryLogger();
      const adapter = createOciRegistry(
        { url: registry.url, username: registry.credentials?.username ?? 'watcher', password },
        { logger, instance: 'wrong' },
      );
      const errors = [
        await failure(adapter.listTags({ repository: 'economy/one' })),
        await failure(adapter.resolveReference({ repository: 'economy/one', reference: 'v1' })),
        await failure(adapter.probe()),
      ];
      const encoded = Buffer.from(`watcher:${password}`).toString('base64');
      for (const error of errors) {
        expect(error.code).toBe('UNAUTHORIZED');
        expect(error.message).toContain(`registry:oci/wrong (${registry.url})`);
        const serialised = `${JSON.stringify(error)}\n${inspect(error, { depth: 10 })}\n${error.stack}`;
        expect(serialised).not.toContain(password);
        expect(serialised).not.toContain(encoded);
      }
      expect(JSON.stringify(logger.entries)).not.toContain(password);
    });

    it('without credentials is UNAUTHORIZED', async () => {
      const adapter = createOciRegistry({ url: registry.url });
      const error = await failure(adapter.listTags({ repository: 'economy/one' }));
      expect(error.code).toBe('UNAUTHORIZED');
      expect(error.message).toContain('needs credentials');
    });
  }
});

describe('distribution 2.8, token server', () => {
  let registry: LocalRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token', tokenExpiresInSeconds: 3 });
    for (const repository of ['tokens/a', 'tokens/b']) await pushSyntheticTags(registry, repository, ['v1']);
  });
  afterAll(() => registry?.stop());

  const tokenRequests = () => registry.tokenServer?.requests ?? [];
  const scopesFetched = (from: number) =>
    tokenRequests()
      .slice(from)
      .map((request) => request.scopes.join(' '));

  it('fetches a token at most once per scope per expiry window, also under concurrency', async () => {
    const logger = createMemoryLogger();
    const adapter = createOciRegistry(optionsFor(registry), { logger });
    const start = tokenRequests().length;
    await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        adapter.listTags({ repository: index % 2 ? 'tokens/a' : 'tokens/b' }),
      ),
    );
    for (let round = 0; round < 3; round++) {
      await adapter.listTags({ repository: 'tokens/a' });
      await adapter.resolveReference({ repository: 'tokens/a', reference: 'v1' });
      await adapter.listTags({ repository: 'tokens/b' });
    }
    expect(scopesFetched(start).sort()).toEqual(['repository:tokens/a:pull', 'repository:tokens/b:pull']);
    expect(
      tokenRequests()
        .slice(start)
        .every((request) => request.status === 200 && request.user === 'watcher'),
    ).toBe(true);
    expect(adapter.stats().tokenRequests).toBe(2);

    // 3 s tokens are dropped 0.3 s early; the next call fetches a new one up front (no 401 first).
    await sleep(2_800);
    const requestsBefore = adapter.stats().requests;
    await adapter.listTags({ repository: 'tokens/a' });
    expect(scopesFetched(start)).toHaveLength(3);
    expect(adapter.stats().requests - requestsBefore).toBe(2);
    // Tokens are JWTs (`eyJ…`): logged never, only that one was fetched and for which scopes.
    expect(logger.entries.some((entry) => entry.message === 'fetched a registry token')).toBe(true);
    expect(JSON.stringify(logger.entries)).not.toContain('eyJ');
  });

  it('gets anonymous tokens when the token server grants anonymous pulls', async () => {
    const open = await startRegistry({ auth: 'token', anonymousPull: true });
    try {
      await pushSyntheticTags(open, 'public/app', ['v1']);
      const adapter = createOciRegistry({ url: open.url });
      expect(await adapter.listTags({ repository: 'public/app' })).toEqual(['v1']);
      expect(open.tokenServer?.requests.map((request) => request.user)).toEqual([undefined]);
    } finally {
      await open.stop();
    }
  });
});
