import { ConfigError, isCoreError, parseOptions } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { createOciRegistry, ociRegistry } from './oci-registry.ts';
import { dockerHubRegistry, dockerHubUrl, ociRegistryOptions } from './options.ts';

function problems(input: unknown): string[] {
  try {
    parseOptions(ociRegistryOptions, input, { secrets: ociRegistry.secrets });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('ociRegistryOptions', () => {
  it('applies defaults', () => {
    expect(parseOptions(ociRegistryOptions, { url: 'https://registry.example.com' })).toEqual({
      url: 'https://registry.example.com',
      pageSize: 1000,
      maxPages: 500,
      timeoutMs: 30_000,
    });
  });

  it('requires an http(s) URL without credentials, query or fragment', () => {
    expect(problems({})[0]).toMatch(/^url: /);
    expect(problems({ url: 'registry.example.com' })[0]).toMatch(/^url: must be an absolute URL/);
    expect(problems({ url: 'ftp://registry.example.com' })).toEqual([
      'url: must be an http:// or https:// URL',
    ]);
    expect(problems({ url: 'https://user:pw@registry.example.com' })).toEqual([
      'url: must not carry credentials: use the username and password options',
    ]);
    expect(problems({ url: 'https://registry.example.com/?x=1' })).toEqual([
      'url: must not have a query or a fragment',
    ]);
  });

  it('wants username and password together, and never echoes the password', () => {
    expect(problems({ url: 'https://r.example', username: 'me' })).toEqual([
      'username: username and password go together: set both or neither',
    ]);
    expect(problems({ url: 'https://r.example', password: 'pw' })).toEqual([
      'username: username and password go together: set both or neither',
    ]);
    const reported = problems({ url: 'https://r.example', username: 'me', password: 42 }).join('\n');
    expect(reported).toMatch(/^password: /);
    expect(reported).not.toContain('42');
  });

  it('checks the page size, page bound, timeout, platform and webhook header', () => {
    expect(problems({ url: 'https://r.example', pageSize: 0 })[0]).toMatch(/^pageSize: /);
    expect(problems({ url: 'https://r.example', maxPages: 1.5 })[0]).toMatch(/^maxPages: /);
    expect(problems({ url: 'https://r.example', timeoutMs: -1 })[0]).toMatch(/^timeoutMs: /);
    expect(problems({ url: 'https://r.example', platform: { os: 'linux' } })[0]).toMatch(
      /^platform.architecture: /,
    );
    expect(problems({ url: 'https://r.example', webhook: { header: 'bad header', secret: 's' } })[0]).toMatch(
      /^webhook.header: /,
    );
    expect(problems({ url: 'https://r.example', defaultNamespace: 'Library' })[0]).toMatch(
      /^defaultNamespace: /,
    );
    expect(problems({ url: 'https://r.example', extra: true })[0]).toMatch(/^extra: /);
  });

  it('lower-cases the webhook header and defaults it to authorization', () => {
    const parsed = parseOptions(ociRegistryOptions, {
      url: 'https://r.example',
      webhook: { header: 'X-Registry-Secret', secret: 's' },
    });
    expect(parsed.webhook).toEqual({ header: 'x-registry-secret', secret: 's' });
    expect(
      parseOptions(ociRegistryOptions, { url: 'https://r.example', webhook: { secret: 's' } }).webhook
        ?.header,
    ).toBe('authorization');
  });

  it('documents every option with a description', () => {
    const entries = ociRegistryOptions.pipe[0].entries;
    for (const [name, schema] of Object.entries(entries)) {
      const described = JSON.stringify(schema, (_key, value) =>
        typeof value === 'function' ? undefined : value,
      );
      expect(described, name).toContain('"type":"description"');
    }
  });
});

describe('dockerHubRegistry', () => {
  it('points at registry-1.docker.io with the library namespace', () => {
    expect(dockerHubRegistry()).toEqual({ url: dockerHubUrl, defaultNamespace: 'library' });
    expect(dockerHubRegistry({ username: 'me', password: 'pat' })).toMatchObject({
      url: 'https://registry-1.docker.io',
    });
  });
});

describe('createOciRegistry', () => {
  it('validates once, at the boundary, with CONFIG_INVALID naming the adapter', () => {
    let caught: unknown;
    try {
      createOciRegistry({ url: 'nope', username: 'me', password: 'hunter2-secret' });
    } catch (error) {
      caught = error;
    }
    expect(isCoreError(caught, 'CONFIG_INVALID')).toBe(true);
    expect((caught as Error).message).toContain('options of registry:oci');
    expect(JSON.stringify(caught)).not.toContain('hunter2-secret');
  });

  it('takes its instance name into the id', async () => {
    const registry = createOciRegistry({ url: 'https://r.example' }, { instance: 'hub' });
    expect(registry.id).toBe('registry:oci/hub');
    expect(registry.capabilities).toEqual({ imageConfig: true, webhooks: false, platforms: true });
    expect(registry.parseWebhook).toBeUndefined();
    await registry.dispose();
  });
});
