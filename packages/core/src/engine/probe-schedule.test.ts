import { describe, expect, it } from 'vitest';
import { createProbeSchedule } from './probe-schedule.ts';

/** Drives a schedule on a fake clock: each probe takes `probeMs`, each pause is waited in full. */
function drive(intervalMs: number, outcomes: readonly ('fail' | 'pending')[], probeMs = 0) {
  let time = 0;
  const schedule = createProbeSchedule({ intervalMs }, () => time);
  const probes: { at: number; counted: boolean }[] = [];
  for (const outcome of outcomes) {
    schedule.probing();
    const at = time;
    time += probeMs;
    const counted = outcome === 'fail' && schedule.countFailure();
    probes.push({ at, counted });
    time += schedule.nextPause();
  }
  return probes;
}

describe('health gate probe schedule', () => {
  it('probes right after the start, then backs off from 10 ms doubling up to the interval', () => {
    const probes = drive(1_000, Array(11).fill('pending'));
    expect(probes.map((p) => p.at)).toEqual([0, 10, 30, 70, 150, 310, 630, 1270, 2270, 3270, 4270]);
  });

  it('counts failed probes once per interval, with a probe on each counting point', () => {
    const probes = drive(1_000, Array(12).fill('fail'));
    const counted = probes.filter((p) => p.counted).map((p) => p.at);
    expect(counted).toEqual([0, 1_000, 2_000, 3_000, 4_000, 5_000]);
    // The fast probes in between are there, and not counted.
    expect(probes.slice(0, 8).map((p) => p.at)).toEqual([0, 10, 30, 70, 150, 310, 630, 1_000]);
  });

  it('counts from probe start to probe start: probes slower than the interval count each', () => {
    const probes = drive(1_000, Array(5).fill('fail'), 2_000);
    expect(probes.map((p) => [p.at, p.counted])).toEqual([
      [0, true],
      [2_010, true],
      [4_030, true],
      [6_070, true],
      [8_150, true],
    ]);
  });

  it('with an interval under 10 ms, probes at the interval and counts every failure', () => {
    const probes = drive(5, Array(4).fill('fail'));
    expect(probes).toEqual([
      { at: 0, counted: true },
      { at: 5, counted: true },
      { at: 10, counted: true },
      { at: 15, counted: true },
    ]);
  });

  it('counts the pauses it asked for when the wait was shorter (an injected wait)', () => {
    const schedule = createProbeSchedule({ intervalMs: 100 }, () => 0);
    const counted: boolean[] = [];
    for (let i = 0; i < 8; i++) {
      schedule.probing();
      counted.push(schedule.countFailure());
      schedule.nextPause();
    }
    // Pauses 10, 20, 40, 30 (cut to the counting point), 100, 100, 100.
    expect(counted).toEqual([true, false, false, false, true, true, true, true]);
  });
});
