import { instantiate, isCoreError, parseOptions } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { caddyProxy, createCaddyProxy } from './caddy-proxy.ts';
import { caddyProxyOptions } from './options.ts';

describe('caddyProxyOptions', () => {
  it('has defaults for everything', () => {
    expect(parseOptions(caddyProxyOptions, {})).toEqual({
      adminUrl: 'http://127.0.0.1:2019',
      server: 'srv0',
      tls: 'auto',
      verify: true,
      verifyPath: '/',
      verifyTimeoutMs: 10_000,
      certificateTimeoutMs: 120_000,
      timeoutMs: 10_000,
    });
  });

  it('reports every bad field by path', () => {
    let caught: unknown;
    try {
      instantiate(caddyProxy, {
        adminUrl: 'ftp://caddy',
        server: 'a/b',
        tls: 'on',
        verifyPath: 'health',
        verifyTimeoutMs: -1,
        extra: true,
      });
    } catch (error) {
      caught = error;
    }
    expect(isCoreError(caught, 'CONFIG_INVALID')).toBe(true);
    const message = (caught as Error).message;
    expect(message).toContain('options of proxy:caddy');
    for (const path of ['adminUrl', 'server', 'tls', 'verifyPath', 'verifyTimeoutMs', 'extra']) {
      expect(message).toContain(`${path}:`);
    }
  });

  it('names the adapter after its instance', () => {
    expect(createCaddyProxy({}, { instance: 'edge' }).id).toBe('proxy:caddy/edge');
    expect(createCaddyProxy().id).toBe('proxy:caddy');
  });
});
