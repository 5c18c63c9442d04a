import { instantiate, isCoreError, parseOptions } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { keys } from '../test/live-postgres.ts';
import { postgresStateStoreOptions, postgresStateStoreSecrets } from './options.ts';
import { postgresStateStore } from './postgres-state-store.ts';

describe('postgresStateStoreOptions', () => {
  it('needs only the URL', () => {
    expect(parseOptions(postgresStateStoreOptions, { url: 'postgres://app@db/docker_watcher' })).toEqual({
      url: 'postgres://app@db/docker_watcher',
      schema: 'docker_watcher',
      poolSize: 10,
      connectTimeoutMs: 5_000,
      queryTimeoutMs: 30_000,
      historyLimit: 50,
      leaseMarginMs: 0,
      listenRetryMaxMs: 5_000,
      previousKeys: [],
    });
  });

  it('accepts postgresql:// URLs and keys as hex and base64', () => {
    const options = parseOptions(postgresStateStoreOptions, {
      url: 'postgresql://app:pw@db:6543/dw?sslmode=require',
      encryptionKey: keys.first,
      previousKeys: [keys.second, keys.third],
    });
    expect(options.previousKeys).toHaveLength(2);
  });

  it('reports bad fields by path without echoing the URL, the password or a key', () => {
    let caught: unknown;
    try {
      instantiate(postgresStateStore, {
        url: 'mysql://app:url-password-1@db/x',
        password: 42,
        schema: 'Bad-Schema',
        poolSize: 0,
        encryptionKey: 'not-a-key-but-a-secret',
        previousKeys: [keys.first, 'another-secret'],
        extra: true,
      });
    } catch (error) {
      caught = error;
    }
    expect(isCoreError(caught, 'CONFIG_INVALID')).toBe(true);
    const message = (caught as Error).message;
    expect(message).toMatch(/^Invalid options of store:postgres:/);
    for (const path of [
      'url:',
      'password:',
      'schema:',
      'poolSize:',
      'encryptionKey:',
      'previousKeys.1:',
      'extra',
    ])
      expect(message).toContain(path);
    for (const secret of ['url-password-1', 'mysql://', 'not-a-key-but-a-secret', 'another-secret'])
      expect(`${message}${JSON.stringify(caught)}`).not.toContain(secret);
  });

  it('names its secret options', () => {
    expect(postgresStateStore.secrets).toEqual(postgresStateStoreSecrets);
    expect([...postgresStateStoreSecrets].sort()).toEqual([
      'encryptionKey',
      'password',
      'previousKeys',
      'url',
    ]);
  });
});
