import { type CheckedRoute, CoreError, isCoreError, type Logger } from '@docker-watcher/core';
import type * as v from 'valibot';
import type { NpmClient } from './_client.ts';
import {
  type Certificate,
  createBody,
  type HostFields,
  matchCertificate,
  type ProxyHost,
  previousValues,
  updateBody,
} from './_proxy-host.ts';
import type { npmProxyOptions } from './options.ts';

type Options = v.InferOutput<typeof npmProxyOptions>;

export const hostsPath = '/nginx/proxy-hosts';
const maxNginxError = 300;
/** How long a certificate match (or its absence) is reused before the list is asked again. */
const certificateCacheMs = 10 * 60_000;

function nginxError(host: ProxyHost): string {
  const text = (host.meta?.nginx_err ?? '').replace(/\s+/g, ' ').trim();
  return text.length > maxNginxError ? `${text.slice(0, maxNginxError)}…` : text || 'no error text';
}

/** A failure after which NPM may or may not have applied the write: a 5xx, or no answer in time. */
function outcomeUnknown(error: unknown): error is CoreError {
  if (!isCoreError(error)) return false;
  const status = error.details.status;
  return error.code === 'TIMEOUT' || (typeof status === 'number' && status >= 500);
}

const forwardFields = (route: CheckedRoute): HostFields => ({
  forward_scheme: route.upstream.scheme,
  forward_host: route.upstream.host,
  forward_port: route.upstream.port,
});

export interface HostWriter {
  create(route: CheckedRoute, signal?: AbortSignal): Promise<void>;
  /** Brings a host to the route; false when it was live with these values already. */
  update(host: ProxyHost, route: CheckedRoute, signal?: AbortSignal): Promise<boolean>;
  /**
   * Whether nginx serves what the record says, as far as anyone can tell: NPM said so in
   * `meta.nginx_online`, and no write since left it unsure (a 500 after which the record holds new
   * values while nginx serves the old ones).
   */
  isLive(host: ProxyHost): boolean;
}

/**
 * Creates and switches proxy hosts, trusting what nginx serves rather than NPM's record: NPM 2.15
 * stores a host or its new values and then answers 500 when nginx's check fails, so after any 5xx
 * the host is read back and written again (or the call fails), and a host whose `nginx_online` is
 * missing, false or unsure is written again even when its record looks right.
 */
