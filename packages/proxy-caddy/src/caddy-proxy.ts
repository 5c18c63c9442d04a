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
import { type CaddyAdmin, createCaddyAdmin } from './_admin.ts';
import { dialAddress } from './_dial.ts';
import { buildRoute, type CaddyRoute, parseRoute, routeId, sameJson, upstreamFingerprint } from './_route.ts';
import { listenerUrl, verifyThroughListener } from './_verify.ts';
import { type CaddyProxyOptions, caddyProxyOptions, caddyProxySecrets } from './options.ts';

/** The ReverseProxy contract on Caddy's admin API. */
export interface CaddyProxy extends ReverseProxy {
  /** The admin API this adapter talks to: `unix:<path>` with `adminSocket`. */
  readonly adminUrl: string;
  /** The server in `apps.http.servers` that holds the routes. */
  readonly server: string;
}

interface CaddyServer {
  readonly listen?: unknown;
  readonly routes?: CaddyRoute[] | null;
  readonly automatic_https?: { readonly disable?: boolean; readonly skip?: string[] } | null;
}

interface HttpApp {
  readonly http_port?: number;
  readonly servers?: Record<string, CaddyServer | null> | null;
}

interface ServerState {
  readonly server: CaddyServer;
  readonly routes: readonly CaddyRoute[] | undefined;
  readonly httpPort: number;
}

function listenPorts(listen: unknown): number[] {
  if (!Array.isArray(listen)) return [];
  return listen.flatMap((address) => {
    const match = typeof address === 'string' ? /:(\d+)(?:-(\d+))?$/.exec(address) : null;
    return match ? [Number(match[1]), Number(match[2] ?? match[1])] : [];
  });
}

/** Caddy leaves a server alone when automatic HTTPS is disabled or it listens only on the HTTP port. */
function automaticHttpsApplies(state: ServerState): boolean {
  if (state.server.automatic_https?.disable === true) return false;
  return listenPorts(state.server.listen).some((port) => port !== state.httpPort);
}

