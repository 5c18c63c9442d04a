/**
 * A long loop of awaits can hold the event loop for its whole length: a store that answers without
 * I/O (SQLite runs in the calling thread, the memory store and proxy answer at once) resolves each
 * await as a microtask, so timers and sockets wait until the loop ends. At 1,000 stages one poll
 * cycle's route check held it for a quarter of a second, and every API request waited behind it.
 */
export type LoopBreaker = () => Promise<void>;

/**
 * Call the result between steps: once `budgetMs` have passed since the last pause, it pauses for one
 * turn of the event loop. On `Date.now()` and `setImmediate` as they are at the call, so that a
 * test's fake clock drives it like the loop's other timers.
 */
export function loopBreaker(budgetMs = 10): LoopBreaker {
  let since = Date.now();
  return async () => {
    if (Date.now() - since < budgetMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    since = Date.now();
  };
}
