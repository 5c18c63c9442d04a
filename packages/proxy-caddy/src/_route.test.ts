import { checkRoute, isCoreError } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { buildRoute, parseRoute, routeId, sameJson, upstreamFingerprint } from './_route.ts';

const route = checkRoute({ host: 'stage-dev.example.com', upstream: { host: '10.0.0.5', port: 3000 } }, 'p');

describe('buildRoute', () => {
  it('is one terminal host route with one reverse_proxy handler that marks its answers', () => {
    expect(buildRoute(route)).toEqual({
      '@id': 'dw-route-stage-dev_example_com',
      match: [{ host: ['stage-dev.example.com'] }],
      handle: [
        {
          handler: 'reverse_proxy',
          upstreams: [{ dial: '10.0.0.5:3000' }],
          headers: { response: { set: { 'X-Docker-Watcher-Upstream': [upstreamFingerprint(route)] } } },
        },
      ],
      terminal: true,
    });
  });

  it('talks TLS to https upstreams', () => {
    const secure = checkRoute({ host: 'a.test', upstream: { host: 'web', port: 443, scheme: 'https' } }, 'p');
    expect((buildRoute(secure).handle as Array<Record<string, unknown>>)[0]?.transport).toEqual({
      protocol: 'http',
      tls: {},
    });
  });
});

describe('routeId', () => {
  it('maps distinct hosts to distinct ids', () => {
    expect(routeId('a.b-c.test')).toBe('dw-route-a_b-c_test');
    expect(routeId('a-b.c.test')).not.toBe(routeId('a.b-c.test'));
  });
});

describe('upstreamFingerprint', () => {
  it('differs by host, port and scheme and publishes no address', () => {
    const other = (host: string, port: number, scheme: 'http' | 'https' = 'http') =>
      upstreamFingerprint(checkRoute({ host: 'a.test', upstream: { host, port, scheme } }, 'p'));
    const all = [
      other('10.0.0.5', 3000),
      other('10.0.0.5', 3001),
      other('10.0.0.6', 3000),
      other('10.0.0.5', 3000, 'https'),
    ];
    expect(new Set(all).size).toBe(4);
    expect(all[0]).toMatch(/^[0-9a-f]{16}$/);
    expect(upstreamFingerprint(route)).toBe(all[0]);
  });
});

describe('parseRoute', () => {
  it('reads back what buildRoute wrote', () => {
    expect(parseRoute(buildRoute(route), route.host, 'p')).toEqual({
      host: 'stage-dev.example.com',
      upstream: { host: '10.0.0.5', port: 3000, scheme: 'http' },
    });
    const v6 = checkRoute({ host: 'a.test', upstream: { host: '::1', port: 443, scheme: 'https' } }, 'p');
    expect(parseRoute(buildRoute(v6), 'a.test', 'p').upstream).toEqual({
      host: '::1',
      port: 443,
      scheme: 'https',
    });
  });

  it('is BAD_RESPONSE for a route someone reshaped', () => {
    for (const broken of [
      { handle: [] },
      { handle: [{ handler: 'static_response' }] },
      { handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: 'no-port' }] }] },
      { handle: [{ handler: 'reverse_proxy', upstreams: [] }] },
    ]) {
      let error: unknown;
      try {
        parseRoute(broken, 'a.test', 'p');
      } catch (caught) {
        error = caught;
      }
      expect(isCoreError(error, 'BAD_RESPONSE'), JSON.stringify(broken)).toBe(true);
    }
  });
});

describe('sameJson', () => {
  it('ignores key order, not values', () => {
    expect(sameJson({ a: 1, b: [{ c: 2, d: 3 }] }, { b: [{ d: 3, c: 2 }], a: 1 })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 2 })).toBe(false);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
  });
});
