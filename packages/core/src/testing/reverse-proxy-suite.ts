import type { ReverseProxy, Route, Upstream } from '../contracts/reverse-proxy.ts';
import { abortedSignal, checkAdapterId, checkFlags, expectCoreError, same } from './assertions.ts';
import {
  type CaseContext,
  type CaseResult,
  type ConformanceSuite,
  caseTable,
  disposeIsIdempotentCase,
  type HarnessBase,
  runCase,
} from './suite.ts';

export interface ReverseProxyHarness extends HarnessBase {
  readonly proxy: ReverseProxy;
  /** Hosts are created as `<label>.<domain>`; `conformance.test` by default. */
  readonly domain?: string;
  /** Two upstreams routes may point at (a verifying proxy checks that they answer); 127.0.0.1:18081 and :18082 by default. */
  readonly upstreams?: readonly [Upstream, Upstream];
}

export type ReverseProxyCaseId =
  | 'id-names-kind-and-backend'
  | 'capabilities-are-flags'
  | 'ensure-route-then-get-returns-it'
  | 'ensure-route-is-idempotent'
  | 'ensure-route-updates-upstream'
  | 'hosts-compare-case-insensitively'
  | 'get-absent-route-returns-undefined'
  | 'remove-route-removes-it'
  | 'remove-absent-route-is-fine'
  | 'routes-are-independent'
  | 'aborted-signal-aborts'
  | 'dispose-is-idempotent';

const defaultUpstreams: readonly [Upstream, Upstream] = [
  { host: '127.0.0.1', port: 18_081 },
  { host: '127.0.0.1', port: 18_082 },
];

function upstreamsOf(harness: ReverseProxyHarness): readonly [Upstream, Upstream] {
  return harness.upstreams ?? defaultUpstreams;
}

function hostFor(harness: ReverseProxyHarness, label: string, unique: string): string {
  return `${label}-${unique}.${harness.domain ?? 'conformance.test'}`;
}

/** Creates the route and removes it again after the case. */
async function ensureFor(context: CaseContext<ReverseProxyHarness>, route: Route): Promise<Route> {
  const { proxy } = context.harness;
  context.defer(() => proxy.removeRoute({ host: route.host }));
  return proxy.ensureRoute({ route });
}

/** The parts of a route every proxy keeps: lower-case host, upstream host and port, scheme (http by default). */
function essentials(route: Route | undefined): unknown {
  if (!route) return route;
  return {
    host: route.host,
    upstream: {
      host: route.upstream.host,
      port: route.upstream.port,
      scheme: route.upstream.scheme ?? 'http',
    },
  };
}

