import { isIP } from 'node:net';
import type { Upstream } from '@docker-watcher/core';

/** `host:port`, with brackets around an IPv6 address. */
export function dialAddress(upstream: Upstream): string {
  return isIP(upstream.host) === 6
    ? `[${upstream.host}]:${upstream.port}`
    : `${upstream.host}:${upstream.port}`;
}
