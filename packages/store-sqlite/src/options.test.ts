import { instantiate, isCoreError, parseOptions } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { keys } from '../test/temp-dir.ts';
import { sqliteStateStoreOptions, sqliteStateStoreSecrets } from './options.ts';
import { sqliteStateStore } from './sqlite-state-store.ts';

describe('sqliteStateStoreOptions', () => {
  it('has defaults for everything', () => {
    expect(parseOptions(sqliteStateStoreOptions, {})).toEqual({
      path: './data/docker-watcher.db',
      busyTimeoutMs: 5_000,
      synchronous: 'normal',
      integrityCheck: 'quick',
      historyLimit: 50,
      previousKeys: [],
    });
  });

  it('accepts keys as hex and base64', () => {
    const options = parseOptions(sqliteStateStoreOptions, {
      encryptionKey: keys.first,
      previousKeys: [keys.second, keys.third],
    });
    expect(options.previousKeys).toHaveLength(2);
  });

  it('reports bad fields by path without echoing secret values', () => {
    let caught: unknown;
    try {
      instantiate(sqliteStateStore, {
        path: '',
        busyTimeoutMs: -1,
        encryptionKey: 'not-a-key-but-a-secret',
        previousKeys: [keys.first, 'another-secret'],
        extra: true,
      });
    } catch (error) {
      caught = error;
    }
    expect(isCoreError(caught, 'CONFIG_INVALID')).toBe(true);
    const message = (caught as Error).message;
    expect(message).toMatch(/^Invalid options of store:sqlite:/);
    for (const path of ['path:', 'busyTimeoutMs:', 'encryptionKey:', 'previousKeys.1:', 'extra'])
      expect(message).toContain(path);
    expect(message).not.toContain('not-a-key-but-a-secret');
    expect(message).not.toContain('another-secret');
  });

  it('names its secret options', () => {
    expect(sqliteStateStore.secrets).toEqual(sqliteStateStoreSecrets);
    expect([...sqliteStateStoreSecrets].sort()).toEqual(['encryptionKey', 'previousKeys']);
  });
});
