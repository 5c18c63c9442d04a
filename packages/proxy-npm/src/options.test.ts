import { instantiate, isCoreError, parseOptions } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { createNpmProxy, npmProxy } from './npm-proxy.ts';
import { npmProxyOptions } from './options.ts';

const required = { url: 'http://npm:81', email: 'watcher@example.com', password: 'pw' };

describe('npmProxyOptions', () => {
  it('needs url, email and password, and defaults the rest', () => {
    expect(parseOptions(npmProxyOptions, required)).toEqual({
      ...required,
      certificate: 'keep',
      adopt: false,
      settleMs: 1_000,
      timeoutMs: 10_000,
    });
  });

  it('takes a certificate by id or by matching', () => {
    expect(parseOptions(npmProxyOptions, { ...required, certificate: 4 }).certificate).toBe(4);
    expect(parseOptions(npmProxyOptions, { ...required, certificate: 'match' }).certificate).toBe('match');
  });

  it('reports every bad field by path, never echoing the password', () => {
    let caught: unknown;
    try {
      instantiate(npmProxy, {
        url: 'npm:81',
        email: '',
        password: 12345678,
        certificate: 'newest',
        accessListId: -1,
        extra: true,
      });
    } catch (error) {
      caught = error;
    }
    expect(isCoreError(caught, 'CONFIG_INVALID')).toBe(true);
    const message = (caught as Error).message;
    expect(message).toContain('options of proxy:npm');
    for (const path of ['url', 'email', 'password', 'certificate', 'accessListId', 'extra']) {
      expect(message).toContain(`${path}:`);
    }
    expect(message).not.toContain('12345678');
  });

  it('names the adapter after its instance and its API', () => {
    const proxy = createNpmProxy({ ...required, url: 'http://npm:81/' }, { instance: 'edge' });
    expect(proxy.id).toBe('proxy:npm/edge');
    expect(proxy.apiUrl).toBe('http://npm:81/api');
  });
});
