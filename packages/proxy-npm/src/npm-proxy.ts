import {
  type AdapterContext,
  adapterId,
  type CheckedRoute,
  CoreError,
  checkHost,
  checkRoute,
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
import { isManaged, type ProxyHost, routeOf, servesDomain } from './_proxy-host.ts';
import { createHostWriter, hostsPath } from './_writes.ts';
import { type NpmProxyOptions, npmProxyOptions, npmProxySecrets } from './options.ts';

/** The ReverseProxy contract on Nginx Proxy Manager: one proxy host per host name. */
export interface NpmProxy extends ReverseProxy {
  /** NPM's API base, e.g. `http://npm:81/api`. */
  readonly apiUrl: string;
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

  const settle = async (): Promise<void> => {
    if (options.settleMs > 0) await new Promise((resolve) => setTimeout(resolve, options.settleMs));
  };

  const writer = createHostWriter({ client, options, logger, id, findHost });
  const { create, update } = writer;

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
      // A host nginx does not (or may not) serve as recorded has no route yet: the next ensureRoute writes it.
      return found && writer.isLive(found) ? routeOf(found, domain) : undefined;
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
