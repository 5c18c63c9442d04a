import { EventEmitter } from 'eventemitter3';
import type { Release } from './contracts/release.ts';
import type { DeployTrigger } from './contracts/state-store.ts';
import type { DeployState } from './engine/deploy-states.ts';
import { type CoreError, toCoreError } from './errors.ts';
import { type Logger, type LogLevel, silentLogger } from './logger.ts';

/** A `CoreError` as events carry it: its JSON form, never a stack, cause or body. */
export type EventError = Readonly<ReturnType<CoreError['toJSON']>>;

interface EventBase<T extends string> {
  readonly type: T;
  /** When it happened, as an ISO 8601 timestamp. */
  readonly at: string;
}

interface DeployBase<T extends string> extends EventBase<T> {
  readonly deployId: string;
  readonly project: string;
  readonly stage: string;
}

/** A registry was seen holding `tag` (at `digest`, when known), by polling or through a webhook. */
export interface RegistryObservedEvent extends EventBase<'registry:observed'> {
  readonly registryId: string;
  readonly repository: string;
  readonly tag: string;
  readonly digest?: string;
  readonly source: 'poll' | 'webhook';
  /** The webhook delivery id, for deduplication and tracing. */
  readonly eventId?: string;
}

/** The policy of a stage chose a release. */
export interface ReleaseSelectedEvent extends EventBase<'release:selected'> {
  readonly project: string;
  readonly stage: string;
  readonly tag: string;
  readonly digest: string;
  /** Why this release, for people: e.g. `newest tag matching v*`, `pinned`, `digest changed`. */
  readonly reason: string;
}

export interface DeployQueuedEvent extends DeployBase<'deploy:queued'> {
  readonly release: Release;
  readonly trigger: DeployTrigger;
  /** The user or token name that asked for it, for deploys a person started. */
  readonly by?: string;
}

export interface DeployStateChangedEvent extends DeployBase<'deploy:state-changed'> {
  readonly from: DeployState;
  readonly to: DeployState;
}

/** One line of a deploy's live log. */
export interface DeployLogEvent extends DeployBase<'deploy:log'> {
  readonly line: string;
  readonly level: LogLevel;
}

/** A deploy left its queue and began to act on the target. */
export interface DeployStartedEvent extends DeployBase<'deploy:started'> {
  readonly release: Release;
  /** What ran before, when something did. */
  readonly previous?: Release;
  readonly trigger: DeployTrigger;
  /** The user or token name that asked for it, for deploys a person started. */
  readonly by?: string;
}

/** One probe of a deploy's health gate, as it happens. */
export interface DeployHealthCheckedEvent extends DeployBase<'deploy:health-checked'> {
  /** 1 for the first probe. */
  readonly attempt: number;
  readonly healthy: boolean;
  /** The HTTP status, when the probe got an answer. */
  readonly status?: number;
  /** Why the probe failed, in a few words, when it did. */
  readonly error?: string;
  /** Failed probes so far. */
  readonly failures: number;
  /** When the gate gives up, as an ISO 8601 timestamp. */
  readonly deadline: string;
}

/** Facts every finished deploy reports, for people: what ran before and how long it took. */
interface DeployOutcome {
  readonly release: Release;
  /** What ran before this deploy, when something did. */
  readonly previous?: Release;
  /** From the deploy's creation to its end. */
  readonly durationMs?: number;
}

export interface DeploySucceededEvent extends DeployBase<'deploy:succeeded'>, DeployOutcome {}

export interface DeployFailedEvent extends DeployBase<'deploy:failed'>, DeployOutcome {
  readonly error: EventError;
}

export interface DeployRolledBackEvent extends DeployBase<'deploy:rolled-back'> {
  /** The release that was abandoned. */
  readonly release: Release;
  /** From the deploy's creation to its end. */
  readonly durationMs?: number;
  /** The release serving again, when there was one. */
  readonly restored?: Release;
  readonly reason: string;
}

