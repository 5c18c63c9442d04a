import { describe, expect, it } from 'vitest';
import { instantiate } from '../contracts/adapter.ts';
import { isDigest } from '../contracts/release.ts';
import {
  createMemoryRegistry,
  createMemoryWebhookRequest,
  memoryRegistry,
  memoryWebhookSignatureHeader,
} from './memory-registry.ts';

describe('createMemoryRegistry', () => {
  it('serves pushed tags, moves re-pushed ones, and forgets removed ones', async () => {
    const registry = createMemoryRegistry();
    const first = registry.push('team/web', 'v1');
    registry.push('team/web', 'v2', `sha256:${'b'.repeat(64)}`);
    expect(isDigest(first)).toBe(true);
    expect(await registry.listTags({ repository: 'team/web' })).toEqual(['v1', 'v2']);
    const moved = registry.push('team/web', 'v1');
    expect(moved).not.toBe(first);
    expect((await registry.resolveReference({ repository: 'team/web', reference: 'v1' }))?.digest).toBe(
      moved,
    );
    registry.remove('team/web', 'v1');
    expect(await registry.listTags({ repository: 'team/web' })).toEqual(['v2']);
    registry.remove('team/web');
    await expect(registry.listTags({ repository: 'team/web' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('knows empty repositories', async () => {
    const registry = createMemoryRegistry();
    registry.createRepository('team/empty');
    expect(await registry.listTags({ repository: 'team/empty' })).toEqual([]);
  });

  it('reports platforms of an index and the config of an image', async () => {
    const registry = createMemoryRegistry();
    const digest = registry.push('team/web', 'multi', {
      platforms: [{ os: 'linux', architecture: 'arm64', variant: 'v8' }],
      config: { labels: { a: 'b' }, exposedPorts: [3000] },
    });
    const resolved = await registry.resolveReference({ repository: 'team/web', reference: 'multi' });
    expect(resolved).toMatchObject({ digest, mediaType: 'application/vnd.oci.image.index.v1+json' });
    expect(resolved?.platforms).toEqual([
      { os: 'linux', architecture: 'arm64', variant: 'v8', digest: expect.any(String) },
    ]);
    expect(await registry.readImageConfig?.({ repository: 'team/web', digest })).toEqual({
      labels: { a: 'b' },
      exposedPorts: [3000],
    });
    await expect(
      registry.readImageConfig?.({ repository: 'team/web', digest: `sha256:${'0'.repeat(64)}` }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('counts backend requests and injects faults', async () => {
    const registry = createMemoryRegistry();
    registry.push('team/web', 'v1');
    registry.faults.failNext('listTags', 'RATE_LIMITED');
    await expect(registry.listTags({ repository: 'team/web' })).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      retryable: true,
    });
    await registry.listTags({ repository: 'team/web' });
    await registry.resolveReference({ repository: 'team/web', reference: 'v1' });
    expect(registry.requests).toBe(3);
  });

  it('offers webhooks only with a secret, and builds signed requests for tests', async () => {
    expect(createMemoryRegistry().parseWebhook).toBeUndefined();
    expect(() => createMemoryRegistry().webhookRequest([])).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED' }),
    );
    const registry = createMemoryRegistry({ webhookSecret: 's3cret' });
    const observation = { repository: 'team/web', tag: 'v1', action: 'pushed' as const, eventId: 'e-1' };
    expect(await registry.parseWebhook?.(registry.webhookRequest([observation]))).toEqual([observation]);
    const unsigned = { headers: {}, body: registry.webhookRequest([observation]).body };
    await expect(registry.parseWebhook?.(unsigned)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(registry.requests).toBe(0);
  });

  it('ignores actions it does not know and rejects bodies that are not JSON', async () => {
    const registry = createMemoryRegistry({ webhookSecret: 's3cret' });
    const ignored = createMemoryWebhookRequest({
      observations: [{ repository: 'team/web', tag: 'v1', action: 'scanned' as never }],
      secret: 's3cret',
    });
    expect(await registry.parseWebhook?.(ignored)).toEqual([]);
    const body = new TextEncoder().encode('not json');
    const signed = createMemoryWebhookRequest({ observations: [], secret: 's3cret' });
    const header = signed.headers[memoryWebhookSignatureHeader];
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
    await expect(
      registry.parseWebhook?.({ headers: { [memoryWebhookSignatureHeader]: header }, body }),
    ).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });

  it('validates options once and keeps the secret out of messages', () => {
    expect(() => instantiate(memoryRegistry, { webhookSecret: 42 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(() => instantiate(memoryRegistry, { webhookSecret: 'x', unknown: true })).toThrow(/unknown/);
    expect(createMemoryRegistry({}, { instance: 'main' }).id).toBe('registry:memory/main');
  });

  it('throws after dispose', async () => {
    const registry = createMemoryRegistry();
    registry.push('team/web', 'v1');
    await registry.dispose();
    await expect(registry.listTags({ repository: 'team/web' })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
  });
});
