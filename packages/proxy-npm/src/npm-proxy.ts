import {
  type AdapterContext,
  adapterId,
  CoreError,
  defineReverseProxy,
  instantiate,
  isCoreError,
  onceDisposer,
  type ReverseProxy,
  type Route,
  silentLogger,
  throwIfAborted,
} from '@docker-watcher/core';
import type * as v from 'valibot';
import { createNpmClient, type NpmClient } from './_client.ts';
import { type CheckedRoute, checkHost, checkRoute } from './_hosts.ts';
import {
  type Certificate,
  createBody,
  type HostFields,
  isManaged,
  matchCertificate,
  type ProxyHost,
  previousValues,
  routeOf,
  servesDomain,
  updateBody,
} from './_proxy-host.ts';
import { type NpmProxyOptions, npmProxyOptions, npmProxySecrets } from './options.ts';

/** The ReverseProxy contract on Nginx Proxy Manager: one proxy host per host name. */
export interface NpmProxy extends ReverseProxy {
  /** NPM's API base, e.g. `http://npm:81/api`. */
  readonly apiUrl: string;
}

const hostsPath = '/nginx/proxy-hosts';
const maxNginxError = 300;

function nginxError(host: ProxyHost): string {
  const text = (host.meta?.nginx_err ?? '').replace(/\s+/g, ' ').trim();
  return text.length > maxNginxError ? `${text.slice(0, maxNginxError)}…` : text || 'no error text';
}

