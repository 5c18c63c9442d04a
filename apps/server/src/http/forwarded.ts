import { BlockList, isIP } from 'node:net';
import type { Context } from 'hono';

/** Where a request came from, as far as the server can trust it. */
export interface RequestOrigin {
  /** The client's address: the peer's, or from X-Forwarded-For when the peer is a trusted proxy. */
  readonly address?: string;
  /** Whether the client spoke HTTPS (to us, or to the trusted proxy by X-Forwarded-Proto). */
  readonly https: boolean;
  /** Host the client addressed (X-Forwarded-Host from a trusted proxy, else Host). */
  readonly host: string;
}

/** `::ffff:10.0.0.1` is `10.0.0.1`. */
const normalise = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');

/** Trusted proxies (addresses and CIDR ranges) as a matcher. */
export function proxyMatcher(entries: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return (address) => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
}

const firstValue = (header: string | undefined) => header?.split(',')[0]?.trim() || undefined;

/**
 * The peer address comes from @hono/node-server's bindings (`c.env.incoming`); without them
 * (`app.request()` in tests, other runtimes) the address is unknown.
 */
export function requestOrigin(c: Context, trusted: (address: string) => boolean): RequestOrigin {
  const bindings = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  const raw = bindings?.incoming?.socket?.remoteAddress;
  const peer = raw === undefined ? undefined : normalise(raw);
  // @hono/node-server builds the URL from the Host header.
  const url = new URL(c.req.url);
  const direct = { ...(peer ? { address: peer } : {}), https: url.protocol === 'https:', host: url.host };
  if (peer === undefined || !trusted(peer)) return direct;
  // The right-most address a trusted proxy did not add is the client.
  const hops = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((hop) => normalise(hop.trim()))
    .filter((hop) => isIP(hop) !== 0);
  const client = [...hops].reverse().find((hop) => !trusted(hop)) ?? hops[0] ?? peer;
  const proto = firstValue(c.req.header('x-forwarded-proto'))?.toLowerCase();
  const host = firstValue(c.req.header('x-forwarded-host')) ?? direct.host;
  return { address: client, https: proto === undefined ? direct.https : proto === 'https', host };
}
