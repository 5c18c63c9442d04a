/**
 * When poll cycles start: at a fixed rate on the clock, tick n at `start + offset + n·period`, so a
 * 1 s period is 1 s from start to start however long a cycle takes. A cycle that runs past the next
 * tick skips the ticks it missed instead of starting the late ones back to back.
 */
export interface PollTicks {
  /** After a cycle ended at `now`: how long until the next tick, and how many ticks were missed. */
  next(now: number): { readonly delayMs: number; readonly skipped: number };
}

/** Ticks of `periodMs` after a first cycle that started at `start`, all of them `offsetMs` later. */
export function pollTicks(periodMs: number, start: number, offsetMs = 0): PollTicks {
  let due = start + offsetMs + periodMs;
  let last = start;
  return {
    next(now) {
      // The clock was set back: count from now, rather than wait until it reaches the old time again.
      if (now < last) due = now + periodMs;
      last = now;
      let skipped = 0;
      if (now > due) {
        skipped = Math.ceil((now - due) / periodMs);
        due += skipped * periodMs;
      }
      const delayMs = due - now;
      due += periodMs;
      return { delayMs, skipped };
    },
  };
}
