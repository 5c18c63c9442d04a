import type * as v from 'valibot';
import { CoreError } from '../errors.ts';
import { silentLogger } from '../logger.ts';
import {
  type Adapter,
  type AdapterContext,
  type AdapterDefinition,
  adapterId,
  type CallOptions,
} from './adapter.ts';
import type { Release, StageRef } from './release.ts';

export interface DeployTargetCapabilities {
  /** Two releases of one stage can run side by side (start the candidate before retiring the old one). */
  readonly blueGreen: boolean;
  /** The target itself rolls out canaries and can promote them. */
  readonly canary: boolean;
  /**
   * How a new release replaces the old one. `side-by-side` (the default): the candidate is an
   * instance of its own, and the old one is retired after the switch. `in-place`: the target
   * replaces the release itself (a Nomad job gets a new version), so the runner stops nothing
   * before a start and retires nothing after the switch, and `revert` is the target's own rollback.
   */
  readonly replacement?: 'side-by-side' | 'in-place';
}

export interface HealthCheckSettings {
  /** HTTP path probed on the instance's endpoint, e.g. `/health`. Without it the image's own check or "still running" decides. */
  readonly path?: string;
  /**
   * The longest pause between probes: the gate probes right after the start, then after 10 ms
   * doubling up to this. A failed probe counts toward `retries` at most once per interval.
   */
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Failed probes (after the start period), counted at most one per `intervalMs`, that fail the gate. */
  readonly retries: number;
  readonly startPeriodMs: number;
}