/** A release waits for a person to confirm it before it is deployed to a stage. */
export interface DeployAwaitingConfirmationEvent extends EventBase<'deploy:awaiting-confirmation'> {
  readonly project: string;
  readonly stage: string;
  readonly release: Release;
  /** The approval to approve or reject (`/api/approvals/:id/approve`). */
  readonly approvalId: string;
  /** What runs in the stage now, when something does. */
  readonly current?: Release;
}

/**
 * A stage that deploys only by hand (`auto_deploy: false`) has an allowed release newer than the
 * one it runs: a person may deploy it.
 */
export interface ReleaseAvailableEvent extends EventBase<'release:available'> {
  readonly project: string;
  readonly stage: string;
  readonly release: Release;
  /** What runs in the stage now, when something does. */
  readonly current?: Release;
  readonly reason: string;
}

/** A person changed how a stage follows its releases: pinned or unpinned it, or turned auto-deploy on or off. */
export interface StageUpdatedEvent extends EventBase<'stage:updated'> {
  readonly project: string;
  readonly stage: string;
  readonly change: 'pin' | 'unpin' | 'auto-deploy';
  readonly autoDeploy: boolean;
  /** The pinned tag after the change, when the stage is pinned. */
  readonly pin?: string;
  /** The user or token name that changed it, when a person did. */
  readonly by?: string;
}

/** A person approved or rejected a release that waited for confirmation. */
export interface ApprovalDecidedEvent extends EventBase<'approval:decided'> {
  readonly project: string;
  readonly stage: string;
  readonly approvalId: string;
  readonly release: Release;
  readonly status: 'approved' | 'rejected';
  readonly by: string;
  readonly comment?: string;
  /** The deploy an approval started. */
  readonly deployId?: string;
}

/** An adapter operation failed; whatever called it goes on (retries, rollback) and reports this. */
export interface AdapterErrorEvent extends EventBase<'adapter:error'> {
  /** The adapter's id, e.g. `registry:gitea`. */
  readonly adapterId: string;
  /** The contract method that failed, e.g. `listTags`. */
  readonly operation: string;
  readonly error: EventError;
}

/** This replica started or stopped leading (polling) among the replicas on one store. */
export interface EngineLeadershipEvent extends EventBase<'engine:leadership'> {
  readonly holder: string;
  readonly leader: boolean;
}

/**
 * A container labelled for label mode cannot be watched, or no longer can (a live label change):
 * what is wrong, per label. Said once per distinct set of problems; the container is left alone.
 */
export interface LabelsInvalidEvent extends EventBase<'labels:invalid'> {
  /** The container's name. */
  readonly container: string;
  readonly problems: ReadonlyArray<{ readonly label: string; readonly message: string }>;
}

/**
 * Every event of the system, in eventemitter3's map form: each event has exactly one argument, a
 * readonly JSON-serialisable payload whose `type` is the event's name.
 */
export interface EventMap {
  'registry:observed': [RegistryObservedEvent];
  'release:selected': [ReleaseSelectedEvent];
  'release:available': [ReleaseAvailableEvent];
  'deploy:queued': [DeployQueuedEvent];
  'deploy:started': [DeployStartedEvent];
  'deploy:state-changed': [DeployStateChangedEvent];
  'deploy:log': [DeployLogEvent];
  'deploy:health-checked': [DeployHealthCheckedEvent];
  'deploy:succeeded': [DeploySucceededEvent];
  'deploy:failed': [DeployFailedEvent];
  'deploy:rolled-back': [DeployRolledBackEvent];
  'deploy:awaiting-confirmation': [DeployAwaitingConfirmationEvent];
  'approval:decided': [ApprovalDecidedEvent];
  'stage:updated': [StageUpdatedEvent];
  'adapter:error': [AdapterErrorEvent];
  'engine:leadership': [EngineLeadershipEvent];
  'labels:invalid': [LabelsInvalidEvent];
}

export type EventName = keyof EventMap;

export type EventOf<N extends EventName> = EventMap[N][0];

/** All events as one union, discriminated by `type`. */
export type DockerWatcherEvent = EventOf<EventName>;

