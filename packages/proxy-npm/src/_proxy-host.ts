import type { CheckedRoute, Route } from '@docker-watcher/core';
import type * as v from 'valibot';
import type { npmProxyOptions } from './options.ts';

type Options = v.InferOutput<typeof npmProxyOptions>;

/** The fields of NPM's proxy host object this adapter reads (NPM 2.15, `components/proxy-host-object.json`). */
export interface ProxyHost {
  readonly id: number;
  readonly domain_names: readonly string[];
  readonly forward_scheme: 'http' | 'https';
  readonly forward_host: string;
  readonly forward_port: number;
  readonly certificate_id: number | string;
  readonly ssl_forced: boolean;
  readonly http2_support: boolean;
  readonly hsts_enabled: boolean;
  readonly hsts_subdomains: boolean;
  readonly access_list_id: number;
  readonly allow_websocket_upgrade: boolean;
  readonly block_exploits: boolean;
  readonly advanced_config: string;
  readonly enabled: boolean | number;
  readonly meta?: { readonly nginx_online?: boolean; readonly nginx_err?: string | null } | null;
}

export interface Certificate {
  readonly id: number;
  readonly domain_names: readonly string[];
  readonly expires_on?: string;
}

/** What a create (`POST`) or an update (`PUT`, only changed fields) sends. */
export type HostFields = Record<string, unknown>;

/**
 * Docker Watcher marks the hosts it creates with this first line of `advanced_config`. NPM keeps
 * that field as sent and shows it in its UI, so it survives edits there; `meta` does not (NPM
 * rewrites it with its nginx status, the UI sends its own, and a create answers `meta: {}`).
 */
export const marker = '# docker-watcher:managed';
export const markerLine = `${marker} (Docker Watcher switches this host's upstream; keep this line)`;

export function isManaged(host: ProxyHost): boolean {
  return (host.advanced_config ?? '').split('\n').some((line) => line.trim().startsWith(marker));
}

export function withMarker(config: string): string {
  return config.trim() === '' ? markerLine : `${markerLine}\n${config}`;
}

export function servesDomain(host: ProxyHost, domain: string): boolean {
  return host.domain_names.some((name) => name.toLowerCase() === domain);
}

export function routeOf(host: ProxyHost, domain: string): Route {
  return {
    host: domain,
    upstream: {
      host: host.forward_host,
      port: Number(host.forward_port),
      scheme: host.forward_scheme ?? 'http',
    },
  };
}

/** How well a certificate covers a domain: 2 exact, 1 wildcard of its parent, 0 not at all. */
function coverage(certificate: Certificate, domain: string): number {
  let best = 0;
  for (const name of certificate.domain_names) {
    const lower = name.toLowerCase();
    if (lower === domain) return 2;
    if (
      lower.startsWith('*.') &&
      domain.endsWith(lower.slice(1)) &&
      !domain.slice(0, -(lower.length - 1)).includes('.')
    ) {
      best = 1;
    }
  }
  return best;
}

/** A certificate's expiry in ms: NPM 2.15 lists it as `YYYY-MM-DD HH:MM:SS` (UTC), older ones as ISO 8601. */
export function expiryOf(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const iso = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text) ? `${text.replace(' ', 'T')}Z` : text;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The certificate in NPM that covers the domain best: exact before wildcard, then the latest expiry. */
export function matchCertificate(
  certificates: readonly Certificate[],
  domain: string,
): Certificate | undefined {
  const expiry = (certificate: Certificate) => expiryOf(certificate.expires_on) ?? 0;
  return certificates
    .map((certificate) => ({ certificate, score: coverage(certificate, domain) }))
    .filter((candidate) => candidate.score > 0)
    .sort((a, b) => b.score - a.score || expiry(b.certificate) - expiry(a.certificate))[0]?.certificate;
}

function optionalFields(options: Options): HostFields {
  const fields: HostFields = {};
  const set = (name: string, value: unknown) => {
    if (value !== undefined) fields[name] = value;
  };
  set('ssl_forced', options.sslForced);
  set('http2_support', options.http2Support);
  set('hsts_enabled', options.hstsEnabled);
  set('hsts_subdomains', options.hstsSubdomains);
  set('access_list_id', options.accessListId);
  set('allow_websocket_upgrade', options.allowWebsocketUpgrade);
  set('block_exploits', options.blockExploits);
  return fields;
}

/** The body of a `POST /api/nginx/proxy-hosts` for a new host of ours. */
export function createBody(
  route: CheckedRoute,
  options: Options,
  certificateId: number | undefined,
): HostFields {
  return {
    domain_names: [route.host],
    forward_scheme: route.upstream.scheme,
    forward_host: route.upstream.host,
    forward_port: route.upstream.port,
    ...(certificateId === undefined ? {} : { certificate_id: certificateId }),
    ...optionalFields(options),
    advanced_config: withMarker(options.advancedConfig ?? ''),
  };
}

/**
 * Only the fields that differ from the host as it is: the forward target, what options set, and
 * the marker when the host is adopted. Everything a person set in NPM's UI and no option names is
 * left out, so it stays. Empty when nothing changes.
 */
export function updateBody(
  host: ProxyHost,
  route: CheckedRoute,
  options: Options,
  certificateId: number | undefined,
): HostFields {
  const desired: HostFields = {
    forward_scheme: route.upstream.scheme,
    forward_host: route.upstream.host,
    forward_port: route.upstream.port,
    ...(certificateId === undefined ? {} : { certificate_id: certificateId }),
    ...optionalFields(options),
  };
  if (options.advancedConfig !== undefined) desired.advanced_config = withMarker(options.advancedConfig);
  else if (!isManaged(host)) desired.advanced_config = withMarker(host.advanced_config ?? '');
  const changes: HostFields = {};
  for (const [name, value] of Object.entries(desired)) {
    const current = (host as unknown as Record<string, unknown>)[name];
    const same =
      name === 'forward_port' || name === 'certificate_id'
        ? String(current) === String(value)
        : current === value;
    if (!same) changes[name] = value;
  }
  return changes;
}

/** The values the host had for these fields: what a failed switch puts back. */
export function previousValues(host: ProxyHost, changes: HostFields): HostFields {
  const previous: HostFields = {};
  for (const name of Object.keys(changes))
    previous[name] = (host as unknown as Record<string, unknown>)[name];
  return previous;
}
