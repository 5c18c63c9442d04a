import { createMemoryLogger, instantiate, isCoreError } from '@docker-watcher/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type IndexServer, startIndexServer } from '../test/index-server.ts';
import { createStaticIndexRegistry, staticIndexRegistry } from './static-index-registry.ts';

const token = 'super-secret-token';
let server: IndexServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(options: { timeoutMs?: number } = {}) {
  server = await startIndexServer({ token });
  server.index.repositories['team/web'] = { tags: { 'v1.0.0': `sha256:${'a'.repeat(64)}` } };
  return { server, registry: createStaticIndexRegistry({ url: server.url, token, ...options }) };
}

async function thrown(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('createStaticIndexRegistry', () => {
  it('reads tags and digests from the index with the bearer token', async () => {
    const { registry } = await setup();
    expect(await registry.listTags({ repository: 'team/web' })).toEqual(['v1.0.0']);
    expect(await registry.resolveReference({ repository: 'team/web', reference: 'v1.0.0' })).toEqual({
      digest: `sha256:${'a'.repeat(64)}`,
    });
    expect(
      await registry.resolveReference({ repository: 'team/other', reference: 'v1.0.0' }),
    ).toBeUndefined();
  });

  it('does not mistake object properties for repositories or tags', async () => {
    const { registry } = await setup();
    await expect(registry.listTags({ repository: 'constructor' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(
      await registry.resolveReference({ repository: 'team/web', reference: 'toString' }),
    ).toBeUndefined();
  });

  it('maps a wrong token to UNAUTHORIZED without ever echoing the token', async () => {
    server = await startIndexServer({ token });
    const registry = createStaticIndexRegistry({ url: server.url, token: 'wrong-token' });
    const error = await thrown(registry.listTags({ repository: 'team/web' }));
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', details: { status: 401 } });
    expect(JSON.stringify(error) + String((error as Error).message)).not.toContain('wrong-token');
  });

  it('maps server failures through codeFromHttpStatus, with Retry-After', async () => {
    const { server, registry } = await setup();
    server.respondWith({ status: 503 });
    expect(await thrown(registry.listTags({ repository: 'team/web' }))).toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
    });
    server.respondWith({ status: 429, headers: { 'retry-after': '3' } });
    expect(await thrown(registry.listTags({ repository: 'team/web' }))).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterMs: 3_000,
    });
  });

  it('reports a body that is not JSON, or not an index, as BAD_RESPONSE', async () => {
    const { server, registry } = await setup();
    server.respondWith({ status: 200, body: '<html>' });
    expect(await thrown(registry.listTags({ repository: 'team/web' }))).toMatchObject({
      code: 'BAD_RESPONSE',
    });
    server.respondWith({ status: 200, body: '{"repositories":{"team/web":{"tags":{"v1":"latest"}}}}' });
    const error = await thrown(registry.listTags({ repository: 'team/web' }));
    expect(error).toMatchObject({ code: 'BAD_RESPONSE' });
    expect((error as Error).message).toContain('repositories.team/web.tags.v1');
  });

  it('reports a slow index as TIMEOUT and an unreachable one as UNAVAILABLE', async () => {
    const { server, registry } = await setup({ timeoutMs: 50 });
    server.respondWith({ status: 200, body: '{}', delayMs: 500 });
    expect(await thrown(registry.listTags({ repository: 'team/web' }))).toMatchObject({ code: 'TIMEOUT' });
    await server.close();
    const error = await thrown(registry.listTags({ repository: 'team/web' }));
    expect(isCoreError(error, 'UNAVAILABLE')).toBe(true);
  });

  it('stops waiting when the caller aborts', async () => {
    const { server, registry } = await setup();
    server.respondWith({ status: 200, body: '{}', delayMs: 5_000 });
    const controller = new AbortController();
    const pending = thrown(registry.listTags({ repository: 'team/web', signal: controller.signal }));
    setTimeout(() => controller.abort(), 20);
    expect(await pending).toMatchObject({ code: 'ABORTED' });
  });

  it('logs requests through the injected logger, never the token', async () => {
    server = await startIndexServer({ token });
    server.index.repositories['team/web'] = { tags: {} };
    const logger = createMemoryLogger();
    const registry = instantiate(
      staticIndexRegistry,
      { url: server.url, token },
      { logger, instance: 'main' },
    );
    await registry.listTags({ repository: 'team/web' });
    expect(registry.id).toBe('registry:static-index/main');
    expect(logger.entries).toEqual([
      {
        level: 'debug',
        message: 'GET index',
        fields: { adapter: 'registry:static-index/main', status: 200, durationMs: expect.any(Number) },
      },
    ]);
    expect(JSON.stringify(logger.entries)).not.toContain(token);
  });

  it('validates options once, at the door', () => {
    expect(() => createStaticIndexRegistry({ url: 'not a url' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});