export function createHostWriter(deps: {
  readonly client: NpmClient;
  readonly options: Options;
  readonly logger: Logger;
  readonly id: string;
  readonly findHost: (domain: string, signal?: AbortSignal) => Promise<ProxyHost | undefined>;
}): HostWriter {
  const { client, options, logger, id } = deps;
  /** Hosts whose last write had no clear answer: not live until a write of ours is confirmed. */
  const unsure = new Set<number>();
  const certificates = new Map<string, { readonly id: number | undefined; readonly until: number }>();

  /**
   * The certificate for a host that has none yet. The list holds custom certificates' private keys,
   * so it is asked for only then, and its answer is kept a while; the keys are never kept.
   */
  const certificateFor = async (
    domain: string,
    current: ProxyHost | undefined,
    signal?: AbortSignal,
  ): Promise<number | undefined> => {
    if (options.certificate === 'keep') return undefined;
    if (typeof options.certificate === 'number') return options.certificate;
    if (current && Number(current.certificate_id) > 0) return undefined;
    const cached = certificates.get(domain);
    if (cached && cached.until > Date.now()) return cached.id;
    const listed = await client.request<Certificate[]>(
      'GET',
      '/nginx/certificates',
      signal ? { signal } : {},
    );
    const found = matchCertificate(
      (Array.isArray(listed) ? listed : []).map(({ id: certificateId, domain_names, expires_on }) => ({
        id: certificateId,
        domain_names,
        ...(expires_on === undefined ? {} : { expires_on }),
      })),
      domain,
    );
    certificates.set(domain, { id: found?.id, until: Date.now() + certificateCacheMs });
    logger.debug(found ? 'certificate matched' : 'no certificate matches', {
      host: domain,
      certificateId: found?.id,
    });
    return found?.id;
  };

  /** The host as NPM has it after a change; a create answers `meta: {}`, so it is read back. */
  const readBack = async (hostId: number): Promise<ProxyHost> => {
    let host = await client.request<ProxyHost>('GET', `${hostsPath}/${hostId}`);
    for (let attempt = 0; attempt < 3 && typeof host.meta?.nginx_online !== 'boolean'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      host = await client.request<ProxyHost>('GET', `${hostsPath}/${hostId}`);
    }
    return host;
  };

  const restore = async (host: ProxyHost, previous: HostFields, wasDisabled: boolean): Promise<void> => {
    if (Object.keys(previous).length > 0)
      await client.request('PUT', `${hostsPath}/${host.id}`, { body: previous });
    if (wasDisabled) await client.request('POST', `${hostsPath}/${host.id}/disable`);
  };

  /** A write whose answer was a 5xx or nothing: the host is unsure until a later write is confirmed. */
  const unsureAfter = (hostId: number, route: CheckedRoute, what: string, error: CoreError): CoreError => {
    unsure.add(hostId);
    return new CoreError(
      'UNAVAILABLE',
      `Nginx Proxy Manager did not confirm ${what} ${route.host} (${error.message}); its record may hold the new upstream while nginx serves the old one, so the next call writes it again`,
      { details: { proxy: id, host: route.host, proxyHostId: hostId }, cause: error, retryable: true },
    );
  };

  /** NPM answered a create with a 5xx: it may have stored the host; if so, write it again. */
  const recoverCreate = async (route: CheckedRoute, error: CoreError, signal?: AbortSignal) => {
    const stored = await deps.findHost(route.host, signal);
    if (!stored) {
      if (error.code === 'TIMEOUT') throw error;
      throw new CoreError(
        'FORBIDDEN',
        `Nginx Proxy Manager answered ${String(error.details.status)} to creating ${route.host} and did not store it: give ${options.email} the "Proxy Hosts: Manage" permission (NPM 2.15 answers 500 instead of 403), or see NPM's log`,
        { details: { proxy: id, host: route.host }, cause: error, retryable: false },
      );
    }
    unsure.add(stored.id);
    logger.warn('NPM stored the new proxy host but did not confirm it; writing it again', {
      host: route.host,
      proxyHostId: stored.id,
    });
    await update(stored, route, signal);
  };

  const create = async (route: CheckedRoute, signal?: AbortSignal): Promise<void> => {
    const body = createBody(route, options, await certificateFor(route.host, undefined, signal));
    let created: ProxyHost;
    try {
      created = await client.request<ProxyHost>('POST', hostsPath, {
        body,
        once: true,
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (isCoreError(error, 'BAD_REQUEST') && /already in use/i.test(error.message)) {
        throw new CoreError(
          'CONFLICT',
          `Nginx Proxy Manager says ${route.host} is already in use (by a redirection host, a 404 host or another proxy host)`,
          { details: { proxy: id, host: route.host }, cause: error },
        );
      }
      if (outcomeUnknown(error)) return recoverCreate(route, error, signal);
      throw error;
    }
    const after = await readBack(created.id);
    if (after.meta?.nginx_online !== false) {
      logger.info('proxy host created', { host: route.host, proxyHostId: created.id });
      return;
    }
    const removed = await client.request('DELETE', `${hostsPath}/${created.id}`).then(
      () => true,
      (failure: unknown) => {
        logger.error('removing the failed proxy host failed', {
          host: route.host,
          proxyHostId: created.id,
          error: failure,
        });
        return false;
      },
    );
    throw new CoreError(
      'UNAVAILABLE',
      `nginx did not accept the new proxy host for ${route.host} (${nginxError(after)}); ${
        removed ? 'it was removed again' : 'removing it failed too'
      }`,
      { details: { proxy: id, host: route.host, proxyHostId: created.id, restored: removed } },
    );
  };

  const update = async (host: ProxyHost, route: CheckedRoute, signal?: AbortSignal): Promise<boolean> => {
    let changes = updateBody(host, route, options, await certificateFor(route.host, host, signal));
    // Unchanged but not known to be live: sending the target again makes NPM rebuild its config.
    if (Object.keys(changes).length === 0 && !isLive(host)) changes = forwardFields(route);
    const disabled = host.enabled === false || host.enabled === 0;
    if (Object.keys(changes).length === 0 && !disabled) return false;

    const previous = previousValues(host, changes);
    try {
      if (Object.keys(changes).length > 0) {
        await client.request('PUT', `${hostsPath}/${host.id}`, {
          body: changes,
          ...(signal ? { signal } : {}),
        });
      }
      if (disabled) {
        await client.request('POST', `${hostsPath}/${host.id}/enable`).catch((error: unknown) => {
          if (!(isCoreError(error, 'BAD_REQUEST') && /already enabled/i.test(error.message))) throw error;
        });
      }
    } catch (error) {
      if (outcomeUnknown(error)) throw unsureAfter(host.id, route, 'the switch of', error);
      throw error;
    }
    const after = await readBack(host.id);
    if (after.meta?.nginx_online === true) {
      unsure.delete(host.id);
      logger.info('proxy host switched', {
        host: route.host,
        proxyHostId: host.id,
        fields: Object.keys(changes),
      });
      return true;
    }
    const restored = await restore(host, previous, disabled).then(
      () => true,
      (error: unknown) => {
        logger.error('restoring the previous proxy host settings failed', { host: route.host, error });
        return false;
      },
    );
    throw new CoreError(
      'UNAVAILABLE',
      `nginx did not accept the switch of ${route.host} to ${route.upstream.host}:${route.upstream.port} (${nginxError(after)}); ${
        restored ? 'the previous settings are back' : 'restoring the previous settings failed too'
      }`,
      { details: { proxy: id, host: route.host, proxyHostId: host.id, restored } },
    );
  };

  const isLive = (host: ProxyHost): boolean => host.meta?.nginx_online === true && !unsure.has(host.id);

  return { create, update, isLive };
}
