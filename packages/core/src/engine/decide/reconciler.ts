import { randomUUID } from 'node:crypto';
import { type StageRef, stageKey } from '../../contracts/release.ts';
import type { StageState, StageStateInit, StateStore } from '../../contracts/state-store.ts';
import type { DeployQueue } from '../deploy/deploy-queue.ts';
import type { EngineStage } from '../engine-config.ts';
import type { StageNotices } from '../notify/stage-notices.ts';
import type { ReplicaLeases } from '../replica-leases.ts';
import type { StageDecision } from './decide.ts';
import type { StageDecisions } from './stage-decisions.ts';

export interface ReconcilerOptions {
  readonly store: StateStore;
  readonly decisions: StageDecisions;
  readonly deploys: DeployQueue;
  readonly notices: StageNotices;
  readonly leases: ReplicaLeases;
  readonly stageOf: (ref: StageRef) => EngineStage;
  readonly updateState: (
    ref: StageRef,
    change: (state: StageStateInit) => StageStateInit,
  ) => Promise<StageState>;
  /** Keeps the engine's stop waiting for a retry's look. */
  readonly track: <T>(work: Promise<T>) => Promise<T>;
  readonly onError: (adapterId: string, operation: string, error: unknown) => void;
  /** The engine's lifetime: retries started later end with it. */
  readonly signal: AbortSignal;
}

/**
 * Decides a stage and acts on the decision, under the stage's lease: a deploy is queued, a
 * confirmation asked for, a held release announced once. A decision that waits for a retry looks
 * at the stage again when the retry is due, polling or not.
 */
export class StageReconciler {
  readonly #options: ReconcilerOptions;
  /** Stages whose release is tried again later (its deploy failed for reasons of ours). */
  readonly #retries = new Map<string, NodeJS.Timeout>();
  #stopped = false;

  constructor(options: ReconcilerOptions) {
    this.#options = options;
  }

  /** The decision acted on (undefined when a memoised one stands). */
  async reconcile(ref: StageRef, signal?: AbortSignal, memo = false): Promise<StageDecision | undefined> {
    return (await this.reconcileStage(ref, signal, memo)).decision;
  }

  /**
   * `settled` is false when it could not act yet (another replica holds the stage): whoever asked
   * looks again later. A failure forgets the memo, so that the next look decides anew.
   */
  async reconcileStage(
    ref: StageRef,
    signal?: AbortSignal,
    memo = false,
  ): Promise<{ readonly decision?: StageDecision; readonly settled: boolean }> {
    const { decisions, leases, store } = this.#options;
    const key = stageKey(ref);
    try {
      const first = await decisions.decide(ref, signal, memo);
      if (first.decision === undefined) return { settled: true };
      if (first.decision.action === 'none') {
        if (first.decision.retryAt) this.#retryAt(ref, Date.parse(first.decision.retryAt));
        return { decision: first.decision, settled: true };
      }
      if (!(await leases.enter(key))) {
        decisions.forget(ref);
        const decision: StageDecision = {
          action: 'none',
          reason: 'another replica is working on this stage',
          release: first.decision.release,
        };
        return { decision, settled: false };
      }
      try {
        // Under the stage's lease: whatever another replica did meanwhile is in the store now.
        const state = await store.getStage(ref);
        const decision = await this.#act(ref, await decisions.decisionOf(ref, state, first.candidate));
        return { decision, settled: true };
      } finally {
        await leases.exit(key);
      }
    } catch (error) {
      decisions.forget(ref);
      throw error;
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const pending of this.#retries.values()) clearTimeout(pending);
    this.#retries.clear();
  }

  /** Looks at a stage again at `at`, when its release's retry is due (polling or not). */
  #retryAt(ref: StageRef, at: number): void {
    const key = stageKey(ref);
    if (this.#stopped || this.#retries.has(key)) return;
    const timer = setTimeout(
      () => {
        this.#retries.delete(key);
        if (this.#stopped) return;
        void this.#options
          .track(this.reconcile(ref, this.#options.signal))
          .catch((error: unknown) => this.#options.onError('engine', 'reconcile', error));
      },
      Math.max(0, at - Date.now()) + 1,
    );
    this.#retries.set(key, timer);
  }

  async #act(ref: StageRef, decision: StageDecision): Promise<StageDecision> {
    const { store, deploys, notices, stageOf, updateState } = this.#options;
    if (decision.action === 'deploy') {
      const config = stageOf(ref);
      const state = await store.getStage(ref);
      notices.selected(ref, decision.release, decision.reason);
      await deploys.enqueue(
        ref,
        decision.release,
        config.promoteFrom ? 'promotion' : state?.pin ? 'pin' : 'auto',
        decision.reason,
      );
    } else if (decision.action === 'await-confirmation') {
      const pending = await store.listApprovals({ ...ref, status: 'pending' });
      if (!pending.some((a) => a.release.digest === decision.release.digest)) {
        const approval = await store.putApproval({
          approval: {
            id: randomUUID(),
            project: ref.project,
            stage: ref.stage,
            release: decision.release,
            status: 'pending',
            requestedAt: new Date().toISOString(),
          },
        });
        const current = (await store.getStage(ref))?.actual;
        notices.awaitingConfirmation(ref, decision.release, approval.id, current);
      }
    } else if (decision.action === 'hold') {
      const state = await store.getStage(ref);
      if (state?.desired?.digest !== decision.release.digest) {
        await updateState(ref, (s) => ({ ...s, desired: { ...decision.release, reason: decision.reason } }));
        // Said once per release: the stage holds it until a person deploys it (notifiers may say so).
        notices.available(ref, decision.release, state?.actual, decision.reason);
      }
    }
    return decision;
  }
}
