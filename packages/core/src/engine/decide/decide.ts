import type { Release } from '../../contracts/release.ts';
import type { Approval, DeployRecord, StageState } from '../../contracts/state-store.ts';
import type { EngineStage } from '../engine-config.ts';
import { updateWindowAt } from './update-window.ts';

/** What should happen in a stage now, and why (for people: logs, the API, `plan`). */
export type StageDecision =
  | {
      readonly action: 'none';
      readonly reason: string;
      readonly release?: Release;
      /** Set while the stage waits for a retry (a registry or infrastructure fault) or its update window: when it comes. */
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
  /** Now, in ms since the epoch; `Date.now()` when absent. */
  readonly now?: number;
  /**
   * The pause after the first failure of ours, doubling with each in a row (max 30 min), for stages
   * that set no `deployRetryBaseMs` of their own. Default `defaultDeployRetryBaseMs`.
   */
  readonly retryBaseMs?: number;
}

/** The first pause before a release whose deploy failed for reasons of ours is tried again. */
export const defaultDeployRetryBaseMs = 30_000;

/** The longest pause between retries of a release whose deploys failed for reasons of ours. */
export const maxRetryPauseMs = 30 * 60_000;

/**
 * Deploys of `candidate` that failed for reasons of ours since its last release-fault or success,
 * newest first; and whether one failed on its own merits. Records from before faults were told
 * apart count as the release's.
 */
function failuresOf(recent: readonly DeployRecord[], candidate: Release) {
  const failed = recent.filter(
    (d) =>
      d.finished &&
      d.state !== 'succeeded' &&
      d.state !== 'cancelled' &&
      d.trigger !== 'rollback' &&
      same(d.release, candidate),
  );
  const own = failed.find((d) => (d.error?.fault ?? 'release') === 'release');
  const ours: DeployRecord[] = [];
  for (const d of failed) {
    if (d === own) break;
    ours.push(d);
  }
  return { own, ours };
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
  // A release that failed here on its own merits is not retried on its own: a new push, or a
  // person, moves on. One that failed for reasons of ours (an engine, proxy or store fault, a
  // restart, a cancel) is tried again, after a pause that doubles with each such failure in a row.
  const { own, ours } = failuresOf(input.recentDeploys, candidate);
  if (own) {
    return {
      action: 'none',
      reason: `${candidate.tag} failed here before (${own.id}); deploy it by hand to retry`,
      release: candidate,
    };
  }
  const last = ours[0];
  if (last) {
    const base = stage.deployRetryBaseMs ?? input.retryBaseMs ?? defaultDeployRetryBaseMs;
    const pause = Math.min(base * 2 ** (ours.length - 1), maxRetryPauseMs);
    const retryAt = Date.parse(last.updatedAt) + pause;
    if ((input.now ?? Date.now()) < retryAt) {
      const at = new Date(retryAt).toISOString();
      return {
        action: 'none',
        reason: `${candidate.tag} failed for reasons of ours (${last.error?.message ?? last.state}); retrying at ${at}`,
        release: candidate,
        retryAt: at,
      };
    }
  }
  const autoDeploy = state?.autoDeploy ?? stage.autoDeploy;
  if (stage.confirm) {
    // The confirmation is the manual trigger: with auto-deploy off, a new release still asks for
    // it (the plan's `auto_deploy: false, confirm: true`), and approving deploys it. A `closed`
    // approval (its release was deployed by another route) decides nothing.
    const decided = input.approvals.find(
      (a) => same(a.release, candidate) && (a.status === 'approved' || a.status === 'rejected'),
    );
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
  // Outside its update window a stage waits, visibly, and looks again when the window opens.
  if (stage.updateWindow) {
    const now = input.now ?? Date.now();
    const window = updateWindowAt(stage.updateWindow, now);
    if (!window.open)
      return {
        action: 'none',
        reason: `${candidate.tag} is waiting for the update window ${stage.updateWindow.text}`,
        release: candidate,
        retryAt: new Date(window.opensAt).toISOString(),
      };
  }
  const why = state?.pin
    ? `pinned to ${state.pin}`
    : stage.promoteFrom
      ? `proven in ${stage.promoteFrom}`
      : 'newest release the policy allows';
  return { action: 'deploy', release: candidate, reason: why };
}
