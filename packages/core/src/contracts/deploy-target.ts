import type * as v from 'valibot';
import type { Adapter, AdapterDefinition, CallOptions } from './adapter.ts';
import type { Release, StageRef } from './release.ts';

export interface DeployTargetCapabilities {
  /** Two releases of one stage can run side by side (start the candidate before retiring the old one). */
  readonly blueGreen: boolean;
  /** The target itself rolls out canaries and can promote them. */
  readonly canary: boolean;
}

export interface HealthCheckSettings {
  /** HTTP path probed on the instance's endpoint, e.g. `/health`. Without it the image's own check or "still running" decides. */
  readonly path?: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Consecutive failed probes (after the start period) that fail the gate. */
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
  /** Stops and removes an instance. Idempotent: an instance that is gone already is fine. */
  stop(params: CallOptions & { readonly instance: Instance }): Promise<void>;
  /** Managed instances, optionally of one project or stage: what runs now, and orphans after a crash. */
  list(params: CallOptions & { readonly project?: string; readonly stage?: string }): Promise<Instance[]>;
  /** The last lines an instance wrote, for the deploy record of a failed gate. */
  logs?(params: CallOptions & { readonly instance: Instance; readonly tail: number }): Promise<string[]>;
}

export type DeployTargetDefinition<
  S extends v.GenericSchema = v.GenericSchema,
  A extends DeployTarget = DeployTarget,
> = AdapterDefinition<'target', S, A>;

export function defineDeployTarget<S extends v.GenericSchema, A extends DeployTarget>(
  definition: Omit<DeployTargetDefinition<S, A>, 'kind'>,
): DeployTargetDefinition<S, A> {
  return { kind: 'target', ...definition };
}
