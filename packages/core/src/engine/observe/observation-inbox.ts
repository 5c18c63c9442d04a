import type { StateStore } from '../../contracts/state-store.ts';
import { type Logger, silentLogger } from '../../logger.ts';

/** A repository's key in the engine: its registry's name and its path. */
export const repoKey = (registry: string, repository: string): string => `${registry}\u0000${repository}`;

interface Held {
  readonly registry: string;
  readonly repository: string;
  mark: number;
  tags: readonly string[];
}

/**
 * The repositories webhooks reported changed and the engine has not acted on yet. Each is marked in
 * the store before the webhook is acknowledged, tried again with backoff while looking at it fails
 * (registry down, store unable to write), and cleared only once its stages acted: an accepted
 * notification is never lost to a fault or a restart.
 */
export class ObservationInbox {
  readonly #store: StateStore;
  readonly #logger: Logger;
  readonly #held = new Map<string, Held>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #stopped = false;

  constructor(options: { readonly store: StateStore; readonly logger?: Logger }) {
    this.#store = options.store;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Marks a repository in the store; throws when the store cannot write (the webhook must not be acknowledged). */
  async accept(registry: string, repository: string, tags: readonly string[]): Promise<void> {
    const marked = await this.#store.markRepository({ registry, repository, tags });
    this.#hold(marked);
  }

  /** Reads the store's marks (at start, and from other replicas); returns the keys it did not know. */
  async load(known: (key: string) => boolean): Promise<string[]> {
    const added: string[] = [];
    for (const marked of await this.#store.listRepositoryMarks()) {
      const key = repoKey(marked.registry, marked.repository);
      if (!known(key)) continue;
      if (!this.#held.has(key)) added.push(key);
      this.#hold(marked);
    }
    return added;
  }

  /** The mark a look that starts now settles, if the repository is marked. */
  current(key: string): number | undefined {
    return this.#held.get(key)?.mark;
  }

  /** Tags the repository's notifications named since its mark: their digests are resolved anew. */
  tags(key: string): readonly string[] {
    return this.#held.get(key)?.tags ?? [];
  }

  /** Since when the repository waits for a look, if it does. */
  has(key: string): boolean {
    return this.#held.has(key);
  }

  /**
   * A look that started at `mark` acted on what it found: the mark goes, unless a newer notification
   * came meanwhile. Returns false when the store could not clear it (try again later).
   */
  async settle(key: string, mark: number | undefined): Promise<boolean> {
    const held = this.#held.get(key);
    if (mark === undefined || !held) return true;
    try {
      await this.#store.clearRepositoryMark({ registry: held.registry, repository: held.repository, mark });
    } catch (error) {
      this.#logger.warn(`could not clear the mark of ${held.repository}: will look again`, {
        error: String(error),
      });
      return false;
    }
    // A newer notification (here or at another replica) keeps it: its own look settles it.
    if (this.#held.get(key)?.mark === mark) this.#held.delete(key);
    return true;
  }

  /** Runs `look` at `at` (ms since the epoch) unless one is planned already; only for marked repositories. */
  retry(key: string, at: number, look: () => void): void {
    if (this.#stopped || !this.#held.has(key) || this.#timers.has(key)) return;
    const timer = setTimeout(
      () => {
        this.#timers.delete(key);
        if (!this.#stopped) look();
      },
      Math.max(0, at - Date.now()),
    );
    this.#timers.set(key, timer);
  }

  /** Cancels planned looks; the marks stay in the store for the next start. */
  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #hold(marked: { registry: string; repository: string; mark: number; tags: readonly string[] }): void {
    const key = repoKey(marked.registry, marked.repository);
    const held = this.#held.get(key);
    if (held && held.mark >= marked.mark) return;
    this.#held.set(key, {
      registry: marked.registry,
      repository: marked.repository,
      mark: marked.mark,
      tags: marked.tags,
    });
  }
}
