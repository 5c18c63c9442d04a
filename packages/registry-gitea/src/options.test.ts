import { isCoreError } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { createGiteaRegistry, giteaRegistry } from './index.ts';

const configError = (input: unknown) => {
  try {
    createGiteaRegistry(input as never);
  } catch (error) {
    if (isCoreError(error)) return error;
    throw error;
  }
  throw new Error('expected CONFIG_INVALID');
};

describe('giteaRegistryOptions', () => {
  it('applies defaults and names the adapter registry:gitea', () => {
    const registry = createGiteaRegistry({ url: 'https://git.example.com' }, { instance: 'main' });
    expect(registry.id).toBe('registry:gitea/main');
    expect(registry.capabilities).toEqual({ imageConfig: true, webhooks: false, platforms: true });
  });

  it.each([
    [{ url: 'git.example.com' }, 'url'],
    [{ url: 'https://user:pw@git.example.com' }, 'url'],
    [{ url: 'https://git.example.com', apiPageSize: 0 }, 'apiPageSize'],
    [{ url: 'https://git.example.com', extra: true }, 'extra'],
  ])('refuses %j (path %s)', (input, path) => {
    const error = configError(input);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(path);
  });

  it('declares token and webhookSecret secret, and never echoes them', () => {
    expect(giteaRegistry.secrets).toEqual(['token', 'webhookSecret']);
    const error = configError({
      url: 'https://git.example.com',
      token: 42,
      webhookSecret: 'hook-secret-xyz',
      x: 1,
    });
    expect(error.message).not.toContain('hook-secret-xyz');
  });
});
