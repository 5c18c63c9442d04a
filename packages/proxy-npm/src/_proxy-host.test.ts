import { checkRoute, parseOptions } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import {
  type Certificate,
  expiryOf,
  isManaged,
  markerLine,
  matchCertificate,
  type ProxyHost,
  previousValues,
  updateBody,
  withMarker,
} from './_proxy-host.ts';
import { npmProxyOptions } from './options.ts';

const options = (extra: Record<string, unknown> = {}) =>
  parseOptions(npmProxyOptions, { url: 'http://npm:81', email: 'w@example.com', password: 'pw', ...extra });

const host = (fields: Partial<ProxyHost> = {}): ProxyHost => ({
  id: 3,
  domain_names: ['a.example.com'],
  forward_scheme: 'http',
  forward_host: 'blue',
  forward_port: 3000,
  certificate_id: 0,
  ssl_forced: false,
  http2_support: false,
  hsts_enabled: false,
  hsts_subdomains: false,
  access_list_id: 0,
  allow_websocket_upgrade: false,
  block_exploits: false,
  advanced_config: markerLine,
  enabled: true,
  meta: { nginx_online: true, nginx_err: null },
  ...fields,
});

const route = (upstreamHost = 'blue', port = 3000) =>
  checkRoute({ host: 'a.example.com', upstream: { host: upstreamHost, port } }, 'proxy:npm');

describe('marker', () => {
  it('is found on any line and put first', () => {
    expect(isManaged(host())).toBe(true);
    expect(isManaged(host({ advanced_config: `gzip on;\n  ${markerLine}` }))).toBe(true);
    expect(isManaged(host({ advanced_config: 'gzip on;' }))).toBe(false);
    expect(isManaged(host({ advanced_config: '' }))).toBe(false);
    expect(withMarker('')).toBe(markerLine);
    expect(withMarker('gzip on;')).toBe(`${markerLine}\ngzip on;`);
  });
});

describe('updateBody', () => {
  it('is empty when nothing changes (a numeric string port included)', () => {
    expect(updateBody(host(), route(), options(), undefined)).toEqual({});
    expect(
      updateBody(host({ forward_port: '3000' as unknown as number }), route(), options(), undefined),
    ).toEqual({});
  });

  it('holds only what differs', () => {
    expect(updateBody(host(), route('green', 3000), options(), undefined)).toEqual({ forward_host: 'green' });
    expect(updateBody(host(), route(), options({ sslForced: true, blockExploits: false }), 5)).toEqual({
      certificate_id: 5,
      ssl_forced: true,
    });
  });

  it('adds the marker to an adopted host, keeping its config', () => {
    expect(updateBody(host({ advanced_config: 'gzip on;' }), route(), options(), undefined)).toEqual({
      advanced_config: `${markerLine}\ngzip on;`,
    });
  });

  it('previousValues are what the host had for those fields', () => {
    const before = host({ ssl_forced: true });
    const changes = updateBody(before, route('green', 4000), options({ sslForced: false }), undefined);
    expect(previousValues(before, changes)).toEqual({
      forward_host: 'blue',
      forward_port: 3000,
      ssl_forced: true,
    });
  });
});

describe('matchCertificate', () => {
  const certificate = (id: number, names: string[], expires = '2030-01-01T00:00:00.000Z'): Certificate => ({
    id,
    domain_names: names,
    expires_on: expires,
  });

  it('prefers exact names, then wildcards one label deep, then the latest expiry', () => {
    const certificates = [
      certificate(1, ['*.example.com'], '2040-01-01T00:00:00.000Z'),
      certificate(2, ['a.example.com'], '2029-01-01T00:00:00.000Z'),
      certificate(3, ['A.Example.com', 'b.example.com'], '2031-01-01T00:00:00.000Z'),
      certificate(4, ['*.example.com'], '2041-01-01T00:00:00.000Z'),
    ];
    expect(matchCertificate(certificates, 'a.example.com')?.id).toBe(3);
    expect(matchCertificate(certificates, 'c.example.com')?.id).toBe(4);
    expect(matchCertificate(certificates, 'x.c.example.com')).toBeUndefined();
    expect(matchCertificate(certificates, 'example.com')).toBeUndefined();
    expect(matchCertificate([], 'a.example.com')).toBeUndefined();
  });

  it("reads NPM 2.15's expiry format (YYYY-MM-DD HH:MM:SS, UTC) as well as ISO 8601", () => {
    expect(expiryOf('2031-01-01 00:00:00')).toBe(Date.parse('2031-01-01T00:00:00.000Z'));
    expect(expiryOf('2031-01-01T00:00:00.000Z')).toBe(Date.parse('2031-01-01T00:00:00.000Z'));
    expect(expiryOf('soon')).toBeUndefined();
    const certificates = [
      certificate(1, ['*.example.com'], '2040-01-01 00:00:00'),
      certificate(2, ['*.example.com'], '2039-12-31 23:59:59'),
    ];
    expect(matchCertificate(certificates, 'a.example.com')?.id).toBe(1);
  });
});
