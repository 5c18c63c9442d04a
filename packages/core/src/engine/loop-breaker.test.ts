import { describe, expect, it } from 'vitest';
import { loopBreaker } from './loop-breaker.ts';

/** Steps of a loop whose every await resolves at once, as a synchronous store's do. */
async function run(steps: number, pause?: () => Promise<void>) {
  let timerRanAtStep: number | undefined;
  let step = 0;
  const timer = setTimeout(() => {
    timerRanAtStep = step;
  }, 0);
  // The timer is due before the loop starts.
  const due = Date.now() + 5;
  while (Date.now() < due);
  for (; step < steps; step++) {
    await Promise.resolve();
    await pause?.();
  }
  clearTimeout(timer);
  return timerRanAtStep;
}

describe('loopBreaker', () => {
  it('lets a due timer run in the middle of a loop of immediate awaits', async () => {
    // Without it, the loop holds the event loop to its end.
    expect(await run(1_000)).toBeUndefined();
    const ranAt = await run(1_000, loopBreaker(0));
    expect(ranAt).toBeDefined();
    expect(ranAt).toBeLessThan(1_000);
  });

  it('does not pause before its budget is spent', async () => {
    // A budget no loop of a test reaches: never a pause, so the timer waits for the end.
    expect(await run(1_000, loopBreaker(60_000))).toBeUndefined();
  });
});
