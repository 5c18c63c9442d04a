import type { Registry } from '../../contracts/registry.ts';
import { type StageRef, stageKey } from '../../contracts/release.ts';
import { type CoreError, toCoreError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { RegistryLimiter } from '../../registry-limiter.ts';
import type { StageDecision } from '../decide/decide.ts';
import type { EngineProject } from '../engine-config.ts';
import { LookCoalescer } from './look-coalescer.ts';
import { type ObservationInbox, repoKey } from './observation-inbox.ts';
import { type PollTicks, pollTicks } from './poll-ticks.ts';
import type { Watched } from './registries.ts';
import { type RegistryView, TagNotLinkedYet } from './registry-view.ts';

export interface RepositoryLooksOptions {
  /** The engine's registries, each behind its limiter, by name. */
  readonly registries: Readonly<Record<string, Registry>>;
  readonly limiters: ReadonlyMap<string, RegistryLimiter>;
  readonly watched: ReadonlyMap<string, Watched>;
  readonly view: RegistryView;
  /** Repositories webhooks marked: a look clears a mark only once every stage acted. */
  readonly inbox: ObservationInbox;
  readonly logger: Logger;
  /** Poll cycle period, a fixed rate; 0 turns polling off (looks on notification still run). */
  readonly intervalMs: number;
  /** The second cycle comes up to this fraction of the period late, at random. */
  readonly jitter: number;
  /** Notifications following a look within this window cost one more look at its end. */
  readonly coalesceMs: number;
  /** First pause after a failed look; doubles with each failure in a row (max 30 min). */
  readonly backoffBaseMs: number;
  /** Whether this replica polls now (the leader does). */
  readonly active: () => boolean;
  /** Decides a stage and acts on it (memoised); `settled` is false when it could not act yet. */
  readonly reconcile: (ref: StageRef, signal: AbortSignal) => Promise<{ readonly settled: boolean }>;
  /** Keeps the engine's stop waiting for a look. */
  readonly track: <T>(work: Promise<T>) => Promise<T>;
  readonly onError: (adapterId: string, operation: string, error: unknown) => void;
  /** The engine's lifetime: looks started later (retries, notifications) end with it. */
  readonly signal: AbortSignal;
}

/** Looks in a row that may find the registry still linking a notified tag before the usual pace resumes. */
const unlistedLooks = 8;
const maxBackoffMs = 30 * 60_000;

/**
 * Looks at the watched repositories: one listing per repository and look, shared by every stage
 * that deploys from it. Looks come from the poll cycle (a fixed-rate schedule, each registry's
 * repositories at most its limiter's concurrency at once) and from notifications (coalesced); a
 * repository whose look failed waits, twice as long with each failure in a row.
 */
export class RepositoryLooks {
  readonly #options: RepositoryLooksOptions;
  readonly #backoffUntil = new Map<string, number>();
  readonly #failures = new Map<string, number>();
  /** Why a repository's last look failed, for `waitingFor`: cleared by the next look that acts. */
  readonly #lookFailed = new Map<string, string>();
  /** Looks in a row that found the registry still linking a notified tag. */
  readonly #unlisted = new Map<string, number>();
  readonly #looks: LookCoalescer<Watched>;
  /** When poll cycles start (from the first one, in `start`). */
  #ticks: PollTicks | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: RepositoryLooksOptions) {
    this.#options = options;
    this.#looks = new LookCoalescer<Watched>(options.coalesceMs, (key, entry) => {
      this.#backoffUntil.delete(key);
      void options.track(this.#look(entry, options.signal));
    });
  }

  /** Runs the first poll cycle; its start is where the fixed rate counts from. */
  async start(): Promise<void> {
    const { intervalMs, jitter, track } = this.#options;
    this.#ticks = pollTicks(intervalMs, Date.now(), intervalMs * Math.random() * jitter);
    await track(this.pollOnce());
  }

  /** Schedules the cycles after the first one (polling on). */
  schedule(): void {
    const { intervalMs, logger, track } = this.#options;
    if (intervalMs <= 0 || this.#stopped || !this.#ticks) return;
    const { delayMs, skipped } = this.#ticks.next(Date.now());
    if (skipped > 0)
      logger.debug(`a poll cycle took longer than the poll period: ${skipped} cycle(s) skipped`, {
        skipped,
        periodMs: intervalMs,
      });
    this.#timer = setTimeout(() => {
      void track(this.pollOnce()).finally(() => this.schedule());
    }, delayMs);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#looks.clear();
  }

  /** One poll cycle over every watched repository; followers only stand by (the leader's listings would cost the registry twice). */
  async pollOnce(): Promise<void> {
    const { signal, watched, limiters } = this.#options;
    if (!this.#options.active()) return;
    const byRegistry = new Map<string, Watched[]>();
    for (const entry of watched.values()) {
      const entries = byRegistry.get(entry.registry);
      if (entries) entries.push(entry);
      else byRegistry.set(entry.registry, [entry]);
    }
    await Promise.all(
      [...byRegistry.values()].map(async (entries) => {
        let next = 0;
        const worker = async () => {
          while (next < entries.length && !signal.aborted) {
            const entry = entries[next++]!;
            await this.#look(entry, signal);
          }
        };
        const concurrency = limiters.get(entries[0]!.registry)!.concurrency;
        await Promise.all(Array.from({ length: Math.min(concurrency, entries.length) }, worker));
      }),
    );
  }

  /** A notification (or a mark another replica left) asks for a look, coalesced with the ones around it. */
  observe(entry: Watched): void {
    if (!this.#stopped) this.#looks.observe(repoKey(entry.registry, entry.repository), entry);
  }

  /** A person asked: the next look comes now, whatever the backoff says. */
  forgetBackoff(key: string): void {
    this.#backoffUntil.delete(key);
  }

  /**
   * A repository whose last look failed (what its stages wait for, and when the next look comes), or
   * that a notification marked and no look has settled yet.
   */
  waitingFor(project: EngineProject): StageDecision | undefined {
    const { inbox } = this.#options;
    const key = repoKey(project.registry, project.repository);
    const failed = this.#lookFailed.get(key);
    // Deciding on the tags listed before the notification would name a release it made old.
    if (failed === undefined && inbox.has(key))
      return { action: 'none', reason: 'waiting: a notification is being looked at' };
    if (failed === undefined) return undefined;
    const retryAt = new Date(Math.max(Date.now(), this.#backoffUntil.get(key) ?? 0)).toISOString();
    const notified = inbox.has(key) ? 'a notification waits; ' : '';
    return { action: 'none', reason: `waiting: ${notified}${failed}; retrying at ${retryAt}`, retryAt };
  }

  /**
   * Lists one repository's tags once and reconciles every stage that watches it. A webhook's mark
   * is cleared only when every stage acted; otherwise the look is tried again after the backoff.
   */
  async #look(entry: Watched, signal: AbortSignal): Promise<void> {
    const { registries, view, inbox, track, onError, backoffBaseMs } = this.#options;
    const key = repoKey(entry.registry, entry.repository);
    const look = () => void track(this.#look(entry, this.#options.signal));
    const waitUntil = this.#backoffUntil.get(key) ?? 0;
    if (waitUntil > Date.now()) return inbox.retry(key, waitUntil, look);
    const mark = inbox.current(key);
    const registry = registries[entry.registry]!;
    let tags: string[];
    try {
      tags = await registry.listTags({ repository: entry.repository, signal });
      view.listed(key, tags);
    } catch (error) {
      if (signal.aborted) return;
      const failure = toCoreError(error);
      this.#backOff(key, failure, `listing the tags of ${entry.repository}`);
      onError(registry.id, 'listTags', failure);
      return inbox.retry(key, this.#backoffUntil.get(key)!, look);
    }
    const unlistedTags = inbox.tags(key).filter((tag) => !tags.includes(tag));
    if (this.#registryCatchingUp(key, entry.repository, unlistedTags, look)) return;
    let settled = true;
    const unlinked: string[] = [];
    for (const stage of entry.stages) {
      if (stage.config.promoteFrom) continue;
      try {
        if (!(await this.#options.reconcile(stage, signal)).settled) settled = false;
      } catch (error) {
        settled = false;
        if (error instanceof TagNotLinkedYet && (this.#unlisted.get(key) ?? 0) < unlistedLooks) {
          unlinked.push(error.tag);
          continue;
        }
        onError(registry.id, 'reconcile', error);
        if (!signal.aborted)
          this.#backOff(key, toCoreError(error), `acting on ${entry.repository} for ${stageKey(stage)}`);
      }
    }
    if (signal.aborted || this.#registryCatchingUp(key, entry.repository, unlinked, look)) return;
    if (settled && (await inbox.settle(key, mark))) {
      this.#unlisted.delete(key);
      this.#failures.delete(key);
      this.#backoffUntil.delete(key);
      this.#lookFailed.delete(key);
      return;
    }
    // Another replica held a stage, or the store could not clear the mark: look again soon.
    if ((this.#backoffUntil.get(key) ?? 0) <= Date.now())
      this.#backoffUntil.set(key, Date.now() + backoffBaseMs);
    inbox.retry(key, this.#backoffUntil.get(key)!, look);
  }

  /** After a failed look, the repository waits; twice as long with each failure in a row (max 30 min). */
  #backOff(key: string, failure: CoreError, what: string): void {
    const count = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, count);
    const pause = Math.min(this.#options.backoffBaseMs * 2 ** (count - 1), maxBackoffMs);
    this.#backoffUntil.set(key, Date.now() + Math.max(failure.retryAfterMs ?? 0, pause));
    this.#lookFailed.set(key, `${what} failed (${failure.code}: ${failure.message})`);
  }

  /**
   * Distribution notifies of a tagged push before it links the tag, and lists a tag before the tag's
   * link is written: a look in between sees the listing without the notified tag, or the tag without
   * a manifest. Acting then would settle the notification and lose the push. Such a look acts on
   * nothing: the notification stays marked ("waiting: a notification is being looked at") and the
   * look comes again soon, `unlistedLooks` times at most, then at the usual pace with a warning.
   */
  #registryCatchingUp(key: string, repository: string, tags: readonly string[], look: () => void): boolean {
    if (tags.length === 0) return false;
    const { logger, inbox } = this.#options;
    const looks = (this.#unlisted.get(key) ?? 0) + 1;
    this.#unlisted.set(key, looks);
    if (looks > unlistedLooks) {
      if (looks === unlistedLooks + 1)
        logger.warn(
          `the registry still lacks a tag of ${repository} a notification named: looking at the usual pace`,
          { repository, tags, looks: unlistedLooks },
        );
      return false;
    }
    logger.debug(`the registry lacks a tag of ${repository} a notification named, yet: looking again`, {
      repository,
      tags,
      look: looks,
    });
    inbox.retry(key, Date.now() + Math.min(50 * 2 ** looks, 2_000), look);
    return true;
  }
}
