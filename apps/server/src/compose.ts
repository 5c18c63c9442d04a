import { hostname } from 'node:os';
import {
  createEngine,
  createEventBus,
  type DeployTarget,
  type DeployTargetContext,
  type Engine,
  instantiate,
  type Logger,
  limitRegistry,
  type Registry,
  RegistryLimiter,
  type ReverseProxy,
  type StageRef,
  type StageTargets,
  type StateStore,
  silentLogger,
  stageKey,
} from '@docker-watcher/core';
import type { ResolvedConfig } from './config/load.ts';
import { createMetrics, type ServerMetrics } from './http/metrics.ts';
import { routeTargets } from './label-mode/routing-target.ts';
import { Activity } from './live/activity.ts';
import { StageBoard } from './live/board.ts';
import { EventHub, type EventHubOptions } from './live/event-hub.ts';
import { journalOf } from './live/event-journal.ts';
import { type ComposedNotifications, composeNotifications } from './notify/compose-notifications.ts';

/** How long a shutdown or a reload waits for queued notifications before dropping them. */
const notifyGraceMs = 5_000;

/** Everything a config composes into: adapters, the engine, metrics. */
export interface Composed {
  readonly config: ResolvedConfig;
  readonly engine: Engine;
  readonly store: StateStore;
  /** The adapters as created, by registry name (uninstrumented, e.g. for test controls). */
  readonly registries: Readonly<Record<string, Registry>>;
  /**
   * The registries behind their limits (`registries.<name>.concurrency`, `.rate_limit`), for the
   * API's requests: the engine's go through the same limiters, so that together they keep to them.
   */
  readonly limitedRegistries: Readonly<Record<string, Registry>>;
  /** `global.target`, the target of stages that name none. */
  readonly target: DeployTarget;
  /** Each stage's target (named in `targets`, labelled, or `global.target`), and all of them. */
  readonly targets: StageTargets;
  readonly proxy?: ReverseProxy;
  readonly metrics: ServerMetrics;
  /** The event stream of `/api/events`: every replica's events, in order. */
  readonly events: EventHub;
  /** Every stage's summary, kept current by events. */
  readonly board: StageBoard;
  /** Registries' polls, webhooks and errors, and the replicas seen, for `/api/status`. */
  readonly activity: Activity;
  /** The notification channels and their dispatcher. */
  readonly notifications: ComposedNotifications;
  readonly logger: Logger;
  /**
   * Stops the engine (running deploys end in a safe state, or with `drain` run to their end; queued
   * ones stay pending in the store for the next start), then disposes every adapter.
   */
  dispose(options?: { readonly drain?: boolean }): Promise<void>;
}

export interface ComposeOptions {
  readonly logger?: Logger;
  /** Overrides for tests: adapters created elsewhere. */
  readonly store?: StateStore;
  readonly registries?: Readonly<Record<string, Registry>>;
  readonly target?: DeployTarget;
  /** Overrides of the targets in `targets`, by name. */
  readonly targets?: ReadonlyMap<string, DeployTarget>;
  readonly proxy?: ReverseProxy;
  /** The port the server listens on when it is not the config's (0: any free port). */
  readonly listenPort?: number;
  /** Label mode: these projects deploy through the in-place target (created and disposed by the caller). */
  readonly labelled?: {
    readonly target: DeployTarget;
    readonly projects: ReadonlySet<string>;
    /** The container each labelled stage comes from (shown as the stage's source). */
    readonly containerOf?: (ref: StageRef) => string | undefined;
  };
  /** Limits of the event stream (tests make them small). */
  readonly eventStream?: Pick<EventHubOptions, 'ringSize' | 'clientBufferBytes' | 'heartbeatMs' | 'pollMs'>;
}

/**
 * The server's name among replicas on one store: the same after a restart (host name and port), so
 * a restarted server takes its own stages back at once; a random one when the port is random.
 */
function replicaOf(config: ResolvedConfig, listenPort: number | undefined) {
  const port = listenPort ?? config.listen.port;
  const holder = config.replicaName ?? (port === 0 ? undefined : `${hostname()}:${port}`);
  return holder ? { replica: { holder } } : {};
}

/**
 * Each stage's target: a stage that names one in `targets` runs on it, the others on the main
 * target (`global.target`, with label mode's routing). Targets no stage uses are not listed (a
 * Nomad-only file does not list the default Docker target).
 */
function stageTargets(
  config: ResolvedConfig,
  main: DeployTarget,
  named: ReadonlyMap<string, DeployTarget>,
  /** Label mode's stages come and go: the main target is listed whether a stage of the file uses it or not. */
  listMain: boolean,
): StageTargets {
  const of = (ref: StageRef) => {
    const name = config.stageTargets.get(stageKey(ref));
    return (name === undefined ? undefined : named.get(name)) ?? main;
  };
  const used = new Set(
    config.projects.flatMap((p) => Object.keys(p.stages).map((stage) => of({ project: p.id, stage }))),
  );
  if (named.size === 0 || listMain) used.add(main);
  return { of, all: [...used] };
}

