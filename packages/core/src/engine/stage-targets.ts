import type { DeployTarget, Instance } from '../contracts/deploy-target.ts';
import type { StageRef } from '../contracts/release.ts';

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
