import type { DeployTarget, Instance } from '../contracts/deploy-target.ts';
import type { StageRef } from '../contracts/release.ts';
import type { DeployRecord, StateStore } from '../contracts/state-store.ts';
import { CoreError, isCoreError, toCoreError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { withDeadline } from './step-deadline.ts';

/**
 * A candidate a failed deploy's rollback could not remove (its target did not answer), kept in the
 * deploy record's `data.leftover` so that a restart still knows of it. The leader removes it once the
 * target answers, whatever later deploys do; `removedAt` says when.
 */
export interface Leftover {
  /** The instance the rollback knew of; without it, every instance of the deploy is a leftover. */
  readonly instanceId?: string;
  /** When the rollback gave up on it (ISO 8601). */
  readonly since: string;
  /** Why the rollback could not remove it. */
  readonly reason: string;
  /** When it was removed (ISO 8601). */
  readonly removedAt?: string;
}

/** What `/api/status` shows of a leftover that is not removed yet. */
export interface LeftoverStatus extends StageRef {
  readonly deployId: string;
  readonly instanceId?: string;
  readonly since: string;
  readonly reason: string;
  /** Attempts to remove it so far, and why the last one failed. */
  readonly attempts: number;
  readonly lastError?: string;
  readonly nextAttemptAt?: string;
}

/** The leftover a deploy record names and that is still there, if any. */
export function pendingLeftover(record: DeployRecord): Leftover | undefined {
  const leftover = record.data.leftover as Leftover | undefined;
  return leftover && typeof leftover === 'object' && !leftover.removedAt ? leftover : undefined;
}

interface Entry extends StageRef {
  readonly deployId: string;
  readonly leftover: Leftover;
  attempts: number;
  lastError?: string;
  nextAt?: number;
  timer?: NodeJS.Timeout;
  running?: boolean;
}

export interface LeftoverSweeperOptions {
  readonly store: StateStore;
  /** The target of a stage: where its leftover runs. */
  readonly targetOf: (ref: StageRef) => DeployTarget;
  readonly logger: Logger;
  /** The stop deadline of a stage's steps. */
  readonly stopMs: (ref: StageRef) => number;
  /** Whether this replica sweeps now (the leader does); others wait for their turn. */
  readonly active: () => boolean;
  /** Whether an instance takes the stage's traffic now (its route points at it): never removed then. */
  readonly serving?: (ref: StageRef, instance: Instance) => Promise<boolean>;
  /** First pause after a failed attempt; doubles with each failure in a row up to `maxMs`. */
  readonly baseMs: number;
  readonly maxMs: number;
}

/**
 * Removes the candidates failed rollbacks left behind: those named by deploy records (at start-up and
 * when a deploy ends with one), each tried again with backoff until its target answers.
 */
export class LeftoverSweeper {
  readonly #options: LeftoverSweeperOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #lifetime = new AbortController();
  #loaded = false;

  constructor(options: LeftoverSweeperOptions) {
    this.#options = options;
  }

  /** Whether the store was read once since start (or since this replica took the lead). */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** Reads what failed deploys left behind from the store. Throws when the store does not answer. */
  async load(): Promise<void> {
    const records = await this.#options.store.listDeploys({ states: ['failed'], limit: 1000 });
    for (const record of records) this.add(record);
    this.#loaded = true;
  }

  /** Sweeps the leftover a finished deploy names, if any (now, then with backoff). */
  add(record: DeployRecord): void {
    const leftover = pendingLeftover(record);
    // An unfinished deploy is rolled back again when taken up: its own rollback meets the candidate.
    if (!leftover || !record.finished || this.#entries.has(record.id) || this.#lifetime.signal.aborted)
      return;
    const entry: Entry = {
      project: record.project,
      stage: record.stage,
      deployId: record.id,
      leftover,
      attempts: 0,
    };
    this.#entries.set(record.id, entry);
    this.#schedule(entry, 0);
  }

  /** Leftovers not removed yet, oldest first. */
  list(): LeftoverStatus[] {
    return [...this.#entries.values()]
      .map((e) => ({
        project: e.project,
        stage: e.stage,
        deployId: e.deployId,
        ...(e.leftover.instanceId === undefined ? {} : { instanceId: e.leftover.instanceId }),
        since: e.leftover.since,
        reason: e.leftover.reason,
        attempts: e.attempts,
        ...(e.lastError === undefined ? {} : { lastError: e.lastError }),
        ...(e.nextAt === undefined ? {} : { nextAttemptAt: new Date(e.nextAt).toISOString() }),
      }))
      .sort((a, b) => a.since.localeCompare(b.since));
  }

  /** Stops every timer; what is not removed yet stays in the store for the next start. */
  stop(): void {
    this.#lifetime.abort(new CoreError('ABORTED', 'The engine is stopping'));
    for (const entry of this.#entries.values()) if (entry.timer) clearTimeout(entry.timer);
    this.#entries.clear();
  }

  #schedule(entry: Entry, ms: number): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.nextAt = Date.now() + ms;
    entry.timer = setTimeout(() => void this.#attempt(entry), ms);
    entry.timer.unref();
  }

  async #attempt(entry: Entry): Promise<void> {
    const { logger, active, baseMs, maxMs } = this.#options;
    if (this.#lifetime.signal.aborted || entry.running) return;
    if (!active()) return this.#schedule(entry, baseMs);
    entry.running = true;
    try {
      const removed = await this.#remove(entry);
      await this.#recordRemoved(entry, removed);
      this.#entries.delete(entry.deployId);
      logger.info(`removed the candidate deploy ${entry.deployId} left behind`, {
        deployId: entry.deployId,
        project: entry.project,
        stage: entry.stage,
        instances: removed.length,
      });
    } catch (error) {
      if (this.#lifetime.signal.aborted) return;
      const failure = toCoreError(error);
      entry.attempts += 1;
      entry.lastError = failure.message;
      const pause = Math.min(maxMs, baseMs * 2 ** Math.min(20, entry.attempts - 1));
      logger.warn(`could not remove the candidate deploy ${entry.deployId} left behind; trying again`, {
        deployId: entry.deployId,
        project: entry.project,
        stage: entry.stage,
        attempts: entry.attempts,
        error: failure.message,
        retryInMs: pause,
      });
      this.#schedule(entry, pause);
    } finally {
      entry.running = false;
    }
  }

  /** Reverts every instance of the deploy (the one the rollback knew of, or any it started). */
  async #remove(entry: Entry): Promise<Instance[]> {
    const { targetOf, stopMs, serving } = this.#options;
    const target = targetOf(entry);
    const ms = stopMs(entry);
    const signal = this.#lifetime.signal;
    const instances = (
      await withDeadline(
        'listing the stage',
        ms,
        (s) => target.list({ project: entry.project, stage: entry.stage, signal: s }),
        signal,
      )
    ).filter((i) => i.deployId === entry.deployId);
    for (const instance of instances) {
      // A rollback that failed after the switch may have left the route on it: healing moves it first.
      if (await serving?.(entry, instance))
        throw new CoreError('CONFLICT', `${instance.id} still takes the stage's traffic`);
      await withDeadline(
        'removing the leftover candidate',
        ms,
        (s) => target.revert({ instance, signal: s }),
        signal,
      );
    }
    return instances;
  }

  /** Writes `removedAt` (and a journal note) so that no later start sweeps it again. */
  async #recordRemoved(entry: Entry, removed: readonly Instance[]): Promise<void> {
    const { store } = this.#options;
    const at = new Date().toISOString();
    const note =
      removed.length > 0
        ? `removed the candidate the rollback left behind (${removed.map((i) => i.id).join(', ')})`
        : 'the candidate the rollback left behind is gone';
    for (let attempt = 1; ; attempt++) {
      const record = await store.getDeploy({ id: entry.deployId });
      if (!record || !pendingLeftover(record)) return;
      try {
        await store.updateDeploy({
          id: record.id,
          expectedRevision: record.revision,
          update: { data: { leftover: { ...entry.leftover, removedAt: at } }, note },
        });
        await store.appendLog({ deployId: record.id, lines: [{ at, level: 'info', line: note }] });
        return;
      } catch (error) {
        if (!isCoreError(error, 'CONFLICT') || attempt >= 3) throw error;
      }
    }
  }
}
