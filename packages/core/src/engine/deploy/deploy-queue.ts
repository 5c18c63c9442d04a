import { randomUUID } from 'node:crypto';
import type { DeployTarget } from '../../contracts/deploy-target.ts';
import { type Release, type StageRef, sameRelease, stageKey } from '../../contracts/release.ts';
import type { ReverseProxy } from '../../contracts/reverse-proxy.ts';
import type {
  DeployRecord,
  DeployTrigger,
  StageState,
  StageStateInit,
  StateStore,
} from '../../contracts/state-store.ts';
import { CoreError } from '../../errors.ts';
import type { EventBus } from '../../events.ts';
import type { Logger } from '../../logger.ts';
import { runDeploy } from '../deploy-runner.ts';
import type { StageDeploySettings } from '../deploy-settings.ts';
import { assertTransition } from '../deploy-states.ts';
import type { StageNotices } from '../notify/stage-notices.ts';
import type { ReplicaLeases } from '../replica-leases.ts';
import { StageQueue } from './stage-queue.ts';

interface DeployJob {
  readonly deployId: string;
  readonly ref: StageRef;
}

export interface DeployQueueOptions {
  readonly store: StateStore;
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly notices: StageNotices;
  readonly leases: ReplicaLeases;
  readonly targetOf: (ref: StageRef) => DeployTarget;
  readonly proxy?: ReverseProxy;
  /** Deploys running at once across all stages. */
  readonly concurrency: number;
  /** The deploy settings of a stage the config has (`NOT_FOUND` for one it does not). */
  readonly settingsOf: (ref: StageRef) => StageDeploySettings;
  /** Whether the config has the stage (a deploy of a removed stage is not taken over). */
  readonly knows: (ref: StageRef) => boolean;
  readonly readState: (ref: StageRef) => Promise<StageState | undefined>;
  readonly updateState: (
    ref: StageRef,
    change: (state: StageStateInit) => StageStateInit,
  ) => Promise<StageState>;
  /** What follows a deploy that ran here (its leftovers, a retry, approvals, promoted stages). */
  readonly onFinished: (record: DeployRecord) => Promise<void>;
  /** Whether the engine stops: new deploys stay pending in the store for the next start. */
  readonly stopping: () => boolean;
  /** Keeps the engine's stop waiting for a deploy. */
  readonly track: <T>(work: Promise<T>) => Promise<T>;
  /** The engine's lifetime: running deploys are cancelled to a safe state when it ends. */
  readonly signal: AbortSignal;
}

/**
 * The deploys this replica queues and runs: one at a time per stage (a newer one waiting replaces
 * the one waiting before it), `concurrency` at once across stages, each under its stage's lease.
 * Deploys are recorded in the store before they queue, so that a restart (or another replica, once
 * the lease lapses) resumes or rolls back what did not finish.
 */
export class DeployQueue {
  readonly #options: DeployQueueOptions;
  readonly #queue: StageQueue<DeployJob>;
  /** Cancellation handles of running deploys. */
  readonly #cancellers = new Map<string, AbortController>();
  /** Deploys this replica queued or runs, by stage: the rest of the store's unfinished ones are other replicas'. */
  readonly #local = new Map<string, Set<string>>();

