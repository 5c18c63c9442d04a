import type { StateStore } from '../contracts/state-store.ts';
import { toCoreError } from '../errors.ts';
import type { Logger } from '../logger.ts';

export interface ReplicaLeasesOptions {
  readonly store: StateStore;
  /** This replica's name in the store's leases. */
  readonly holder: string;
  readonly ttlMs: number;
  readonly logger: Logger;
  /** Another replica took a stage this replica was working on (this one lost contact too long). */
  readonly onLost: (key: string) => void;
  /** Leadership (who polls) changed hands. */
  readonly onLeadership: (leader: boolean) => void;
  /** After each renewal (every third of the TTL): e.g. look for work replicas that died left behind. */
  readonly onTick?: () => Promise<void>;
}

const leaderLease = 'engine:leader';
const stageLease = (key: string) => `stage:${key}`;

/**
 * How replicas on one store share the work. A replica holds a stage's lease exactly while it has
 * work there (a decision being written, a deploy queued or running), so one push makes one deploy
 * however many replicas hear of it; one replica, the leader, polls. Stores whose leases do not
 * reach other processes need none of this: their replica holds everything.
 */
export class ReplicaLeases {
  readonly #options: ReplicaLeasesOptions;
  readonly #shared: boolean;
  /** Stage key -> pieces of work this replica has there. */
  readonly #held = new Map<string, number>();
  /** Unknown until the first try, which is always reported. */
  #leader: boolean | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: ReplicaLeasesOptions) {
    this.#options = options;
    this.#shared = options.store.capabilities.sharedLeases;
  }

  get leader(): boolean {
    return this.#leader === true;
  }

  get holder(): string {
    return this.#options.holder;
  }

  /** Takes leadership if it is free, and keeps every lease alive until `close()`. */
  async start(): Promise<void> {
    await this.#tick();
    if (!this.#shared) return;
    this.#timer = setInterval(() => void this.#tick(), Math.max(50, Math.floor(this.#options.ttlMs / 3)));
    this.#timer.unref();
  }

  /** One more piece of work on a stage; `false` when another replica holds the stage. */
  async enter(key: string): Promise<boolean> {
    const count = this.#held.get(key) ?? 0;
    this.#held.set(key, count + 1);
    if (count > 0 || !this.#shared) return true;
    const lease = await this.#options.store
      .acquireLease({ name: stageLease(key), holder: this.holder, ttlMs: this.#options.ttlMs })
      .catch((error: unknown) => {
        this.#drop(key);
        throw error;
      });
    if (lease) return true;
    this.#drop(key);
    return false;
  }

  /** A piece of work on a stage ended; the last one gives the stage back. */
  async exit(key: string): Promise<void> {
    if (!this.#drop(key) || !this.#shared) return;
    await this.#options.store
      .releaseLease({ name: stageLease(key), holder: this.holder })
      .catch((error: unknown) =>
        this.#options.logger.warn(`could not give back the lease of ${key}; it expires on its own`, {
          error: toCoreError(error).message,
        }),
      );
  }

  holds(key: string): boolean {
    return this.#held.has(key);
  }

  /** Gives everything back, so that another replica takes over at once. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (!this.#shared) return;
    const names = [...this.#held.keys()].map(stageLease);
    if (this.#leader) names.push(leaderLease);
    this.#held.clear();
    if (this.#leader) this.#setLeader(false);
    await Promise.all(
      names.map((name) =>
        this.#options.store.releaseLease({ name, holder: this.holder }).catch(() => undefined),
      ),
    );
  }

  /** Returns whether the stage is given up now. */
  #drop(key: string): boolean {
    const count = (this.#held.get(key) ?? 1) - 1;
    if (count > 0) {
      this.#held.set(key, count);
      return false;
    }
    this.#held.delete(key);
    return true;
  }

  #setLeader(leader: boolean): void {
    if (leader === this.#leader) return;
    this.#leader = leader;
    this.#options.logger.info(leader ? 'this replica leads (it polls)' : 'this replica no longer leads', {
      holder: this.holder,
    });
    this.#options.onLeadership(leader);
  }

  /** Renews what is held, and tries for leadership. */
  async #tick(): Promise<void> {
    if (this.#closed) return;
    if (!this.#shared) {
      this.#setLeader(true);
      return;
    }
    const { store, ttlMs, logger } = this.#options;
    try {
      const lease = await store.acquireLease({ name: leaderLease, holder: this.holder, ttlMs });
      if (!this.#closed) this.#setLeader(lease !== undefined);
    } catch (error) {
      // Without the store nobody can renew; the lease runs out and another replica may lead.
      logger.warn('could not renew leadership', { error: toCoreError(error).message });
    }
    for (const key of [...this.#held.keys()]) {
      const renewed = await store
        .acquireLease({ name: stageLease(key), holder: this.holder, ttlMs })
        .catch((error: unknown) => {
          logger.warn(`could not renew the lease of ${key}`, { error: toCoreError(error).message });
          return true as const;
        });
      if (renewed === undefined && this.#held.has(key) && !this.#closed) {
        logger.warn(`another replica took ${key} over`, { holder: this.holder });
        this.#options.onLost(key);
      }
    }
    if (!this.#closed) await this.#options.onTick?.();
  }
}
