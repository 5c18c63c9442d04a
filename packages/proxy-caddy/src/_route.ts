import { createHash } from 'node:crypto';
import { type CheckedRoute, CoreError, type Route } from '@docker-watcher/core';
import { dialAddress } from './_dial.ts';

/** Response header the route's handler sets on every answer from its upstream. */
export const upstreamHeader = 'X-Docker-Watcher-Upstream';

/** One route object in a Caddy server's `routes`, as far as this adapter reads it. */
export interface CaddyRoute {
  readonly '@id'?: string;
  readonly match?: unknown;
  readonly handle?: unknown;
  readonly [key: string]: unknown;
}

/** The route's `@id`: host names hold no underscores, so `.` → `_` never maps two hosts onto one id. */
export function routeId(host: string): string {
  return `dw-route-${host.replaceAll('.', '_')}`;
}

/**
 * What the route's answers carry in `X-Docker-Watcher-Upstream`: a short hash of scheme, host and
 * port, so that verification can tell upstreams apart without publishing internal addresses.
 */
export function upstreamFingerprint(route: CheckedRoute): string {
  const text = `${route.upstream.scheme}://${dialAddress(route.upstream)}`;
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** The whole route for a host: a host matcher and one reverse_proxy handler, terminal. */
export function buildRoute(route: CheckedRoute): CaddyRoute {
  const handler: Record<string, unknown> = {
    handler: 'reverse_proxy',
    upstreams: [{ dial: dialAddress(route.upstream) }],
    headers: { response: { set: { [upstreamHeader]: [upstreamFingerprint(route)] } } },
  };
  if (route.upstream.scheme === 'https') handler.transport = { protocol: 'http', tls: {} };
  return {
    '@id': routeId(route.host),
    match: [{ host: [route.host] }],
    handle: [handler],
    terminal: true,
  };
}

function splitDial(dial: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(dial);
  if (!match) return undefined;
  const port = Number(match[3]);
  const host = match[1] ?? match[2];
  return host && port >= 1 && port <= 65_535 ? { host, port } : undefined;
}

/** Reads a route of ours back into a `Route`; `BAD_RESPONSE` when someone changed its shape. */
export function parseRoute(value: CaddyRoute, host: string, proxy: string): Route {
  const handler = Array.isArray(value.handle) ? (value.handle[0] as Record<string, unknown>) : undefined;
  const upstreams = handler && Array.isArray(handler.upstreams) ? handler.upstreams : [];
  const dial = (upstreams[0] as { dial?: unknown } | undefined)?.dial;
  const parsed = typeof dial === 'string' ? splitDial(dial) : undefined;
  if (handler?.handler !== 'reverse_proxy' || !parsed) {
    throw new CoreError(
      'BAD_RESPONSE',
      `The route ${routeId(host)} in Caddy's config is not a reverse_proxy route Docker Watcher can read`,
      { details: { proxy, host } },
    );
  }
  const transport = handler.transport as { tls?: unknown } | undefined;
  return { host, upstream: { ...parsed, scheme: transport?.tls ? 'https' : 'http' } };
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
  );
}

/** Deep equality of two JSON values, ignoring key order. */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}
