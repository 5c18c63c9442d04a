import { describe, expect, it } from 'vitest';
import { clientConfig, describeTarget, passwordOf } from './_connection.ts';

describe('describeTarget', () => {
  it('keeps everything but the password', () => {
    expect(describeTarget('postgres://app:secret@db.internal:6543/dw?sslmode=require')).toBe(
      'postgres://app@db.internal:6543/dw',
    );
    expect(describeTarget('postgresql://db/dw')).toBe('postgresql://db/dw');
    expect(describeTarget('postgres:///dw?host=/var/run/postgresql')).toBe(
      'postgres://[/var/run/postgresql]/dw',
    );
  });
});

describe('the password', () => {
  it('of the option replaces the URL one', () => {
    const url = 'postgres://app:from-url@db/dw';
    expect(passwordOf({ url })).toBe('from-url');
    expect(passwordOf({ url, password: 'p@ss:/word' })).toBe('p@ss:/word');
    expect(passwordOf({ url: 'postgres://app@db/dw' })).toBeUndefined();
    const config = clientConfig({
      url,
      password: 'p@ss:/word',
      connectTimeoutMs: 1_000,
      queryTimeoutMs: 2_000,
      applicationName: 'docker-watcher',
    });
    expect(new URL(config.connectionString ?? '').password).toBe(encodeURIComponent('p@ss:/word'));
    expect(config).toMatchObject({ connectionTimeoutMillis: 1_000, statement_timeout: 2_000 });
  });
});
