import { describe, expect, it } from 'vitest';
import { FrameBatch, type FrameClock } from './frame-batch.ts';

/** Frames that run only when the test says so. */
function manualClock() {
  const waiting = new Map<number, () => void>();
  let next = 0;
  const clock: FrameClock = {
    request: (run) => {
      waiting.set(++next, run);
      return next;
    },
    cancel: (frame) => void waiting.delete(frame),
  };
  const frame = () => {
    const runs = [...waiting.values()];
    waiting.clear();
    for (const run of runs) run();
  };
  return { clock, frame, waiting };
}

describe('FrameBatch', () => {
  it('hands on a burst together, once, at the next frame', () => {
    const { clock, frame, waiting } = manualClock();
    const taken: number[][] = [];
    const batch = new FrameBatch<number>((items) => taken.push(items), clock);
    batch.push(1);
    batch.push(2);
    expect(waiting.size).toBe(1);
    expect(taken).toEqual([]);
    frame();
    expect(taken).toEqual([[1, 2]]);
    batch.push(3);
    frame();
    expect(taken).toEqual([[1, 2], [3]]);
  });

  it('asks for a frame again after a flush cancelled the one it had asked for', () => {
    // The deploy page closes its stream with a frame pending and opens it again: lines that come
    // after must still reach the page.
    const { clock, frame, waiting } = manualClock();
    const taken: number[][] = [];
    const batch = new FrameBatch<number>((items) => taken.push(items), clock);
    batch.push(1);
    batch.flush();
    expect(taken).toEqual([[1]]);
    expect(waiting.size).toBe(0);
    batch.push(2);
    expect(waiting.size).toBe(1);
    frame();
    expect(taken).toEqual([[1], [2]]);
  });

  it('hands on nothing when nothing is kept', () => {
    const { clock, frame } = manualClock();
    const taken: number[][] = [];
    const batch = new FrameBatch<number>((items) => taken.push(items), clock);
    batch.flush();
    frame();
    expect(taken).toEqual([]);
  });
});