function buildCaddyProxy(
  options: v.InferOutput<typeof caddyProxyOptions>,
  context: AdapterContext,
): CaddyProxy {
  const id = adapterId('proxy', 'caddy', context.instance);
  const logger = (context.logger ?? silentLogger).child({ proxy: id });
  const admin: CaddyAdmin = createCaddyAdmin({
    adminUrl: options.adminUrl,
    adminSocket: options.adminSocket,
    timeoutMs: options.timeoutMs,
    proxy: id,
  });
  const serverPath = `/config/apps/http/servers/${encodeURIComponent(options.server)}`;
  const lifecycle = onceDisposer(async () => {});

  // Writes of one adapter run one after another, so two calls never both insert the same route.
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

  const readServer = async (signal?: AbortSignal): Promise<ServerState> => {
    const app = (await admin.get('/config/apps/http', signal)) as HttpApp | undefined;
    const server = app?.servers?.[options.server];
    if (!server) {
      const names = Object.keys(app?.servers ?? {});
      throw new CoreError(
        'CONFIG_INVALID',
        `Caddy has no HTTP server named "${options.server}" in apps.http.servers` +
          (names.length > 0 ? ` (it has: ${names.join(', ')})` : ''),
        { details: { proxy: id, server: options.server } },
      );
    }
    return {
      server,
      routes: Array.isArray(server.routes) ? server.routes : undefined,
      httpPort: app?.http_port ?? 80,
    };
  };

  const findRoute = (state: ServerState, rid: string): CaddyRoute | undefined =>
    state.routes?.find((candidate) => candidate?.['@id'] === rid);

  /** Makes the server's automatic HTTPS treat the host as `options.tls` says, before its route exists. */
  const prepareTls = async (state: ServerState, host: string, signal?: AbortSignal): Promise<void> => {
    const skip = state.server.automatic_https?.skip;
    const index = Array.isArray(skip) ? skip.findIndex((name) => name.toLowerCase() === host) : -1;
    if (options.tls === 'off') {
      if (!automaticHttpsApplies(state) || index >= 0) return;
      // A skipped name without a route changes nothing served: safe before the route, and left behind on removal.
      if (!state.server.automatic_https) {
        await admin.send('POST', `${serverPath}/automatic_https`, { skip: [host] }, signal);
      } else if (!Array.isArray(skip)) {
        await admin.send('POST', `${serverPath}/automatic_https/skip`, [host], signal);
      } else {
        await admin.send('POST', `${serverPath}/automatic_https/skip`, host, signal);
      }
      logger.debug('host added to automatic_https.skip', { host });
      return;
    }
    if (!automaticHttpsApplies(state)) {
      throw new CoreError(
        'CONFIG_INVALID',
        `tls: 'auto' needs automatic HTTPS on Caddy's server "${options.server}", which ${
          state.server.automatic_https?.disable ? 'disables it' : 'listens only on the HTTP port'
        }; use tls: 'off' or another server`,
        { details: { proxy: id, server: options.server, host } },
      );
    }
    if (index >= 0) {
      await admin.send('DELETE', `${serverPath}/automatic_https/skip/${index}`, undefined, signal);
      logger.debug('host removed from automatic_https.skip', { host });
    }
  };

  /** Puts back what was there before (`undefined`: no route), whatever is there now. */
  const restore = async (rid: string, previous: CaddyRoute | undefined): Promise<void> => {
    if (previous) {
      await admin.send('PATCH', `/id/${rid}`, previous);
      return;
    }
    await admin.send('DELETE', `/id/${rid}`, undefined).catch((error: unknown) => {
      if (!isCoreError(error, 'NOT_FOUND')) throw error;
    });
  };

  /** After a write that may or may not have landed (aborted, timed out, cut off): restore only if it landed. */
  const settle = async (rid: string, previous: CaddyRoute | undefined): Promise<void> => {
    const now = findRoute(await readServer(), rid);
    if (!sameJson(now ?? null, previous ?? null)) await restore(rid, previous);
  };

  const write = async (
    state: ServerState,
    rid: string,
    desired: CaddyRoute,
    previous: CaddyRoute | undefined,
    signal?: AbortSignal,
  ) => {
    if (previous) return admin.send('PATCH', `/id/${rid}`, desired, signal);
    // Inserted first: a host route matches only its host, and a catch-all later in the list must not shadow it.
    if (state.routes && state.routes.length > 0)
      return admin.send('PUT', `${serverPath}/routes/0`, desired, signal);
    if (state.routes) return admin.send('POST', `${serverPath}/routes`, desired, signal);
    return admin.send('POST', `${serverPath}/routes`, [desired], signal);
  };

  const verify = async (
    state: ServerState,
    next: CheckedRoute,
    fresh: boolean,
    signal?: AbortSignal,
  ): Promise<{ ok: true } | { ok: false; seen: string; timeoutMs: number }> => {
    const scheme = options.tls === 'auto' ? 'https' : 'http';
    const url = options.verifyUrl ? new URL(options.verifyUrl) : listenerUrl(state.server.listen, scheme, id);
    const timeoutMs =
      fresh && options.tls === 'auto'
        ? Math.max(options.verifyTimeoutMs, options.certificateTimeoutMs)
        : options.verifyTimeoutMs;
    const outcome = await verifyThroughListener({
      url,
      host: next.host,
      path: options.verifyPath,
      expected: upstreamFingerprint(next),
      timeoutMs,
      ...(signal ? { signal } : {}),
    });
    return outcome.ok ? outcome : { ...outcome, timeoutMs };
  };

  const ensureRoute = async (next: CheckedRoute, signal?: AbortSignal): Promise<Route> => {
    guard(signal);
    const rid = routeId(next.host);
    const state = await readServer(signal);
    const previous = findRoute(state, rid);
    if (!previous && (await admin.get(`/id/${rid}`, signal)) !== undefined) {
      throw new CoreError(
        'CONFLICT',
        `Caddy's config already holds an object with @id "${rid}" outside server "${options.server}": another server or another Docker Watcher routes ${next.host}`,
        { details: { proxy: id, host: next.host, server: options.server } },
      );
    }
    if (options.verify && !options.verifyUrl) {
      // Fails before any change when the listener cannot be derived.
      listenerUrl(state.server.listen, options.tls === 'auto' ? 'https' : 'http', id);
    }
    const desired = buildRoute(next);
    const result: Route = { host: next.host, upstream: { ...next.upstream } };
    const details = { proxy: id, host: next.host, upstream: dialAddress(next.upstream) };
    await prepareTls(state, next.host, signal);

    if (previous && sameJson(previous, desired)) {
      if (!options.verify) return result;
      const outcome = await verify(state, next, false, signal);
      throwIfAborted(signal);
      if (outcome.ok) return result;
      throw new CoreError(
        'UNAVAILABLE',
        `Caddy routes ${next.host} to ${details.upstream}, but no answer came from it within ${outcome.timeoutMs} ms (last: ${outcome.seen})`,
        { details },
      );
    }

    try {
      await write(state, rid, desired, previous, signal);
    } catch (error) {
      // Caddy refused or never saw it: nothing changed. Otherwise the write may have landed.
      if (
        !isCoreError(error, 'BAD_REQUEST') &&
        !isCoreError(error, 'NOT_FOUND') &&
        !isCoreError(error, 'FORBIDDEN')
      ) {
        await settle(rid, previous).catch((restoreError: unknown) =>
          logger.error('restoring the previous route failed', { ...details, error: restoreError }),
        );
      }
      throw error;
    }

    if (options.verify) {
      const outcome = await verify(state, next, !previous, signal);
      if (!outcome.ok) {
        const restored = await restore(rid, previous).then(
          () => true,
          (error: unknown) => {
            logger.error('restoring the previous route failed', { ...details, error });
            return false;
          },
        );
        throwIfAborted(signal);
        throw new CoreError(
          'UNAVAILABLE',
          `Caddy did not serve ${next.host} from ${details.upstream} within ${outcome.timeoutMs} ms (last: ${outcome.seen}); ` +
            (restored
              ? previous
                ? 'the previous route is back in place'
                : 'the new route was removed again'
              : 'restoring the previous route failed too'),
          { details: { ...details, restored } },
        );
      }
    }
    logger.info(previous ? 'route switched' : 'route added', details);
    return result;
  };

  return {
    id,
    capabilities: { verifiedSwitch: options.verify },
    adminUrl: options.adminSocket ? `unix:${options.adminSocket}` : options.adminUrl,
    server: options.server,

    ensureRoute: async ({ route, signal }) => {
      guard(signal);
      const next = checkRoute(route, id);
      return exclusive(() => ensureRoute(next, signal));
    },

    getRoute: async ({ host, signal }) => {
      guard(signal);
      const name = checkHost(host, id);
      const found = findRoute(await readServer(signal), routeId(name));
      return found ? parseRoute(found, name, id) : undefined;
    },

    removeRoute: async ({ host, signal }) => {
      guard(signal);
      const name = checkHost(host, id);
      const rid = routeId(name);
      return exclusive(async () => {
        guard(signal);
        if (!findRoute(await readServer(signal), rid)) return;
        await admin.send('DELETE', `/id/${rid}`, undefined, signal).catch((error: unknown) => {
          if (!isCoreError(error, 'NOT_FOUND')) throw error;
        });
        logger.info('route removed', { host: name });
      });
    },

    dispose: lifecycle.dispose,
  };
}

export const caddyProxy = defineReverseProxy({
  name: 'caddy',
  options: caddyProxyOptions,
  secrets: caddyProxySecrets,
  create: buildCaddyProxy,
});

/**
 * Routes host names to upstreams through Caddy's admin API, one `@id`-tagged route per host in one
 * server, each switch one config load, verified through Caddy's listener and rolled back on failure.
 */
export function createCaddyProxy(options: CaddyProxyOptions = {}, context: AdapterContext = {}): CaddyProxy {
  return instantiate(caddyProxy, options, context);
}