// A record keyed by the map, so that adding an event without listing it here fails to compile.
const eventNameSet: Record<EventName, true> = {
  'registry:observed': true,
  'release:selected': true,
  'release:available': true,
  'deploy:queued': true,
  'deploy:started': true,
  'deploy:state-changed': true,
  'deploy:log': true,
  'deploy:health-checked': true,
  'deploy:succeeded': true,
  'deploy:failed': true,
  'deploy:rolled-back': true,
  'deploy:awaiting-confirmation': true,
  'approval:decided': true,
  'stage:updated': true,
  'adapter:error': true,
  'engine:leadership': true,
  'labels:invalid': true,
};

/** Every event name, e.g. to validate a subscription filter. */
export const eventNames: readonly EventName[] = Object.freeze(Object.keys(eventNameSet) as EventName[]);

/** The `error` of an event from anything thrown. */
export function toEventError(error: unknown): EventError {
  return toCoreError(error).toJSON();
}

export type EventListener<N extends EventName> = (event: EventOf<N>) => void;

export type AnyEventListener = (event: DockerWatcherEvent) => void;

export type Unsubscribe = () => void;

export interface EventBus {
  /** Calls `listener` for every event named `name`. The returned function removes this registration. */
  on<N extends EventName>(name: N, listener: EventListener<N>): Unsubscribe;
  /** Like `on`, but for the next such event only. */
  once<N extends EventName>(name: N, listener: EventListener<N>): Unsubscribe;
  /** Removes every registration of `listener` for `name`. */
  off<N extends EventName>(name: N, listener: EventListener<N>): void;
  /** Calls `listener` for every event, after the listeners of its name. */
  onAny(listener: AnyEventListener): Unsubscribe;
  /**
   * Delivers an event to its listeners, synchronously. A listener that throws (or whose promise
   * rejects) is reported to the logger; the other listeners still run and `emit` never throws.
   */
  emit(event: DockerWatcherEvent): void;
}

export interface EventBusOptions {
  /** Where failing listeners are reported. Silent by default. */
  logger?: Logger;
}

type Registered = ((event: DockerWatcherEvent) => void) & { readonly listener: unknown };

export function createEventBus(options: EventBusOptions = {}): EventBus {
  const logger = options.logger ?? silentLogger;
  // Typed loosely inside: the public methods carry the types, and each registration wraps its listener.
  const emitter = new EventEmitter<Record<EventName, [DockerWatcherEvent]>>();
  let anyListeners: readonly Registered[] = [];

  const report = (event: DockerWatcherEvent, thrown: unknown): void => {
    try {
      logger.error('An event listener failed', {
        event: event.type,
        error: toEventError(thrown),
        ...(thrown instanceof Error && { stack: thrown.stack }),
      });
    } catch {
      // A broken logger must not break the emitter either.
    }
  };

  const register = (listener: (event: never) => void): Registered => {
    const call = listener as (event: DockerWatcherEvent) => unknown;
    const registered = (event: DockerWatcherEvent): void => {
      try {
        const result = call(event);
        if (isPromiseLike(result)) result.then(undefined, (rejected) => report(event, rejected));
      } catch (thrown) {
        report(event, thrown);
      }
    };
    return Object.assign(registered, { listener });
  };

  const subscribe = (name: EventName, listener: (event: never) => void, once: boolean): Unsubscribe => {
    const registered = register(listener);
    if (once) emitter.once(name, registered);
    else emitter.on(name, registered);
    return () => {
      emitter.off(name, registered);
    };
  };

  return {
    on: (name, listener) => subscribe(name, listener, false),
    once: (name, listener) => subscribe(name, listener, true),
    off: (name, listener) => {
      for (const registered of emitter.listeners(name) as Registered[]) {
        if (registered.listener === listener) emitter.off(name, registered);
      }
    },
    onAny: (listener) => {
      const registered = register(listener);
      anyListeners = [...anyListeners, registered];
      return () => {
        anyListeners = anyListeners.filter((item) => item !== registered);
      };
    },
    emit: (event) => {
      emitter.emit(event.type, event);
      for (const registered of anyListeners) registered(event);
    },
  };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}
