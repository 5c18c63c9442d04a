import type * as v from 'valibot';
import type { Adapter, AdapterDefinition, CallOptions } from './adapter.ts';

export interface Upstream {
  readonly host: string;
  readonly port: number;
  readonly scheme?: 'http' | 'https';
}

export interface Route {
  /** Lower-case host name, e.g. `stage-dev-web-app.example.com`. */
  readonly host: string;
  readonly upstream: Upstream;
}

export interface ReverseProxyCapabilities {
  /** `ensureRoute` returns only once the proxy serves the new upstream. */
  readonly verifiedSwitch: boolean;
}

/** Named `ReverseProxy`, not `Proxy`, which would shadow the JavaScript global. */
export interface ReverseProxy extends Adapter {
  readonly capabilities: ReverseProxyCapabilities;
  /**
   * Creates or updates the route for `route.host`. Idempotent. The switch is atomic: on failure
   * the previous route stays in place and the call throws.
   */
  ensureRoute(params: CallOptions & { readonly route: Route }): Promise<Route>;
  /** The route for a host, or `undefined`. Host names compare case-insensitively. */
  getRoute(params: CallOptions & { readonly host: string }): Promise<Route | undefined>;
  /** Removes the route for a host; a host without a route is fine. */
  removeRoute(params: CallOptions & { readonly host: string }): Promise<void>;
}

export type ReverseProxyDefinition<
  S extends v.GenericSchema = v.GenericSchema,
  A extends ReverseProxy = ReverseProxy,
> = AdapterDefinition<'proxy', S, A>;

export function defineReverseProxy<S extends v.GenericSchema, A extends ReverseProxy>(
  definition: Omit<ReverseProxyDefinition<S, A>, 'kind'>,
): ReverseProxyDefinition<S, A> {
  return { kind: 'proxy', ...definition };
}
