import { createMemoryLogger, isCoreError } from '@docker-watcher/core';
import {
  type LocalRegistry,
  type Loopback,
  pushSyntheticTags,
  startLoopback,
  startRegistry,
} from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGiteaRegistry } from '../src/index.ts';

async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isCoreError(error)) throw new Error(`expected a CoreError, got ${String(error)}`);
  return error;
}

describe('registry side against a real token-auth registry', () => {
  let registry: LocalRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' });
    await pushSyntheticTags(registry, 'acme/web', ['v1.0.0']);
  });
  afterAll(() => registry?.stop());

  it('wrong credentials are UNAUTHORIZED naming registry:gitea, with no token in the error or the logs', async () => {
    const logger = createMemoryLogger();
    const wrong = 'not-the-token-9a8b7c';
    const adapter = createGiteaRegistry(
      { url: 'https://git.example.com', registryUrl: registry.url, username: 'watcher', token: wrong },
      { logger, instance: 'main' },
    );
    const error = await failure(adapter.listTags({ repository: 'acme/web' }));
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.message).toContain('registry:gitea/main');
    expect(error.details.registry).toBe('registry:gitea/main');
    expect(JSON.stringify([error, error.message, error.cause, logger.entries])).not.toContain(wrong);
    expect(JSON.stringify(logger.entries)).not.toContain(Buffer.from(`watcher:${wrong}`).toString('base64'));
  });

  it('trades username:token for a token at the realm, then lists tags with upper-case names folded', async () => {
    const credentials = registry.credentials;
    if (!credentials) throw new Error('token mode has credentials');
    const logger = createMemoryLogger();
    const adapter = createGiteaRegistry(
      {
        url: 'https://git.example.com',
        registryUrl: registry.url,
        username: credentials.username,
        token: credentials.password,
      },
      { logger },
    );
    expect(await adapter.listTags({ repository: 'Acme/Web' })).toEqual(['v1.0.0']);
    expect(adapter.stats().tokenRequests).toBe(1);
    expect(JSON.stringify(logger.entries)).not.toContain(credentials.password);
  });

  it('an unknown repository is NOT_FOUND', async () => {
    const credentials = registry.credentials;
    if (!credentials) throw new Error('token mode has credentials');
    const adapter = createGiteaRegistry({
      url: 'https://git.example.com',
      registryUrl: registry.url,
      username: credentials.username,
      token: credentials.password,
    });
    expect((await failure(adapter.listTags({ repository: 'acme/missing' }))).code).toBe('NOT_FOUND');
  });
});

describe('registry side faults (loopback)', () => {
  let server: Loopback;
  let mode: 'html' | 'truncated' | 'malformed' = 'html';
  beforeAll(async () => {
    server = await startLoopback((_request, response) => {
      if (mode === 'html') {
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end('<!DOCTYPE html><html><title>Gitea</title></html>');
      } else if (mode === 'malformed') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"name": "acme/web", "tags": [');
      } else {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
        response.write('{"name": "acme/web", "tags": ["v1');
        setTimeout(() => response.socket?.destroy(), 20);
      }
    });
  });
  afterAll(() => server?.close());

  it.each(['html', 'malformed', 'truncated'] as const)(
    'a %s tag list is BAD_RESPONSE naming registry:gitea',
    async (which) => {
      mode = which;
      const adapter = createGiteaRegistry({ url: server.url });
      const error = await failure(adapter.listTags({ repository: 'acme/web' }));
      expect(error.code).toBe('BAD_RESPONSE');
      expect(error.message).toContain('registry:gitea');
      expect(error.message).not.toContain('registry:oci');
    },
  );
});
