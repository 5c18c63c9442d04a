import type { HealthCheckSettings } from '../contracts/deploy-target.ts';

/** The pause after the health gate's first probe; it doubles after each probe up to `intervalMs`. */
export const firstProbePauseMs = 10;

/**
 * When the health gate probes, and which of its failed probes count toward `retries`.
 *
 * It probes right after the start, then after pauses of 10 ms doubling up to `intervalMs`, so a
 * candidate that answers 60 ms after its start passes then, not a whole interval later. The fast
 * early probes must not use up the retries: a failed probe counts only when at least `intervalMs`
 * passed since the last counted one began (the first failure after the start period counts at
 * once), and pauses are cut short so that a probe falls on each such point. So `retries` keeps its
 * meaning of a probe every `intervalMs`: that many failures, an interval apart, fail the gate.
 *
 * Time is the wall clock, or the pauses asked for when the waits were shorter (an injected wait in
 * tests): each spacing between probes counts as the longer of the two.
 */
export function createProbeSchedule(health: Pick<HealthCheckSettings, 'intervalMs'>, now = Date.now) {
  const interval = health.intervalMs;
  let pause = Math.min(firstProbePauseMs, interval);
  /** The schedule's time at the start of the current probe. */
  let clock = 0;
  let probeStartedAt: number | undefined;
  let asked = 0;
  let lastCounted: number | undefined;
  return {
    /** Call as a probe begins. */
    probing(): void {
      const at = now();
      if (probeStartedAt !== undefined) clock += Math.max(asked, at - probeStartedAt);
      probeStartedAt = at;
      asked = 0;
    },
    /** The current probe failed: whether it counts toward the retries. */
    countFailure(): boolean {
      if (lastCounted !== undefined && clock - lastCounted < interval) return false;
      lastCounted = clock;
      return true;
    },
    /** The pause before the next probe, asked once the current probe has been judged. */
    nextPause(): number {
      const spent = probeStartedAt === undefined ? 0 : now() - probeStartedAt;
      let ms = pause;
      pause = Math.min(pause * 2, interval);
      const untilCounting = lastCounted === undefined ? 0 : lastCounted + interval - (clock + spent);
      if (untilCounting > 0) ms = Math.min(ms, untilCounting);
      asked = spent + ms;
      return ms;
    },
  };
}
