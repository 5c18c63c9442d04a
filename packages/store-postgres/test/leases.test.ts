// Two replicas on one database race for one lease: at no instant do two believe they lead, the
// follower takes over at its first attempt once the leader's lease expired, and the database's
// clock, not the process clock, decides expiry.
import type { Lease } from '@docker-watcher/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PostgresStateStore } from '../src/index.ts';
import { livePostgres, sleep } from './live-postgres.ts';

const live = livePostgres();

/** A stretch of time in which `holder` may act as leader: from the answer to its expiresAt. */
interface Term {
  readonly holder: string;
  /** When the call was made. */
  readonly asked: number;
  readonly from: number;
  readonly until: number;
}

function overlaps(terms: readonly Term[]): Array<[Term, Term]> {
  const found: Array<[Term, Term]> = [];
  for (const [index, a] of terms.entries()) {
    for (const b of terms.slice(index + 1)) {
      if (a.holder !== b.holder && a.from < b.until && b.from < a.until) found.push([a, b]);
    }
  }
  return found;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('leases across two replicas', () => {
  it('never has two leaders, and the follower takes over at its first attempt after the leader stops renewing', async () => {
    const first = live.store({ poolSize: 4 });
    const replicas: Record<string, PostgresStateStore> = {
      a: first,
      b: live.store({ schema: first.schema, poolSize: 4 }),
    };
    const name = 'engine';
    const ttlMs = 400;
    const pollMs = 40;
    const terms: Term[] = [];
    /** Every attempt, granted or not: what the follower was told after the leader's term ended. */
    const asks: Array<{ readonly holder: string; readonly asked: number; readonly granted: boolean }> = [];
    const renewing = new Set(['a', 'b']);
    let attempts = 0;
    // Only a safety bound for the loops: the phases below end on counts and on `renewing`, not time.
    const bound = Date.now() + 60_000;
    // The process's clock against the database's (same host): a millisecond's rounding, and then some.
    const clockSlackMs = 20;

    /** Three attempts at once per round, as several parts of one replica might make them. */
    const contend = async (holder: string) => {
      const store = replicas[holder] as PostgresStateStore;
      while (Date.now() < bound && renewing.has(holder)) {
        await Promise.all(
          [0, 1, 2].map(async () => {
            attempts += 1;
            const asked = Date.now();
            const lease: Lease | undefined = await store.acquireLease({ name, holder, ttlMs });
            asks.push({ holder, asked, granted: lease !== undefined });
            // Every grant counts, also one answered after its replica stopped trying.
            if (lease) terms.push({ holder, asked, from: Date.now(), until: Date.parse(lease.expiresAt) });
          }),
        );
        await sleep(pollMs / 2 + Math.random() * pollMs);
      }
    };

    // Both replicas contend for at least 1.5 s and at least 100 attempts: on a busy machine the
    // attempts, not the seconds, are what give an overlap the chance to show.
    const a = contend('a');
    const b = contend('b');
    const contest = Date.now() + 1_500;
    while ((attempts <= 100 || Date.now() < contest) && Date.now() < bound) await sleep(pollMs);
    const contested = attempts;
    const leader = terms.at(-1)?.holder as string;
    const follower = leader === 'a' ? 'b' : 'a';
    // The leader stops renewing (as if it hung or lost its network); the follower keeps trying.
    renewing.delete(leader);
    const stoppedAt = Date.now();
    await (leader === 'a' ? a : b);
    // The leader's attempts have all answered: its last term is known. The follower goes on until it
    // made three rounds of attempts after that term ended, and ran for 3 ttl at least.
    const lastRenewal = terms.filter((term) => term.holder === leader).at(-1) as Term;
    const afterExpiry = () =>
      asks.filter((ask) => ask.holder === follower && ask.asked >= lastRenewal.until + clockSlackMs);
    while ((afterExpiry().length < 9 || Date.now() < stoppedAt + ttlMs * 3) && Date.now() < bound)
      await sleep(pollMs);
    renewing.delete(follower);
    await Promise.all([a, b]);

    expect(contested).toBeGreaterThan(100);
    expect(overlaps(terms)).toEqual([]);
    const takeover = terms.find((term) => term.holder === follower && term.from >= stoppedAt) as Term;
    expect(takeover, 'the follower took over').toBeDefined();
    // Not before the leader's last lease could have expired on the database's clock…
    expect(takeover.from).toBeGreaterThanOrEqual(lastRenewal.asked + ttlMs);
    // …and as soon as it could: every attempt the follower made once that lease had expired was
    // granted. (Counted in attempts, not milliseconds: a busy machine stretches the polling, not this.)
    expect(afterExpiry().length).toBeGreaterThanOrEqual(9);
    expect(afterExpiry().filter((ask) => !ask.granted)).toEqual([]);
  });

  it('lets exactly one of many simultaneous first attempts win', async () => {
    const first = live.store({ poolSize: 5 });
    const second = live.store({ schema: first.schema, poolSize: 5 });
    for (let round = 0; round < 10; round++) {
      const name = `race-${round}`;
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, n) =>
          (n % 2 === 0 ? first : second).acquireLease({ name, holder: `h-${n}`, ttlMs: 60_000 }),
        ),
      );
      expect(results.filter((lease) => lease !== undefined)).toHaveLength(1);
    }
  });

  it('expire by the database clock, not the process clock', async () => {
    const first = live.store();
    const second = live.store({ schema: first.schema });
    expect(await first.acquireLease({ name: 'engine', holder: 'a', ttlMs: 60_000 })).toBeDefined();
    expect(await first.rememberEvent({ source: 'registry:a', eventId: 'e-1', ttlMs: 60_000 })).toBe(true);
    // This process's clock jumps two hours ahead (NTP step, a VM resumed): the database's has not.
    const real = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => real() + 2 * 3_600_000);
    expect(await second.acquireLease({ name: 'engine', holder: 'b', ttlMs: 60_000 })).toBeUndefined();
    expect(await second.rememberEvent({ source: 'registry:a', eventId: 'e-1', ttlMs: 60_000 })).toBe(false);
    const renewed = await first.acquireLease({ name: 'engine', holder: 'a', ttlMs: 60_000 });
    // expiresAt is on the process's own clock, so the holder compares it with its own Date.now().
    expect(Date.parse(renewed?.expiresAt ?? '')).toBeGreaterThan(Date.now());
    vi.restoreAllMocks();
    await first.releaseLease({ name: 'engine', holder: 'a' });
    expect((await second.acquireLease({ name: 'engine', holder: 'b', ttlMs: 60_000 }))?.holder).toBe('b');
  });

  it('subtract leaseMarginMs from the expiresAt a holder is given', async () => {
    const store = live.store({ leaseMarginMs: 1_000 });
    const before = Date.now();
    const lease = await store.acquireLease({ name: 'engine', holder: 'a', ttlMs: 5_000 });
    const after = Date.now();
    expect(Date.parse(lease?.expiresAt ?? '')).toBeGreaterThanOrEqual(before + 4_000);
    expect(Date.parse(lease?.expiresAt ?? '')).toBeLessThanOrEqual(after + 4_000);
  });
});