/** Config -> adapters (through their definitions) -> engine. Nothing runs until `engine.start()`. */
export function compose(config: ResolvedConfig, options: ComposeOptions = {}): Composed {
  const logger = options.logger ?? silentLogger;
  const context = (kind: string, instance?: string) => ({
    logger: logger.child({ component: kind, ...(instance ? { instance } : {}) }),
    ...(instance ? { instance } : {}),
  });
  const created: Array<{ dispose(): Promise<void> }> = [];
  const make = <A extends { dispose(): Promise<void> }>(create: () => A): A => {
    const adapter = create();
    created.push(adapter);
    return adapter;
  };

  const store =
    options.store ??
    make(() =>
      instantiate(config.store.definition, config.store.options, {
        ...context('store'),
        path: config.store.path,
      }),
    );
  const registries: Record<string, Registry> = {};
  for (const [name, spec] of Object.entries(config.registries)) {
    registries[name] =
      options.registries?.[name] ??
      make(() =>
        instantiate(spec.definition, spec.options, { ...context('registry', name), path: spec.path }),
      );
  }
  const limiters: Record<string, RegistryLimiter> = Object.create(null);
  const limitedRegistries: Record<string, Registry> = Object.create(null);
  for (const [name, registry] of Object.entries(registries)) {
    limiters[name] = new RegistryLimiter(config.registryLimits[name], {
      logger: logger.child({ component: 'registry', instance: name }),
      path: `registries.${name}`,
    });
    limitedRegistries[name] = limitRegistry(registry, limiters[name]);
  }
  // Each target reads the options its stages give it (`target: { name, ...options }`).
  const stageOptions = (ref: StageRef) => config.stageOptions.get(stageKey(ref));
  const targetOf = (spec: ResolvedConfig['target'], name?: string) => {
    const targetContext: DeployTargetContext & { path: string } = {
      ...context('target', name),
      path: spec.path,
      stageOptions,
    };
    return make(() => instantiate(spec.definition, spec.options, targetContext));
  };
  const target = options.target ?? targetOf(config.target);
  const named = new Map<string, DeployTarget>();
  for (const [name, spec] of config.targets)
    named.set(name, options.targets?.get(name) ?? targetOf(spec, name));
  const labelled = options.labelled;
  // Labelled stages deploy through label mode's in-place target, routed by project.
  const main = labelled
    ? routeTargets({ main: target, labelled: labelled.target, isLabelled: (p) => labelled.projects.has(p) })
    : target;
  const targets = stageTargets(config, main, named, labelled !== undefined);
  const proxySpec = config.proxy;
  const proxy =
    options.proxy ??
    (proxySpec
      ? make(() =>
          instantiate(proxySpec.definition, proxySpec.options, { ...context('proxy'), path: proxySpec.path }),
        )
      : undefined);
  const bus = createEventBus({ logger: logger.child({ component: 'events' }) });
  // The server runs its own dispatcher (not the engine's): routes, batching, per-channel metrics.
  const notifications = composeNotifications(config.notify, { bus, logger });
  const metrics = createMetrics(bus, { notifications: () => notifications.stats() });
  const activity = new Activity(registries);
  const instrumented = Object.fromEntries(
    Object.entries(registries).map(([name, registry]) => [
      name,
      activity.instrument(name, metrics.instrument(name, registry)),
    ]),
  );
  const events = new EventHub({
    bus,
    store,
    journal: journalOf(store),
    logger: logger.child({ component: 'event-stream' }),
    ...options.eventStream,
  });
  const board = new StageBoard({
    store,
    projects: config.projects,
    lastEventId: () => events.lastEventId,
    ...(labelled?.containerOf ? { containerOf: labelled.containerOf } : {}),
  });
  events.onEntry((entry) => {
    board.onEntry(entry);
    activity.onEntry(entry);
  });
  const eventLog = logger.child({ component: 'events' });
  bus.onAny((event) => {
    if (event.type === 'deploy:log') return;
    const { type, at: _at, ...fields } = event;
    const level = type === 'deploy:failed' || type === 'adapter:error' ? 'warn' : 'info';
    eventLog[level](type, fields);
  });

  const engine = createEngine({
    projects: config.projects,
    registries: instrumented,
    registryLimits: limiters,
    target: targets,
    ...(proxy ? { proxy } : {}),
    store,
    bus,
    logger,
    pollIntervalMs: config.pollIntervalMs,
    deployRetryBaseMs: config.deployRetryBaseMs,
    coalesceMs: config.webhookCoalesceMs,
    ...replicaOf(config, options.listenPort),
  });

  let disposing: Promise<void> | undefined;
  return {
    config,
    engine,
    store,
    registries,
    limitedRegistries,
    target,
    targets,
    ...(proxy ? { proxy } : {}),
    metrics,
    events,
    board,
    activity,
    notifications,
    logger,
    dispose(options = {}) {
      disposing ??= (async () => {
        await engine.stop(options);
        // The engine's last events still reach the feed, before the store closes.
        await events.close();
        // What the last deploys reported still goes out, for a few seconds at most.
        await notifications.close(Math.min(config.shutdownTimeoutMs, notifyGraceMs));
        metrics.dispose();
        // The store last: the engine's final writes go through it.
        for (const adapter of created.reverse()) {
          await adapter.dispose().catch((error: unknown) => {
            logger.warn('an adapter failed to close', { error: String(error) });
          });
        }
      })();
      return disposing;
    },
  };
}
