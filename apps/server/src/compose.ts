import { hostname } from 'node:os';
import {
  createEngine,
  createEventBus,
  createWebhookNotifier,
  type DeployTarget,
  type Engine,
  instantiate,
  type Logger,
  type Notifier,
  type Registry,
  type ReverseProxy,
  type StateStore,
  silentLogger,
} from '@docker-watcher/core';
import type { ResolvedConfig } from './config/load.ts';
import { createMetrics, type ServerMetrics } from './http/metrics.ts';
import { Activity } from './live/activity.ts';
import { StageBoard } from './live/board.ts';
import { EventHub, type EventHubOptions } from './live/event-hub.ts';
import { journalOf } from './live/event-journal.ts';

/** Everything a config composes into: adapters, the engine, metrics. */
export interface Composed {
  readonly config: ResolvedConfig;
  readonly engine: Engine;
  readonly store: StateStore;
  /** The adapters as created, by registry name (uninstrumented, e.g. for test controls). */
  readonly registries: Readonly<Record<string, Registry>>;
  readonly target: DeployTarget;
  readonly proxy?: ReverseProxy;
  readonly metrics: ServerMetrics;
  /** The event stream of `/api/events`: every replica's events, in order. */
  readonly events: EventHub;
  /** Every stage's summary, kept current by events. */
  readonly board: StageBoard;
  /** Registries' polls, webhooks and errors, and the replicas seen, for `/api/status`. */
  readonly activity: Activity;
  readonly logger: Logger;
  /** Stops the engine (running deploys end in a safe state), then disposes every adapter. */
  dispose(): Promise<void>;
}

export interface ComposeOptions {
  readonly logger?: Logger;
  /** Overrides for tests: adapters created elsewhere. */
  readonly store?: StateStore;
  readonly registries?: Readonly<Record<string, Registry>>;
  readonly target?: DeployTarget;
  readonly proxy?: ReverseProxy;
  /** The port the server listens on when it is not the config's (0: any free port). */
  readonly listenPort?: number;
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
  const target =
    options.target ??
    make(() =>
      instantiate(config.target.definition, config.target.options, {
        ...context('target'),
        path: config.target.path,
      }),
    );
  const proxySpec = config.proxy;
  const proxy =
    options.proxy ??
    (proxySpec
      ? make(() =>
          instantiate(proxySpec.definition, proxySpec.options, { ...context('proxy'), path: proxySpec.path }),
        )
      : undefined);
  const notifiers: Notifier[] = config.notifier
    ? [make(() => createWebhookNotifier(config.notifier!, context('notifier')))]
    : [];

  const bus = createEventBus({ logger: logger.child({ component: 'events' }) });
  const metrics = createMetrics(bus);
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
  const board = new StageBoard({ store, projects: config.projects, lastEventId: () => events.lastEventId });
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
    target,
    ...(proxy ? { proxy } : {}),
    store,
    notifiers,
    bus,
    logger,
    pollIntervalMs: config.pollIntervalMs,
    ...replicaOf(config, options.listenPort),
  });

  let disposing: Promise<void> | undefined;
  return {
    config,
    engine,
    store,
    registries,
    target,
    ...(proxy ? { proxy } : {}),
    metrics,
    events,
    board,
    activity,
    logger,
    dispose() {
      disposing ??= (async () => {
        await engine.stop();
        // The engine's last events still reach the feed, before the store closes.
        await events.close();
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
