import type { Release, StageRef } from '../contracts/release.ts';
import type { StageState, StateStore } from '../contracts/state-store.ts';
import { isCoreError } from '../errors.ts';

/** How many successful releases a stage remembers, for rollback and promotion proofs. */
export const stageHistoryLimit = 20;

export function withSuccess(state: StageState | undefined, ref: StageRef, release: Release) {
  const history = [
    release,
    ...(state?.history ?? []).filter((r) => r.digest !== release.digest || r.tag !== release.tag),
  ];
  return {
    project: ref.project,
    stage: ref.stage,
    autoDeploy: state?.autoDeploy ?? true,
    ...(state?.pin === undefined ? {} : { pin: state.pin }),
    ...(state?.desired === undefined ? {} : { desired: state.desired }),
    actual: release,
    history: history.slice(0, stageHistoryLimit),
  };
}

/** Records a release as what runs now in a stage, with compare-and-set retries against concurrent writers. */
export async function recordSuccess(store: StateStore, ref: StageRef, release: Release): Promise<StageState> {
  for (let attempt = 0; ; attempt++) {
    const state = await store.getStage({ project: ref.project, stage: ref.stage });
    try {
      return await store.putStage({
        state: withSuccess(state, ref, release),
        expectedRevision: state?.revision ?? 0,
      });
    } catch (error) {
      if (!isCoreError(error, 'CONFLICT') || attempt >= 4) throw error;
    }
  }
}
