import type { Registry } from '../contracts/registry.ts';
import type { TagPolicy } from '../policy/index.ts';
import type { UpdateWindow } from './decide/update-window.ts';
import type { StageDeploySettings } from './deploy-settings.ts';

/** Stage deploy settings as given: strategy defaults to blue-green where the target can, health to `defaultHealthCheck`. */
export type StageDeployInput = Omit<StageDeploySettings, 'strategy' | 'health'> &
  Partial<Pick<StageDeploySettings, 'strategy' | 'health'>>;

/** One stage of a project as the engine sees it: compiled policy and gates. */
export interface EngineStage {
  readonly policy: TagPolicy;
  /** Initial auto-deploy switch; afterwards the stored state is what counts. */
  readonly autoDeploy: boolean;
  /** A person confirms each new release before it is deployed. */
  readonly confirm?: boolean;
  /** Deploy only what succeeded in this other stage of the project, by digest. */
  readonly promoteFrom?: string;
  /** Initial pin (a tag whose digest is watched); afterwards the stored state is what counts. */
  readonly pin?: string;
  /**
   * First pause before a release whose deploy failed for reasons of ours is tried again here
   * (doubling with each such failure in a row, max 30 min); the engine's `deployRetryBaseMs` when unset.
   */
  readonly deployRetryBaseMs?: number;
  /** New releases are deployed on their own only within these hours; outside, they wait for it to open. */
  readonly updateWindow?: UpdateWindow;
  readonly deploy: StageDeployInput;
}

export interface EngineProject {
  readonly id: string;
  /** Key into the engine's registries. */
  readonly registry: string;
  /** Repository path in that registry, e.g. `team/web-app`. */
  readonly repository: string;
  readonly stages: Readonly<Record<string, EngineStage>>;
}

export interface EngineRegistries {
  readonly [name: string]: Registry;
}