export const reverseProxyCases = caseTable<ReverseProxyHarness, ReverseProxyCaseId>({
  'id-names-kind-and-backend': {
    title: 'id is proxy:<name>',
    run: async ({ harness }) => checkAdapterId(harness.proxy.id, 'proxy'),
  },
  'capabilities-are-flags': {
    title: 'capabilities are boolean flags',
    run: async ({ harness }) => checkFlags(harness.proxy.capabilities, ['verifiedSwitch']),
  },
  'ensure-route-then-get-returns-it': {
    title: 'ensureRoute returns the route and getRoute finds it',
    run: async (context) => {
      const route: Route = {
        host: hostFor(context.harness, 'web', context.unique),
        upstream: upstreamsOf(context.harness)[0],
      };
      same(essentials(await ensureFor(context, route)), essentials(route), 'route returned by ensureRoute');
      same(
        essentials(await context.harness.proxy.getRoute({ host: route.host })),
        essentials(route),
        'getRoute after ensureRoute',
      );
    },
  },
  'ensure-route-is-idempotent': {
    title: 'ensuring the same route twice is fine and changes nothing',
    run: async (context) => {
      const route: Route = {
        host: hostFor(context.harness, 'web', context.unique),
        upstream: upstreamsOf(context.harness)[0],
      };
      await ensureFor(context, route);
      same(
        essentials(await context.harness.proxy.ensureRoute({ route })),
        essentials(route),
        'second ensureRoute',
      );
      same(
        essentials(await context.harness.proxy.getRoute({ host: route.host })),
        essentials(route),
        'getRoute after two ensureRoute',
      );
    },
  },
  'ensure-route-updates-upstream': {
    title: 'ensureRoute with another upstream switches the route',
    run: async (context) => {
      const [first, second] = upstreamsOf(context.harness);
      const host = hostFor(context.harness, 'web', context.unique);
      await ensureFor(context, { host, upstream: first });
      await context.harness.proxy.ensureRoute({ route: { host, upstream: second } });
      same(
        essentials(await context.harness.proxy.getRoute({ host })),
        essentials({ host, upstream: second }),
        'getRoute after the switch',
      );
    },
  },
  'hosts-compare-case-insensitively': {
    title: 'getRoute and removeRoute ignore the case of the host',
    run: async (context) => {
      const route: Route = {
        host: hostFor(context.harness, 'web', context.unique),
        upstream: upstreamsOf(context.harness)[0],
      };
      await ensureFor(context, route);
      const found = await context.harness.proxy.getRoute({ host: route.host.toUpperCase() });
      same(essentials(found), essentials(route), 'getRoute with the host in upper case');
      const mixed = [...route.host]
        .map((char, index) => (index % 2 === 0 ? char.toUpperCase() : char))
        .join('');
      await context.harness.proxy.removeRoute({ host: mixed });
      same(
        await context.harness.proxy.getRoute({ host: route.host }),
        undefined,
        'getRoute after removeRoute with mixed case',
      );
    },
  },
  'get-absent-route-returns-undefined': {
    title: 'getRoute of a host without a route returns undefined',
    run: async ({ harness, unique }) => {
      same(
        await harness.proxy.getRoute({ host: hostFor(harness, 'absent', unique) }),
        undefined,
        'getRoute of an absent host',
      );
    },
  },
  'remove-route-removes-it': {
    title: 'removeRoute removes the route',
    run: async (context) => {
      const route: Route = {
        host: hostFor(context.harness, 'web', context.unique),
        upstream: upstreamsOf(context.harness)[0],
      };
      await ensureFor(context, route);
      await context.harness.proxy.removeRoute({ host: route.host });
      same(
        await context.harness.proxy.getRoute({ host: route.host }),
        undefined,
        'getRoute after removeRoute',
      );
    },
  },
  'remove-absent-route-is-fine': {
    title: 'removeRoute of a host without a route is fine',
    run: async ({ harness, unique }) => {
      await harness.proxy.removeRoute({ host: hostFor(harness, 'absent', unique) });
    },
  },
  'routes-are-independent': {
    title: 'switching or removing one host leaves the others alone',
    run: async (context) => {
      const [first, second] = upstreamsOf(context.harness);
      const web: Route = { host: hostFor(context.harness, 'web', context.unique), upstream: first };
      const api: Route = { host: hostFor(context.harness, 'api', context.unique), upstream: first };
      await ensureFor(context, web);
      await ensureFor(context, api);
      await context.harness.proxy.ensureRoute({ route: { host: web.host, upstream: second } });
      same(
        essentials(await context.harness.proxy.getRoute({ host: api.host })),
        essentials(api),
        'other host after a switch',
      );
      await context.harness.proxy.removeRoute({ host: web.host });
      same(
        essentials(await context.harness.proxy.getRoute({ host: api.host })),
        essentials(api),
        'other host after a removal',
      );
    },
  },
  'aborted-signal-aborts': {
    title: 'an aborted signal makes calls throw ABORTED and change nothing',
    run: async (context) => {
      const { proxy } = context.harness;
      const route: Route = {
        host: hostFor(context.harness, 'web', context.unique),
        upstream: upstreamsOf(context.harness)[0],
      };
      context.defer(() => proxy.removeRoute({ host: route.host }));
      const signal = abortedSignal();
      await expectCoreError(proxy.ensureRoute({ route, signal }), 'ABORTED', 'ensureRoute');
      await expectCoreError(proxy.getRoute({ host: route.host, signal }), 'ABORTED', 'getRoute');
      same(await proxy.getRoute({ host: route.host }), undefined, 'getRoute after an aborted ensureRoute');
    },
  },
  'dispose-is-idempotent': disposeIsIdempotentCase((harness) => harness.proxy),
});

export const reverseProxySuite: ConformanceSuite<ReverseProxyHarness, ReverseProxyCaseId> = {
  contract: 'ReverseProxy',
  cases: reverseProxyCases,
  subject: (harness) => harness.proxy,
};

/** Runs one ReverseProxy case without vitest; failures come back as results. */
export function runReverseProxyCase(
  id: ReverseProxyCaseId,
  create: () => ReverseProxyHarness | Promise<ReverseProxyHarness>,
): Promise<CaseResult<ReverseProxyCaseId>> {
  return runCase(reverseProxySuite, id, create);
}