/** What to run for a project-stage. Adapters add their own settings through their options. */
export interface InstanceSpec extends StageRef {
  readonly deployId: string;
  /** Image repository without tag or digest, e.g. `registry.example.com/team/app`. */
  readonly image: string;
  readonly release: Release;
  /** The container port that serves traffic. */
  readonly port?: number;
  readonly env?: Readonly<Record<string, string>>;
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** One running (or stopped) release of a project-stage on a target. */
export interface Instance extends StageRef {
  /** Target-specific id (container id, Nomad job version…). */
  readonly id: string;
  readonly deployId: string;
  readonly release: Release;
  readonly state: 'running' | 'stopped' | 'exited';
  /** Where the proxy reaches it. */
  readonly endpoint?: Endpoint;
  /**
   * The candidate waits for a promotion (a canary target whose stage asks for a confirmation): the
   * runner opens an approval after the health gate and calls `promote` once it is approved.
   */
  readonly awaitingPromotion?: boolean;
}

/**
 * Something happened to a managed instance that the target did not do itself: the backend started
 * it again (a restart policy, a daemon restart, `docker restart`), or it died. Its endpoint may have
 * moved, so the engine points the stage's route at it again.
 */
export interface InstanceChange extends StageRef {
  /** The instance's id, as `list` reports it. */
  readonly id: string;
  /** `running`: it runs (again); `exited`: it stopped or died. */
  readonly state: 'running' | 'exited';
}

export type HealthStatus = 'healthy' | 'starting' | 'unhealthy' | 'exited';

export interface HealthReport {
  readonly status: HealthStatus;
  /** Why, in one line, for the deploy record (`GET /health -> 503`). */
  readonly detail?: string;
  /** The HTTP status of the probe, when it got an answer. */
  readonly httpStatus?: number;
}

export interface DeployTarget extends Adapter {
  readonly capabilities: DeployTargetCapabilities;
  /** Fetches the image so `start` is fast; progress lines go to `onLog`. */
  pull?(
    params: CallOptions & { readonly spec: InstanceSpec; readonly onLog?: (line: string) => void },
  ): Promise<void>;
  /**
   * Starts the candidate. Idempotent per `deployId`: a second call returns the instance the first
   * one started instead of starting another.
   */
  start(
    params: CallOptions & { readonly spec: InstanceSpec; readonly onLog?: (line: string) => void },
  ): Promise<Instance>;
  /** One probe of an instance's health; the engine's gate decides how often and how long. */
  checkHealth(
    params: CallOptions & { readonly instance: Instance; readonly health: HealthCheckSettings },
  ): Promise<HealthReport>;
  /**
   * Removes an instance of a release that no longer serves: after the traffic switch (the commit
   * point), or on a side-by-side target right before a recreate deploy starts its candidate (the
   * runner starts it again if the deploy fails). On an in-place target the runner never calls it; a
   * direct call stops the stage's workload. Idempotent: an instance that is gone already is fine.
   */
  retire(params: CallOptions & { readonly instance: Instance }): Promise<void>;
  /**
   * Undoes a candidate that failed before the commit point: a side-by-side target removes it; an
   * in-place target rolls back to the release before it (its native rollback). Idempotent: a
   * candidate that is gone or was replaced already is fine.
   */
  revert(params: CallOptions & { readonly instance: Instance }): Promise<void>;
  /**
   * Promotes a candidate that waits for it (an instance started with `awaitingPromotion`) and
   * resolves once the release is fully rolled out, with the instance as it is then. Only canary
   * targets have it; the runner calls it after the health gate, once the approval it opened is
   * approved.
   */
  promote?(params: CallOptions & { readonly instance: Instance }): Promise<Instance>;
  /** Managed instances, optionally of one project or stage: what runs now, and orphans after a crash. */
  list(params: CallOptions & { readonly project?: string; readonly stage?: string }): Promise<Instance[]>;
  /**
   * Reports changes of managed instances the target did not make itself (see `InstanceChange`),
   * until `signal` aborts. Resolves once it watches: changes from then on are reported. It keeps
   * watching across faults of the backend (reconnecting, and reporting every managed instance
   * after a gap, since changes in it were missed); it rejects only when `signal` aborts first.
   * Optional: without it the engine finds moved endpoints on its heal timer only.
   */
  watchInstances?(
    params: CallOptions & {
      readonly signal: AbortSignal;
      readonly onChange: (change: InstanceChange) => void;
    },
  ): Promise<void>;
  /** The last lines an instance wrote, for the deploy record of a failed gate. */
  logs?(params: CallOptions & { readonly instance: Instance; readonly tail: number }): Promise<string[]>;
  /**
   * Why one stage cannot run two releases side by side (its stage options publish a fixed host
   * port), in a few words, or `undefined` when it can. `defineDeployTarget` adds it from the
   * definition's `notSideBySide`; the engine refuses `blue-green` for such a stage and defaults it
   * to `recreate`.
   */
  notSideBySide?(ref: StageRef): string | undefined;
}

/** What a target gets at creation besides its options. */
export interface DeployTargetContext extends AdapterContext {
  /**
   * The options a stage gives this target (validated once with the definition's `stageOptions`,
   * e.g. at `projects.<p>.stages.<s>.target` of the server's config), or `undefined` for a stage
   * that gives none. A stage's settings live with the stage, not in maps keyed by stage names.
   */
  readonly stageOptions?: (ref: StageRef) => unknown;
}

export type DeployTargetDefinition<
  S extends v.GenericSchema = v.GenericSchema,
  A extends DeployTarget = DeployTarget,
> = AdapterDefinition<'target', S, A> & {
  /**
   * The schema of the options one stage gives this target (a Docker stage's published port and
   * environment, a Nomad stage's job), validated once where the stage is configured; the target
   * reads the result through `DeployTargetContext.stageOptions`. Without it a stage gives none.
   */
  readonly stageOptions?: v.GenericSchema;
  /**
   * Why a stage with these (validated) stage options cannot run two releases side by side, in a few
   * words (`publishes the fixed host port 8080`), or `undefined` when it can. Such a stage deploys
   * with `recreate`; asking it for `blue-green` is a config error at the stage.
   */
  readonly notSideBySide?: (stageOptions: unknown) => string | undefined;
  /**
   * A deprecated spelling of stage options inside the target's own options, keyed by stage names
   * (Docker's `stages`, Nomad's `jobs`), read for one release. `of` turns it into the stage options
   * of one stage, with the stage's own (validated, or `undefined`) over it; `defineDeployTarget`
   * does that once, warns once naming `key`, and the target reads only `context.stageOptions`.
   */
  readonly legacyStageOptions?: LegacyStageOptions;
};

/** A deprecated spelling of stage options in a target's own options, and how to read one stage's options from it. */
export interface LegacyStageOptions {
  /** The option that holds the old form, e.g. `stages`. */
  readonly key: string;
  /** The stage options of `ref` from the old form in `options`, `own` over them; `undefined` when neither gives any. */
  readonly of: (options: unknown, ref: StageRef, own: unknown) => unknown;
}

/** What the deprecation warning of a target's old form of stage options says after the option's path. */
export const legacyStageOptionsNote =
  "is deprecated: give each stage its own options, at projects.<project>.stages.<stage>.target in the server's config or through the target's context.stageOptions in the SDK (read until the next minor release)";

/**
 * A target written for core before `stop` split into `retire` and `revert`.
 * @deprecated Implement `retire` and `revert` instead; `defineDeployTarget` accepts this shape until
 * the next minor release (it uses `stop` for both and logs a warning once).
 */
export type LegacyDeployTarget = Omit<DeployTarget, 'retire' | 'revert'> & {
  stop(params: CallOptions & { readonly instance: Instance }): Promise<void>;
};

/** A legacy target gets `retire` and `revert` that call its `stop`; a current one is returned as is. */
function upgradeTarget<A extends DeployTarget>(target: A | LegacyDeployTarget, context: AdapterContext): A {
  const has = (name: string) => typeof (target as unknown as Record<string, unknown>)[name] === 'function';
  if (has('retire') && has('revert')) return target as A;
  if (!has('stop') || has('retire') || has('revert')) {
    const missing = ['retire', 'revert'].filter((name) => !has(name)).join(' and ');
    throw new CoreError('UNSUPPORTED', `${target.id} does not implement ${missing}()`, {
      retryable: false,
      details: { target: target.id },
    });
  }
  const legacy = target as LegacyDeployTarget;
  (context.logger ?? silentLogger).warn(
    `${legacy.id} implements stop(), which core split into retire() and revert(): stop() is used for both until the next minor release`,
    { target: legacy.id },
  );
  // Its own object stays the prototype: getters and methods that use `this` keep working.
  const upgraded = Object.create(legacy) as A & {
    retire: DeployTarget['retire'];
    revert: DeployTarget['revert'];
  };
  upgraded.retire = (params) => legacy.stop(params);
  upgraded.revert = (params) => legacy.stop(params);
  return upgraded;
}

export function defineDeployTarget<S extends v.GenericSchema, A extends DeployTarget>(
  definition: Omit<DeployTargetDefinition<S, A>, 'kind'>,
): DeployTargetDefinition<S, A>;
/** @deprecated A target with `stop` instead of `retire` and `revert`: accepted until the next minor release. */
export function defineDeployTarget<S extends v.GenericSchema, A extends LegacyDeployTarget>(
  definition: Omit<AdapterDefinition<'target', S, A>, 'kind'>,
): DeployTargetDefinition<S, Omit<A, 'stop'> & DeployTarget>;
export function defineDeployTarget<S extends v.GenericSchema>(
  definition: Omit<AdapterDefinition<'target', S, DeployTarget | LegacyDeployTarget>, 'kind'>,
): DeployTargetDefinition<S, DeployTarget> {
  const full = definition as DeployTargetDefinition<S>;
  return {
    kind: 'target',
    ...definition,
    create: (options, context: DeployTargetContext) => {
      const staged = withLegacyStageOptions(full, options, context);
      return withStageCheck(full, upgradeTarget(definition.create(options, staged), staged), staged);
    },
  };
}

/** The context with the old form of stage options read into `stageOptions`, when the options use it. */
function withLegacyStageOptions(
  definition: DeployTargetDefinition,
  options: unknown,
  context: DeployTargetContext,
): DeployTargetContext {
  const legacy = definition.legacyStageOptions;
  const old = legacy && (options as Readonly<Record<string, unknown>>)[legacy.key];
  if (!legacy || old === undefined) return context;
  const target = adapterId('target', definition.name, context.instance);
  (context.logger ?? silentLogger).warn(`${target} option ${legacy.key} ${legacyStageOptionsNote}`, {
    target,
  });
  const own = context.stageOptions;
  return { ...context, stageOptions: (ref) => legacy.of(options, ref, own?.(ref)) };
}

/** The target with `notSideBySide(ref)` from the definition's check of each stage's options. */
function withStageCheck<A extends DeployTarget>(
  definition: DeployTargetDefinition,
  target: A,
  context: DeployTargetContext,
): A {
  const check = definition.notSideBySide;
  if (!check || target.notSideBySide) return target;
  const upgraded = Object.create(target) as A & { notSideBySide: DeployTarget['notSideBySide'] };
  upgraded.notSideBySide = (ref) => {
    const options = context.stageOptions?.(ref);
    return options === undefined ? undefined : check(options);
  };
  return upgraded;
}
