import { type Engine, type StateStore, toCoreError } from '@docker-watcher/core';

/** How long `/readyz` waits for the store's write before it says the store does not answer. */
const readyWriteTimeoutMs = 2_000;

/**
 * Ready means taking work, and work needs a store that writes (leases, deploy records): a store that
 * only reads keeps the API up and the replica out of rotation. Anyone may ask and each check is a
 * write, so one answer stands for `checkMs` (default 1 s).
 */
export function storeReadiness(
  engine: Engine,
  store: StateStore,
  checkMs = 1_000,
): () => Promise<string | undefined> {
  let last: { at: number; problem: Promise<string | undefined> } | undefined;
  return () => {
    const now = Date.now();
    if (last && now - last.at < checkMs) return last.problem;
    const { holder } = engine.leadership();
    const problem = store
      .acquireLease({
        name: `readyz:${holder}`,
        holder,
        ttlMs: 60_000,
        signal: AbortSignal.timeout(readyWriteTimeoutMs),
      })
      .then(
        () => undefined,
        (error: unknown) => {
          const { code, message } = toCoreError(error);
          return `the store cannot write (${code}: ${message})`;
        },
      );
    last = { at: now, problem };
    return problem;
  };
}
