import { isCoreError, parseOptions } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { nomadTargetOptions, nomadTargetSecrets } from './options.ts';

const parse = (input: unknown) =>
  parseOptions(nomadTargetOptions, input, {
    subject: 'options of target:nomad',
    secrets: nomadTargetSecrets,
  });

const problems = (input: unknown): string[] => {
  try {
    parse(input);
  } catch (error) {
    if (isCoreError(error, 'CONFIG_INVALID')) return error.message.split('\n').slice(1);
    throw error;
  }
  return [];
};

describe('nomadTargetOptions', () => {
  it('applies the defaults', () => {
    expect(parse({ jobs: { 'web-app/dev': { job: 'web-app-dev' } } })).toEqual({
      address: 'http://127.0.0.1:4646',
      jobs: { 'web-app/dev': { job: 'web-app-dev' } },
      promote: 'auto',
      plan: false,
      deploymentTimeoutMs: 900_000,
      blockingQueryWaitMs: 30_000,
      requestTimeoutMs: 15_000,
    });
  });

  it('reports each bad field by its path', () => {
    expect(
      problems({
        address: 'nomad:4646',
        jobs: { 'a/b/c': { job: 'x' }, 'web/dev': { job: 'has space', promote: 'later' } },
        deploymentTimeoutMs: 0,
        tls: { cert: '-----BEGIN CERTIFICATE-----' },
      }),
    ).toEqual([
      'address: must be an http:// or https:// URL',
      'tls: `cert` and `key` go together',
      'jobs.a/b/c: must be `project/stage`, `project` or `*`',
      'jobs.web/dev.job: must be a Nomad job id (no spaces, `/`, `?` or `#`)',
      'jobs.web/dev.promote: Invalid type: Expected ("auto" | "confirm") but received "later"',
      'deploymentTimeoutMs: Invalid value: Expected >=1 but received 0',
    ]);
    // Without jobs every stage gives its job in its stage options.
    expect(problems({ jobs: {} })).toEqual([]);
    expect(problems({ address: 'nomad.example:4646', jobs: { '*': { job: 'x' } } })).toEqual([
      'address: must be an http:// or https:// URL',
    ]);
    expect(problems({ address: 'not a url', jobs: { '*': { job: 'x' } } })).toEqual([
      'address: must be a URL such as `http://127.0.0.1:4646`',
      'address: must be an http:// or https:// URL',
    ]);
  });

  it('never echoes the token, the Vault token or the TLS key', () => {
    const text = problems({
      jobs: { '*': { job: 'x' } },
      token: 42,
      vaultToken: ['hvs.secret-value'],
      tls: { cert: 'c', key: 99 },
    }).join('\n');
    expect(text).toMatch(/^token: Invalid type: Expected string$/m);
    expect(text).not.toMatch(/42|hvs\.secret-value|99/);
  });
});
