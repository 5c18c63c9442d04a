// onChange: every committed write of any replica on the schema reaches every listener through
// LISTEN/NOTIFY; the LISTEN connection reconnects after a restart and says `resync`.
import { describe, expect, it } from 'vitest';
import type { PostgresStateStore, StoreChange } from '../src/index.ts';
import { livePostgres, rejection, sleep } from './live-postgres.ts';

const live = livePostgres();
const stage = { project: 'web-app', stage: 'dev', autoDeploy: true, history: [] };

/** Subscribes and records every change; `next()` waits for one that matches. */
function recorder(store: PostgresStateStore) {
  const changes: StoreChange[] = [];
  const waiting: Array<{ match: (change: StoreChange) => boolean; resolve: (change: StoreChange) => void }> =
    [];
  let seen = 0;
  const unsubscribe = store.onChange((change) => {
    changes.push(change);
    for (const waiter of [...waiting]) {
      if (waiter.match(change)) {
        waiting.splice(waiting.indexOf(waiter), 1);
        waiter.resolve(change);
      }
    }
  });
  live.defer(unsubscribe);
  return {
    changes,
    unsubscribe,
    /** The first change after the last one taken that matches, within 5 s. */
    next: (match: (change: StoreChange) => boolean = () => true): Promise<StoreChange> => {
      const found = changes.slice(seen).findIndex(match);
      if (found !== -1) {
        seen += found + 1;
        return Promise.resolve(changes[seen - 1] as StoreChange);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching change; got ${JSON.stringify(changes)}`)),
          5_000,
        );
        waiting.push({
          match,
          resolve: (change) => {
            clearTimeout(timer);
            seen = changes.length;
            resolve(change);
          },
        });
      });
    },
  };
}

const listeners = async (): Promise<number> =>
  (
    await live.query<{ count: number }>(
      "SELECT count(*)::int AS count FROM pg_stat_activity WHERE query = 'LISTEN docker_watcher_changes'",
    )
  )[0]?.count ?? -1;

describe('onChange', () => {
  it('tells every replica about every committed write, its own included, and nothing of other schemas', async () => {
    const first = live.store();
    const second = live.store({ schema: first.schema });
    const elsewhere = live.store();
    const seenByFirst = recorder(first);
    const seenBySecond = recorder(second);
    expect(await seenByFirst.next()).toEqual({ kind: 'resync', key: '' });
    expect(await seenBySecond.next()).toEqual({ kind: 'resync', key: '' });

    await second.putStage({ state: stage, expectedRevision: 0 });
    expect(await seenByFirst.next()).toEqual({ kind: 'stage', key: 'web-app/dev' });
    expect(await seenBySecond.next()).toEqual({ kind: 'stage', key: 'web-app/dev' });

    await elsewhere.putStage({ state: { ...stage, project: 'other' }, expectedRevision: 0 });
    // A write that loses its compare-and-set is rolled back and announces nothing.
    expect(await rejection(first.putStage({ state: stage, expectedRevision: 0 }))).toMatchObject({
      code: 'CONFLICT',
    });
    await first.createDeploy({
      deploy: {
        id: 'd-1',
        project: 'web-app',
        stage: 'dev',
        release: { tag: 'v1', digest: 'sha256:a' },
        trigger: 'auto',
        state: 'pending',
        data: {},
      },
    });
    await first.updateDeploy({ id: 'd-1', expectedRevision: 1, update: { state: 'pulling' } });
    await first.appendLog({
      deployId: 'd-1',
      lines: [{ at: new Date().toISOString(), level: 'info', line: 'x' }],
    });
    await first.putApproval({
      approval: {
        id: 'a-1',
        project: 'web-app',
        stage: 'prod',
        release: { tag: 'v1', digest: 'sha256:a' },
        status: 'pending',
        requestedAt: new Date().toISOString(),
      },
    });
    const audit = await first.appendAudit({
      event: { at: new Date().toISOString(), actor: 'a', action: 'x' },
    });
    await first.acquireLease({ name: 'engine', holder: 'a', ttlMs: 60_000 });
    await first.acquireLease({ name: 'engine', holder: 'b', ttlMs: 60_000 });
    await first.releaseLease({ name: 'engine', holder: 'a' });
    await first.rememberEvent({ source: 'registry:a', eventId: 'e-1', ttlMs: 60_000 });
    await first.rememberEvent({ source: 'registry:a', eventId: 'e-1', ttlMs: 60_000 });
    const expected: StoreChange[] = [
      { kind: 'deploy', key: 'd-1' },
      { kind: 'deploy', key: 'd-1' },
      { kind: 'log', key: 'd-1' },
      { kind: 'approval', key: 'a-1' },
      { kind: 'audit', key: String(audit.seq) },
      { kind: 'lease', key: 'engine' },
      { kind: 'lease', key: 'engine' },
      { kind: 'event', key: 'registry:a/e-1' },
    ];
    for (const change of expected) expect(await seenBySecond.next()).toEqual(change);
    await sleep(100);
    expect(seenBySecond.changes).toHaveLength(expected.length + 2);
    expect(seenByFirst.changes.map((change) => change.kind)).toEqual(
      seenBySecond.changes.map((change) => change.kind),
    );
  });

  it('keeps calling the other listeners when one throws', async () => {
    const store = live.store();
    store.onChange(() => {
      throw new Error('listener bug');
    });
    const seen = recorder(store);
    await seen.next();
    await store.appendAudit({ event: { at: new Date().toISOString(), actor: 'a', action: 'x' } });
    expect((await seen.next()).kind).toBe('audit');
  });

  it('reconnects after the server restarts, says resync, and goes on', async () => {
    const store = live.store();
    const other = live.store({ schema: store.schema });
    const seen = recorder(store);
    await seen.next((change) => change.kind === 'resync');
    await live.server.restart();
    expect(await seen.next()).toEqual({ kind: 'resync', key: '' });
    await other.putStage({ state: stage, expectedRevision: 0 });
    expect(await seen.next()).toEqual({ kind: 'stage', key: 'web-app/dev' });
  });

  it('holds its LISTEN connection only while someone listens', async () => {
    const store = live.store();
    const before = await listeners();
    const seen = recorder(store);
    await seen.next();
    expect(await listeners()).toBe(before + 1);
    seen.unsubscribe();
    for (let n = 0; n < 50 && (await listeners()) !== before; n++) await sleep(20);
    expect(await listeners()).toBe(before);
    const again = recorder(store);
    expect(await again.next()).toEqual({ kind: 'resync', key: '' });
    await store.dispose();
    for (let n = 0; n < 50 && (await listeners()) !== before; n++) await sleep(20);
    expect(await listeners()).toBe(before);
  });
});