function buildNpmProxy(options: v.InferOutput<typeof npmProxyOptions>, context: AdapterContext): NpmProxy {
  const id = adapterId('proxy', 'npm', context.instance);
  const logger = (context.logger ?? silentLogger).child({ proxy: id });
  const client: NpmClient = createNpmClient({
    url: options.url,
    email: options.email,
    password: options.password,
    timeoutMs: options.timeoutMs,
    proxy: id,
    logger,
  });
  const lifecycle = onceDisposer(async () => client.close());

  // Changes of one adapter run one after another: two calls never both create the same host.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };

  const guard = (signal: AbortSignal | undefined): void => {
    throwIfAborted(signal);
    if (lifecycle.disposed()) {
      throw new CoreError('UNAVAILABLE', `${id} is disposed`, { retryable: false, details: { proxy: id } });
    }
  };

  const listHosts = async (signal?: AbortSignal): Promise<ProxyHost[]> => {
    const hosts = await client.request<unknown>('GET', hostsPath, signal ? { signal } : {});
    if (!Array.isArray(hosts)) {
      throw new CoreError(
        'BAD_RESPONSE',
        'Nginx Proxy Manager answered the list of proxy hosts with something else',
        {
          details: { proxy: id },
        },
      );
    }
    return hosts as ProxyHost[];
  };

  const findHost = async (domain: string, signal?: AbortSignal): Promise<ProxyHost | undefined> =>
    (await listHosts(signal)).find((host) => servesDomain(host, domain));

  const refuseForeign = (host: ProxyHost, domain: string): void => {
    if (isManaged(host) || options.adopt) return;
    throw new CoreError(
      'CONFLICT',
      `Nginx Proxy Manager already has proxy host ${host.id} for ${domain}, and Docker Watcher did not create it: set adopt: true to take it over, or remove it`,
      { details: { proxy: id, host: domain, proxyHostId: host.id } },
    );
  };

  const certificateFor = async (domain: string, signal?: AbortSignal): Promise<number | undefined> => {
    if (options.certificate === 'keep') return undefined;
    if (typeof options.certificate === 'number') return options.certificate;
    const certificates = await client.request<Certificate[]>(
      'GET',
      '/nginx/certificates',
      signal ? { signal } : {},
    );
    const found = matchCertificate(Array.isArray(certificates) ? certificates : [], domain);
    logger.debug(found ? 'certificate matched' : 'no certificate matches', {
      host: domain,
      certificateId: found?.id,
    });
    return found?.id;
  };

  /**
   * The host as NPM has it after a change. NPM records whether nginx accepted the new config in
   * `meta.nginx_online` during the call; a create answers `meta: {}`, so it is read back.
   */
  const readBack = async (hostId: number): Promise<ProxyHost> => {
    let host = await client.request<ProxyHost>('GET', `${hostsPath}/${hostId}`);
    for (let attempt = 0; attempt < 3 && typeof host.meta?.nginx_online !== 'boolean'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      host = await client.request<ProxyHost>('GET', `${hostsPath}/${hostId}`);
    }
    return host;
  };

  const settle = async (): Promise<void> => {
    if (options.settleMs > 0) await new Promise((resolve) => setTimeout(resolve, options.settleMs));
  };

  const create = async (route: CheckedRoute, signal?: AbortSignal): Promise<void> => {
    const body = createBody(route, options, await certificateFor(route.host, signal));
    let created: ProxyHost;
    try {
      created = await client.request<ProxyHost>('POST', hostsPath, { body, ...(signal ? { signal } : {}) });
    } catch (error) {
      if (isCoreError(error, 'BAD_REQUEST') && /already in use/i.test(error.message)) {
        throw new CoreError(
          'CONFLICT',
          `Nginx Proxy Manager says ${route.host} is already in use (by a redirection host, a 404 host or another proxy host)`,
          { details: { proxy: id, host: route.host }, cause: error },
        );
      }
      throw error;
    }
    const after = await readBack(created.id);
    if (after.meta?.nginx_online === false) {
      const removed = await client.request('DELETE', `${hostsPath}/${created.id}`).then(
        () => true,
        (error: unknown) => {
          logger.error('removing the failed proxy host failed', {
            host: route.host,
            proxyHostId: created.id,
            error,
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
    }
    logger.info('proxy host created', { host: route.host, proxyHostId: created.id });
  };

  const update = async (host: ProxyHost, route: CheckedRoute, signal?: AbortSignal): Promise<boolean> => {
    let changes = updateBody(host, route, options, await certificateFor(route.host, signal));
    const offline = host.meta?.nginx_online === false;
    // Unchanged but not live (nginx refused it earlier): sending the target again makes NPM rebuild its config.
    if (Object.keys(changes).length === 0 && offline) {
      changes = {
        forward_scheme: route.upstream.scheme,
        forward_host: route.upstream.host,
        forward_port: route.upstream.port,
      };
    }
    const disabled = host.enabled === false || host.enabled === 0;
    if (Object.keys(changes).length === 0 && !disabled) return false;

    const previous = previousValues(host, changes);
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
    const after = await readBack(host.id);
    if (after.meta?.nginx_online === false) {
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
    }
    logger.info('proxy host switched', {
      host: route.host,
      proxyHostId: host.id,
      fields: Object.keys(changes),
    });
    return true;
  };

  const restore = async (host: ProxyHost, previous: HostFields, wasDisabled: boolean): Promise<void> => {
    if (Object.keys(previous).length > 0)
      await client.request('PUT', `${hostsPath}/${host.id}`, { body: previous });
    if (wasDisabled) await client.request('POST', `${hostsPath}/${host.id}/disable`);
  };

  const ensureRoute = async (route: CheckedRoute, signal?: AbortSignal): Promise<Route> => {
    guard(signal);
    const existing = await findHost(route.host, signal);
    if (existing) refuseForeign(existing, route.host);
    if (!existing) {
      await create(route, signal);
      await settle();
    } else if (await update(existing, route, signal)) {
      await settle();
    }
    return { host: route.host, upstream: { ...route.upstream } };
  };

  const removeRoute = async (domain: string, signal?: AbortSignal): Promise<void> => {
    guard(signal);
    const existing = await findHost(domain, signal);
    if (!existing) return;
    refuseForeign(existing, domain);
    const others = existing.domain_names.filter((name) => name.toLowerCase() !== domain);
    try {
      if (others.length > 0) {
        // An adopted host may serve more names: only this one goes.
        await client.request('PUT', `${hostsPath}/${existing.id}`, {
          body: { domain_names: others },
          ...(signal ? { signal } : {}),
        });
      } else {
        await client.request('DELETE', `${hostsPath}/${existing.id}`, signal ? { signal } : {});
      }
    } catch (error) {
      // Gone meanwhile (an id's 404, unlike a stale token's, which the client handles): nothing to remove.
      if (isCoreError(error, 'NOT_FOUND')) return;
      throw error;
    }
    logger.info('proxy host removed', { host: domain, proxyHostId: existing.id });
  };

  return {
    id,
    // NPM answers before nginx has reloaded: the adapter sees nginx's verdict, not the traffic.
    capabilities: { verifiedSwitch: false },
    apiUrl: client.apiUrl,

    ensureRoute: async ({ route, signal }) => {
      guard(signal);
      const checked = checkRoute(route, id);
      return exclusive(() => ensureRoute(checked, signal));
    },

    getRoute: async ({ host, signal }) => {
      guard(signal);
      const domain = checkHost(host, id);
      const found = await findHost(domain, signal);
      return found ? routeOf(found, domain) : undefined;
    },

    removeRoute: async ({ host, signal }) => {
      guard(signal);
      const domain = checkHost(host, id);
      return exclusive(() => removeRoute(domain, signal));
    },

    dispose: lifecycle.dispose,
  };
}

export const npmProxy = defineReverseProxy({
  name: 'npm',
  options: npmProxyOptions,
  secrets: npmProxySecrets,
  create: buildNpmProxy,
});

/**
 * Routes host names to upstreams through Nginx Proxy Manager's API: one proxy host per host name,
 * created or updated in place, keeping what a person set in NPM's UI, checked against nginx's
 * verdict and put back when nginx refuses the change.
 */
export function createNpmProxy(options: NpmProxyOptions, context: AdapterContext = {}): NpmProxy {
  return instantiate(npmProxy, options, context);
}
