import { isIP } from 'node:net';
import { CoreError } from '../errors.ts';
import type { Route, Upstream } from './reverse-proxy.ts';

// What every reverse-proxy adapter checks of a route before it touches its proxy: one definition of
// a valid host and upstream, the same errors from every adapter.

/** A route after validation: lower-case host, explicit scheme. */
export interface CheckedRoute {
  readonly host: string;
  readonly upstream: Required<Upstream>;
}

const label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The route's host in lower case, or `BAD_REQUEST`: an RFC 1123 name (letters, digits, hyphens;
 * labels of at most 63 characters; at most 253 in all), checked by a proxy adapter before it
 * sends anything to its proxy.
 */
export function checkHost(host: string, proxy: string): string {
  const name = host.trim().toLowerCase();
  const valid = name.length > 0 && name.length <= 253 && name.split('.').every((part) => label.test(part));
  if (!valid) {
    throw new CoreError('BAD_REQUEST', `Invalid host name ${JSON.stringify(host.slice(0, 80))}`, {
      details: { proxy },
    });
  }
  return name;
}

// Container names may hold underscores; DNS names, IPv4 and IPv6 addresses are all fine.
const upstreamName = /^[a-z0-9_]([a-z0-9_.-]{0,252})$/i;

function checkUpstream(upstream: Upstream, host: string, proxy: string): Required<Upstream> {
  const address = upstream.host.trim().replace(/^\[(.*)\]$/, '$1');
  const { port } = upstream;
  const scheme = upstream.scheme ?? 'http';
  const validHost = isIP(address) !== 0 || upstreamName.test(address);
  const validPort = Number.isInteger(port) && port >= 1 && port <= 65_535;
  if (!validHost || !validPort || (scheme !== 'http' && scheme !== 'https')) {
    throw new CoreError('BAD_REQUEST', `Invalid upstream for ${host}`, {
      details: { proxy, host, upstream: { host: upstream.host.slice(0, 80), port, scheme } },
    });
  }
  return { host: address, port, scheme };
}

/** The route with its host and upstream checked (`BAD_REQUEST` naming `proxy` otherwise). */
export function checkRoute(route: Route, proxy: string): CheckedRoute {
  const host = checkHost(route.host, proxy);
  return { host, upstream: checkUpstream(route.upstream, host, proxy) };
}
