import * as v from 'valibot';
import { type AdapterContext, adapterId, instantiate, onceDisposer } from '../contracts/adapter.ts';
import { defineReverseProxy, type ReverseProxy, type Route } from '../contracts/reverse-proxy.ts';
import { CoreError } from '../errors.ts';
import { FaultInjector, type Faults } from './faults.ts';

export const memoryReverseProxyOptions = v.strictObject({});

export type MemoryReverseProxyOptions = v.InferInput<typeof memoryReverseProxyOptions>;

export type MemoryReverseProxyOperation = 'ensureRoute' | 'getRoute' | 'removeRoute';

/** One effective change of the route table; repeated `ensureRoute` calls with the same upstream are not changes. */
export type MemoryRouteChange =
  | { readonly action: 'ensured'; readonly route: Route }
  | { readonly action: 'removed'; readonly host: string };

export interface MemoryReverseProxy extends ReverseProxy {
  readonly faults: Faults<MemoryReverseProxyOperation>;
  /** The route table now, sorted by host. */
  readonly routes: readonly Route[];
  /** Every effective change so far, oldest first: what a test asserts about switches. */
  readonly changes: readonly MemoryRouteChange[];
}

function sameUpstream(a: Route, b: Route): boolean {
  return (
    a.upstream.host === b.upstream.host &&
    a.upstream.port === b.upstream.port &&
    (a.upstream.scheme ?? 'http') === (b.upstream.scheme ?? 'http')
  );
}

function checkedRoute(route: Route, id: string): Route {
  const host = route.host.trim().toLowerCase();
  const { port } = route.upstream;
  if (host === '' || /\s/.test(host)) {
    throw new CoreError('BAD_REQUEST', 'A route needs a host name', { details: { proxy: id } });
  }
  if (route.upstream.host === '' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new CoreError('BAD_REQUEST', `Invalid upstream for ${host}`, { details: { proxy: id, host } });
  }
  return {
    host,
    upstream: {
      host: route.upstream.host,
      port,
      ...(route.upstream.scheme === undefined ? {} : { scheme: route.upstream.scheme }),
    },
  };
}

function buildMemoryReverseProxy(
  _options: v.InferOutput<typeof memoryReverseProxyOptions>,
  context: AdapterContext,
): MemoryReverseProxy {
  const id = adapterId('proxy', 'memory', context.instance);
  const table = new Map<string, Route>();
  const changes: MemoryRouteChange[] = [];
  const lifecycle = onceDisposer(async () => {});
  const faults = new FaultInjector<MemoryReverseProxyOperation>(id, lifecycle.disposed);

  return {
    id,
    // The table is what serves: once `ensureRoute` returns, the new upstream is in use.
    capabilities: { verifiedSwitch: true },
    faults,
    get routes() {
      return [...table.values()]
        .sort((a, b) => a.host.localeCompare(b.host))
        .map((route) => structuredClone(route));
    },
    get changes() {
      return structuredClone(changes);
    },

    ensureRoute: ({ route, signal }) =>
      faults.run('ensureRoute', signal, () => {
        const next = checkedRoute(route, id);
        const current = table.get(next.host);
        if (!current || !sameUpstream(current, next)) {
          table.set(next.host, next);
          changes.push({ action: 'ensured', route: structuredClone(next) });
        }
        return structuredClone(next);
      }),

    getRoute: ({ host, signal }) =>
      faults.run('getRoute', signal, () => {
        const route = table.get(host.trim().toLowerCase());
        return route ? structuredClone(route) : undefined;
      }),

    removeRoute: ({ host, signal }) =>
      faults.run('removeRoute', signal, () => {
        const key = host.trim().toLowerCase();
        if (table.delete(key)) changes.push({ action: 'removed', host: key });
      }),

    dispose: lifecycle.dispose,
  };
}

export const memoryReverseProxy = defineReverseProxy({
  name: 'memory',
  options: memoryReverseProxyOptions,
  secrets: [],
  create: buildMemoryReverseProxy,
});

/** An in-memory route table for SDK scripts and tests, recording every switch in `changes`. */
export function createMemoryReverseProxy(
  options: MemoryReverseProxyOptions = {},
  context: AdapterContext = {},
): MemoryReverseProxy {
  return instantiate(memoryReverseProxy, options, context);
}