  constructor(options: DeployQueueOptions) {
    this.#options = options;
    this.#queue = new StageQueue<DeployJob>({
      limit: options.concurrency,
      run: (key, job) => this.#run(key, job),
      onSuperseded: async (key, job, by) => {
        await this.cancelPending(job.deployId, `superseded by ${by.deployId}`).finally(() =>
          this.#settle(key, job.deployId),
        );
      },
    });
  }

  /** Records a deploy of the release and queues it, under the stage's lease (`CONFLICT` when another replica holds it). */
  async enqueue(
    ref: StageRef,
    release: Release,
    trigger: DeployTrigger,
    reason: string,
    by?: string,
  ): Promise<DeployRecord> {
    const { leases, stopping } = this.#options;
    const key = stageKey(ref);
    if (!(await leases.enter(key))) throw busyElsewhere(key);
    let record: DeployRecord | undefined;
    try {
      record = await this.#createQueued(ref, release, trigger, reason, by);
      // A stopping engine (a reload) runs nothing new: the next start runs it, under its config.
      if (stopping()) {
        await leases.exit(key);
        return record;
      }
      this.#addLocal(key, record.id);
      await this.#queue.push(key, { deployId: record.id, ref });
      return record;
    } catch (error) {
      if (record) this.#local.get(key)?.delete(record.id);
      await leases.exit(key);
      throw error;
    }
  }

  /** `enqueue` for a person's request: the same release already under way in the stage is the answer. */
  async enqueueOnce(
    ref: StageRef,
    release: Release,
    trigger: DeployTrigger,
    reason: string,
    by: string | undefined,
  ): Promise<DeployRecord> {
    return (await this.inFlightFor(ref, release)) ?? this.enqueue(ref, release, trigger, reason, by);
  }

  /** A deploy of this release that is queued or running in the stage: a second request gets it. */
  async inFlightFor(ref: StageRef, release: Release): Promise<DeployRecord | undefined> {
    return (await this.#options.store.listDeploys({ ...ref, unfinished: true, limit: 20 })).find((d) =>
      sameRelease(d.release, release),
    );
  }

  /** A deploy that never started goes straight to cancelled, with the reason in its journal. */
  async cancelPending(id: string, note: string): Promise<DeployRecord | undefined> {
    const { store, notices } = this.#options;
    const record = await store.getDeploy({ id });
    if (!record || record.finished) return record;
    assertTransition(record.state, 'cancelled');
    const cancelled = await store.updateDeploy({
      id: record.id,
      expectedRevision: record.revision,
      update: { state: 'cancelled', finished: true, note },
    });
    notices.cancelled(record);
    return cancelled;
  }

  /** Takes a deploy out of this replica's queue when it waits there (it never starts). */
  async dequeue(key: string, id: string): Promise<void> {
    if (this.#queue.waiting(key)?.deployId !== id) return;
    this.#queue.remove(key);
    await this.#settle(key, id);
  }

  /** The cancellation handle of a deploy this replica runs. */
  cancellerOf(id: string): AbortController | undefined {
    return this.#cancellers.get(id);
  }

  /** Another replica took the stage over: this replica's deploys there stop. */
  lost(key: string): void {
    for (const id of this.#local.get(key) ?? [])
      this.#cancellers.get(id)?.abort(new CoreError('CONFLICT', `Another replica took ${key} over`));
  }

  /** Whether a deploy runs or waits in the stage. */
  busy(key: string): boolean {
    return this.#queue.isRunning(key) || this.#queue.waiting(key) !== undefined;
  }

  /**
   * Deploys left unfinished (by a crash here, or by a replica that gave up): whoever takes their
   * stage's lease first resumes or rolls them back.
   */
  async adopt(records: readonly DeployRecord[]): Promise<void> {
    const { leases, store, logger, knows } = this.#options;
    for (const record of records) {
      const key = stageKey(record);
      if (!knows(record) || this.#local.get(key)?.has(record.id)) continue;
      if (!(await leases.enter(key))) continue;
      const current = await store.getDeploy({ id: record.id }).catch(() => undefined);
      if (!current || current.finished) {
        await leases.exit(key);
        continue;
      }
      logger.info(`taking over unfinished deploy ${record.id} of ${key}`, { deployId: record.id });
      this.#addLocal(key, record.id);
      await this.#queue.push(key, {
        deployId: record.id,
        ref: { project: record.project, stage: record.stage },
      });
    }
  }

  /** Waiting deploys stay pending in the store; the next start (or another replica) runs them. */
  async clear(): Promise<void> {
    for (const [key, job] of this.#queue.clear()) {
      this.#options.logger.info(`deploy ${job.deployId} stays queued for the next start`);
      await this.#settle(key, job.deployId);
    }
  }

  /** Resolves when no deploy runs or waits. */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  async #run(key: string, job: DeployJob): Promise<void> {
    const { store, bus, logger, proxy, targetOf, settingsOf, track, signal } = this.#options;
    const settings = settingsOf(job.ref);
    const canceller = new AbortController();
    this.#cancellers.set(job.deployId, canceller);
    const finished = await track(
      runDeploy(
        { store, target: targetOf(job.ref), ...(proxy ? { proxy } : {}), bus, logger },
        { deployId: job.deployId, settings, signal: AbortSignal.any([signal, canceller.signal]) },
      ),
    ).finally(() => {
      this.#cancellers.delete(job.deployId);
      return this.#settle(key, job.deployId);
    });
    await this.#options.onFinished(finished);
  }

  async #createQueued(
    ref: StageRef,
    release: Release,
    trigger: DeployTrigger,
    reason: string,
    by: string | undefined,
  ): Promise<DeployRecord> {
    const { store, readState, updateState, notices } = this.#options;
    const state = await readState(ref);
    const record = await store.createDeploy({
      deploy: {
        id: randomUUID(),
        project: ref.project,
        stage: ref.stage,
        release,
        ...(state?.actual ? { previous: state.actual } : {}),
        trigger,
        ...(by === undefined ? {} : { by }),
        state: 'pending',
        data: {},
      },
    });
    await updateState(ref, (s) => ({ ...s, desired: { ...release, reason } }));
    notices.queued(record, trigger, by);
    return record;
  }

  #addLocal(key: string, id: string): void {
    this.#local.set(key, (this.#local.get(key) ?? new Set()).add(id));
  }

  /** A deploy of this replica left its queue (finished, superseded, cancelled): its share of the stage's lease goes. */
  async #settle(key: string, id: string): Promise<void> {
    const jobs = this.#local.get(key);
    jobs?.delete(id);
    if (jobs?.size === 0) this.#local.delete(key);
    await this.#options.leases.exit(key);
  }
}

/** Another replica holds the stage's lease. */
export const busyElsewhere = (key: string): CoreError =>
  new CoreError(
    'CONFLICT',
    `Another replica is working on ${key} now; try again when its deploy has finished`,
  );
