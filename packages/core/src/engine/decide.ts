import type { Release } from '../contracts/release.ts';
import type { Approval, DeployRecord, StageState } from '../contracts/state-store.ts';
import type { EngineStage } from './engine-config.ts';

/** What should happen in a stage now, and why (for people: logs, the API, `plan`). */
export type StageDecision =
  | {
      readonly action: 'none';
      readonly reason: string;
      readonly release?: Release;
      /** Set while the stage waits for a retry (a registry or infrastructure fault): when it comes. */
      readonly retryAt?: string;
    }
  | { readonly action: 'deploy'; readonly release: Release; readonly reason: string }
  | { readonly action: 'await-confirmation'; readonly release: Release; readonly reason: string }
  | { readonly action: 'hold'; readonly release: Release; readonly reason: string };

export interface DecideInput {
  readonly stage: EngineStage;
  readonly state: StageState | undefined;
  /** The release the policy (or pin, or source stage) offers now; `undefined` when none fits. */
  readonly candidate: Release | undefined;
  /** Recent deploys of the stage, newest first. */
  readonly recentDeploys: readonly DeployRecord[];
  /** Approvals of the stage. */
  readonly approvals: readonly Approval[];
}

const same = (a: Release | undefined, b: Release | undefined) =>
  a !== undefined && b !== undefined && a.digest === b.digest;

/**
 * Desired versus actual, as a pure function: the same tags and state always give the same answer,
 * so turning auto-deploy back on, unpinning or restarting converges to the newest allowed release.
 */
export function decide(input: DecideInput): StageDecision {
  const { stage, state, candidate } = input;
  if (!candidate) return { action: 'none', reason: 'no release fits the policy' };
  if (same(candidate, state?.actual))
    return { action: 'none', reason: `${candidate.tag} runs already`, release: candidate };
  const active = input.recentDeploys.find((d) => !d.finished && same(d.release, candidate));
  if (active)
    return {
      action: 'none',
      reason: `${candidate.tag} is being deployed (${active.id})`,
      release: candidate,
    };
  // A release that failed here is not retried on its own: a new push, or a person, moves on.
  const failed = input.recentDeploys.find(
    (d) => d.finished && d.state !== 'succeeded' && d.state !== 'cancelled' && same(d.release, candidate),
  );
  if (failed && failed.trigger !== 'rollback') {
    return {
      action: 'none',
      reason: `${candidate.tag} failed here before (${failed.id}); deploy it by hand to retry`,
      release: candidate,
    };
  }
  const autoDeploy = state?.autoDeploy ?? stage.autoDeploy;
  if (stage.confirm) {
    // The confirmation is the manual trigger: with auto-deploy off, a new release still asks for
    // it (the plan's `auto_deploy: false, confirm: true`), and approving deploys it.
    const decided = input.approvals.find((a) => same(a.release, candidate) && a.status !== 'pending');
    if (decided?.status === 'rejected')
      return { action: 'none', reason: `${candidate.tag} was rejected`, release: candidate };
    if (decided?.status !== 'approved') {
      return {
        action: 'await-confirmation',
        release: candidate,
        reason: `${candidate.tag} waits for confirmation`,
      };
    }
    // Confirmed before, and no longer running (a rollback paused auto-deploy): a person moves on.
    if (!autoDeploy)
      return {
        action: 'hold',
        release: candidate,
        reason: `${candidate.tag} is available; auto-deploy is off`,
      };
  } else if (!autoDeploy)
    return {
      action: 'hold',
      release: candidate,
      reason: `${candidate.tag} is available; auto-deploy is off`,
    };
  const why = state?.pin
    ? `pinned to ${state.pin}`
    : stage.promoteFrom
      ? `proven in ${stage.promoteFrom}`
      : 'newest release the policy allows';
  return { action: 'deploy', release: candidate, reason: why };
}
