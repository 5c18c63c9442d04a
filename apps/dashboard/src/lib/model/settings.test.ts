import { describe, expect, it } from 'vitest';
import type { ConfigView } from '../api/types.ts';
import { principals, stageSettings, webhookUrl } from './settings.ts';

const config = (values: Array<[string, unknown, boolean?]>): ConfigView => ({
  file: '/etc/docker-watcher/config.yml',
  loadedAt: '2026-01-01T00:00:00.000Z',
  values: values.map(([path, value, secret]) => ({
    path,
    value,
    source: 'file',
    ...(secret ? { secret: true } : {}),
  })),
});

describe('settings', () => {
  it('gives each registry type its webhook URL, with the registry named', () => {
    expect(webhookUrl('https://w.example.com', { name: 'git', type: 'gitea' })).toBe(
      'https://w.example.com/api/webhook/gitea?registry=git',
    );
    expect(webhookUrl('http://h', { name: 'gh', type: 'ghcr' })).toBe(
      'http://h/api/webhook/github?registry=gh',
    );
    expect(webhookUrl('http://h', { name: 'r', type: 'oci' })).toBe(
      'http://h/api/webhook/registry?registry=r',
    );
    expect(webhookUrl('http://h', { name: 'x', type: 'nomad' })).toBeUndefined();
  });

  it('lists users and tokens with their scopes, never anything else', () => {
    const found = principals(
      config([
        ['global.server.users.0.name', 'ada'],
        ['global.server.users.0.password_hash', '********', true],
        ['global.server.users.0.scopes.0', 'admin'],
        ['global.server.tokens.0.name', 'ci'],
        ['global.server.tokens.0.token', '********', true],
        ['global.server.tokens.0.scopes.0', 'read'],
        ['global.server.tokens.0.scopes.1', 'deploy'],
      ]),
    );
    expect(found).toEqual([
      { kind: 'token', name: 'ci', scopes: ['read', 'deploy'] },
      { kind: 'user', name: 'ada', scopes: ['admin'] },
    ]);
    expect(JSON.stringify(found)).not.toContain('*');
  });

  it("reads a stage's settings, the project's own where the stage has none", () => {
    const settings = stageSettings(
      config([
        ['projects.web.port', 3000],
        ['projects.web.strategy', 'blue-green'],
        ['projects.web.stages.dev.tag_pattern', 'dev-*'],
        ['projects.web.stages.dev.strategy', 'recreate'],
        ['projects.webshop.port', 4000],
      ]),
      'web',
      'dev',
    );
    expect(Object.fromEntries(settings)).toEqual({
      tag_pattern: 'dev-*',
      strategy: 'recreate',
      port: '3000',
    });
  });
});
