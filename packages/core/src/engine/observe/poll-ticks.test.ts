import { describe, expect, it } from 'vitest';
import { pollTicks } from './poll-ticks.ts';

describe('poll ticks: a fixed rate on the clock', () => {
  it('starts each cycle one period after the previous start, however long the cycle took', () => {
    const ticks = pollTicks(1_000, 0);
    // The first cycle (at 0) took 70 ms: the next starts at 1000, not at 1070.
    expect(ticks.next(70)).toEqual({ delayMs: 930, skipped: 0 });
    // The one at 1000 took 999 ms.
    expect(ticks.next(1_999)).toEqual({ delayMs: 1, skipped: 0 });
    expect(ticks.next(2_000)).toEqual({ delayMs: 1_000, skipped: 0 });
  });

  it('skips the ticks a long cycle missed instead of starting them back to back', () => {
    const ticks = pollTicks(1_000, 0);
    // Ran until 2500: the ticks at 1000 and 2000 are gone; the next is 3000.
    expect(ticks.next(2_500)).toEqual({ delayMs: 500, skipped: 2 });
    // The cycle of 3000 ended exactly on the tick at 5000: that one starts at once (4000 was missed).
    expect(ticks.next(5_000)).toEqual({ delayMs: 0, skipped: 1 });
    expect(ticks.next(5_010)).toEqual({ delayMs: 990, skipped: 0 });
  });

  it('shifts every tick by the offset, and keeps the rate', () => {
    const ticks = pollTicks(1_000, 0, 250);
    expect(ticks.next(40)).toEqual({ delayMs: 1_210, skipped: 0 });
    expect(ticks.next(1_300)).toEqual({ delayMs: 950, skipped: 0 });
    expect(ticks.next(2_250)).toEqual({ delayMs: 1_000, skipped: 0 });
  });

  it('keeps polling when the clock is set back, one period from the new time', () => {
    const ticks = pollTicks(1_000, 1_000_000);
    expect(ticks.next(1_000_050)).toEqual({ delayMs: 950, skipped: 0 });
    expect(ticks.next(5_000)).toEqual({ delayMs: 1_000, skipped: 0 });
    expect(ticks.next(6_020)).toEqual({ delayMs: 980, skipped: 0 });
  });
});
