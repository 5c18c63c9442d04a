import type { DeployTarget, Instance } from '../contracts/deploy-target.ts';
import type { StageRef } from '../contracts/release.ts';
import { CoreError } from '../errors.ts';
import type { DeployStrategy } from './deploy-settings.ts';
import type { EngineProject } from './engine-config.ts';

/**
 * Which deploy target runs each stage, for an engine with several (`dev` on Docker, `prod` on
 * Nomad). An engine given one target runs every stage on it.
 */
export interface StageTargets {
  /** The target of a stage (a stage the config no longer names gets a target too: its instances are listed there). */
  of(ref: StageRef): DeployTarget;
  /** Every target, each once: what lists instances (route healing, orphans, leftovers) looks at all of them. */
  readonly all: readonly DeployTarget[];
}

const isTarget = (value: DeployTarget | StageTargets): value is DeployTarget =>
  typeof (value as Partial<DeployTarget>).start === 'function';

/** One target for every stage, or the resolver as given. */
export function stageTargetsOf(value: DeployTarget | StageTargets): StageTargets {
  if (!isTarget(value)) return value;
  return { of: () => value, all: [value] };
}

/**
 * Each target's managed instances of the stages it runs: two targets that see the same instances
 * (two named Docker targets on one engine) do not report a stage twice. `onError` hears of a target
 * that does not answer; the others' instances still count.
 */
export async function listAllInstances(
  targets: StageTargets,
  params: { readonly signal?: AbortSignal; readonly onError: (target: DeployTarget, error: unknown) => void },
): Promise<Instance[]> {
  const lists = await Promise.all(
    targets.all.map(async (target) => {
      try {
        return (await target.list({ ...(params.signal ? { signal: params.signal } : {}) })).filter(
          (instance) => targets.of(instance) === target,
        );
      } catch (error) {
        params.onError(target, error);
        return [];
      }
    }),
  );
  return lists.flat();
}

/**
 * Why a stage cannot run two releases side by side on its target, in a few words, or `undefined`:
 * the target replaces in place, or the stage's options rule it out (a fixed host port). A target
 * without `blueGreen` is not refused blue-green: some drive their own switch in its order.
 */
export function notSideBySide(target: DeployTarget, ref: StageRef): string | undefined {
  if (target.capabilities.replacement === 'in-place') return `${target.id} replaces a release in place`;
  const reason = target.notSideBySide?.(ref);
  return reason === undefined ? undefined : `this stage ${reason}`;
}

/**
 * The strategy a stage deploys with: the one given, else `blue-green` where its target can run two
 * releases side by side (and its stage options let it) and `recreate` where not. `blue-green` where
 * `notSideBySide` says it cannot is a config error at the stage's path, never a silent fallback.
 */
export function stageStrategy(target: DeployTarget, ref: StageRef, given?: DeployStrategy): DeployStrategy {
  const reason = notSideBySide(target, ref);
  if (given === 'blue-green' && reason !== undefined) {
    throw new CoreError(
      'CONFIG_INVALID',
      `projects.${ref.project}.stages.${ref.stage}.deploy.strategy: blue-green runs two releases at once, but ${reason}: use recreate`,
      { details: { project: ref.project, stage: ref.stage, target: target.id } },
    );
  }
  return given ?? (reason === undefined && target.capabilities.blueGreen ? 'blue-green' : 'recreate');
}

/** Every stage's strategy against its target, once at start: the first that cannot be is a config error at its path. */
export function checkStageStrategies(projects: readonly EngineProject[], targets: StageTargets): void {
  for (const project of projects) {
    for (const [stage, config] of Object.entries(project.stages)) {
      const ref = { project: project.id, stage };
      stageStrategy(targets.of(ref), ref, config.deploy.strategy);
    }
  }
}
