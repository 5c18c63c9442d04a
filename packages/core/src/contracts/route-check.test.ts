import { describe, expect, it } from 'vitest';
import { isCoreError } from '../errors.ts';
import { checkHost, checkRoute } from './route-check.ts';

function code(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return isCoreError(error) ? error.code : 'not a CoreError';
  }
  return undefined;
}

describe('checkHost', () => {
  it('lower-cases and trims valid names', () => {
    expect(checkHost(' Stage-Dev-Web-App.Example.COM ', 'proxy:caddy')).toBe('stage-dev-web-app.example.com');
    expect(checkHost('localhost', 'proxy:caddy')).toBe('localhost');
    expect(checkHost(`${'a'.repeat(63)}.test`, 'proxy:caddy')).toHaveLength(68);
  });

  it.each([
    '',
    ' ',
    'a b.test',
    'a_b.test',
    '-a.test',
    'a-.test',
    'a..test',
    '.a.test',
    'a.test.',
    '*.example.com',
    'ü.test',
    'a/b',
    'a:80',
    `${'a'.repeat(64)}.test`,
    `${'abcdefghi.'.repeat(26)}test`,
  ])('rejects %j with BAD_REQUEST', (host) => {
    expect(code(() => checkHost(host, 'proxy:caddy'))).toBe('BAD_REQUEST');
  });
});

describe('checkRoute', () => {
  it('accepts IPs, DNS and container names, and makes the scheme explicit', () => {
    expect(checkRoute({ host: 'a.test', upstream: { host: '127.0.0.1', port: 80 } }, 'p').upstream).toEqual({
      host: '127.0.0.1',
      port: 80,
      scheme: 'http',
    });
    expect(
      checkRoute({ host: 'a.test', upstream: { host: '[::1]', port: 443, scheme: 'https' } }, 'p').upstream,
    ).toEqual({
      host: '::1',
      port: 443,
      scheme: 'https',
    });
    expect(
      checkRoute({ host: 'a.test', upstream: { host: 'web_app_1', port: 3000 } }, 'p').upstream.host,
    ).toBe('web_app_1');
  });

  it.each([
    { host: '', port: 80 },
    { host: 'a b', port: 80 },
    { host: 'a:1', port: 80 },
    { host: 'a/b', port: 80 },
    { host: 'a', port: 0 },
    { host: 'a', port: 65_536 },
    { host: 'a', port: 80.5 },
  ])('rejects the upstream %j with BAD_REQUEST', (upstream) => {
    expect(code(() => checkRoute({ host: 'a.test', upstream }, 'p'))).toBe('BAD_REQUEST');
  });

  it('rejects an unknown scheme', () => {
    const upstream = { host: 'a', port: 80, scheme: 'ftp' as 'http' };
    expect(code(() => checkRoute({ host: 'a.test', upstream }, 'p'))).toBe('BAD_REQUEST');
  });
});
