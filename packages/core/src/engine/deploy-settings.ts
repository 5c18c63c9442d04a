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
}

export const defaultHealthCheck: HealthCheckSettings = {
  intervalMs: 1_000,
  timeoutMs: 2_000,
  retries: 3,
  startPeriodMs: 0,
};
