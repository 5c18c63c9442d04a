import type { HealthCheckSettings } from '../contracts/deploy-target.ts';

export type DeployStrategy = 'blue-green' | 'recreate';

/** How one project-stage is deployed: what the deploy runner needs beyond the release. */
export interface StageDeploySettings {
  /** Image repository without tag or digest, e.g. `registry.example.com/team/web-app`. */
  readonly image: string;
  readonly port?: number;
  readonly env?: Readonly<Record<string, string>>;
  /** `blue-green` needs a target that can run two releases of a stage side by side. */
  readonly strategy: DeployStrategy;
  readonly health: HealthCheckSettings;
  /** The stage's host name on the reverse proxy; without it (or without a proxy) there is no switch. */
  readonly host?: string;
  /** How long each step may take; `defaultStepDeadlines` for those not given. */
  readonly deadlines?: Partial<StepDeadlines>;
  /**
   * Blue-green: how long the old release keeps serving after the switch before it is retired
   * (default `defaultDrainMs`). Requests a proxy still sends it finish there: those in flight at
   * the switch, and those an old nginx worker routes by the config it had before a reload. The
   * new release serves from the switch on, so this does not delay serving; 0 retires at once.
   */
  readonly drainMs?: number;
}

/** One second: nginx's old workers stop routing within ~200 ms of a reload under load (bench/zero-downtime, `--proxy npm`). */
export const defaultDrainMs = 1_000;

/**
 * How long each step of a deploy may take before it fails with `TIMEOUT` (an infrastructure fault:
 * the release is tried again later). A target or proxy that accepts a call but never answers cannot
 * hold a deploy, or its cancel, for longer.
 */
export interface StepDeadlines {
  /** Pulling the image. */
  readonly pullMs: number;
  /** Creating and starting the candidate. */
  readonly startMs: number;
  /** One health probe (the gate as a whole ends by its own retries). */
  readonly probeMs: number;
  /** Reading and switching the proxy route. */
  readonly switchMs: number;
  /** Listing or stopping instances. */
  readonly stopMs: number;
  /** The whole rollback, all its retries included. */
  readonly rollbackMs: number;
  /** Waiting for a person to approve a candidate's promotion (canaries), and the promotion itself. */
  readonly promotionMs: number;
}

export const defaultStepDeadlines: StepDeadlines = {
  pullMs: 10 * 60_000,
  startMs: 2 * 60_000,
  probeMs: 30_000,
  switchMs: 60_000,
  stopMs: 2 * 60_000,
  rollbackMs: 3 * 60_000,
  promotionMs: 60 * 60_000,
};

export const defaultHealthCheck: HealthCheckSettings = {
  intervalMs: 1_000,
  timeoutMs: 2_000,
  retries: 3,
  startPeriodMs: 0,
};
