import { isCoreError } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { createGhcrRegistry, ghcrRegistry } from './index.ts';

const configError = (input: unknown) => {
  try {
    createGhcrRegistry(input as never);
  } catch (error) {
    if (isCoreError(error)) return error;
    throw error;
  }
  throw new Error('expected CONFIG_INVALID');
};

describe('ghcrRegistryOptions', () => {
  it('works without options (public images on ghcr.io) and names the adapter registry:ghcr', () => {
    const registry = createGhcrRegistry({}, { instance: 'main' });
    expect(registry.id).toBe('registry:ghcr/main');
    expect(registry.capabilities).toEqual({ imageConfig: true, webhooks: false, platforms: true });
    expect(registry.parseWebhook).toBeUndefined();
  });

  it.each([
    [{ registryUrl: 'ghcr.io' }, 'registryUrl'],
    [{ apiUrl: 'https://user:pw@api.github.com' }, 'apiUrl'],
    [{ apiPageSize: 101 }, 'apiPageSize'],
    [{ ownerType: 'team' }, 'ownerType'],
    [{ username: 'octo' }, 'username'],
  ])('refuses %j (path %s)', (input, path) => {
    const error = configError(input);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(path);
  });

  it('declares token and webhookSecret secret, and never echoes them', () => {
    expect(ghcrRegistry.secrets).toEqual(['token', 'webhookSecret']);
    const error = configError({ token: 'ghp_secretvalue123', webhookSecret: 7 });
    expect(error.message).not.toContain('ghp_secretvalue123');
  });
});
