import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StageStateInit } from '../contracts/state-store.ts';
import { createMemoryStateStore } from './memory-state-store.ts';

const stage: StageStateInit = {
  project: 'web',
  stage: 'dev',
  autoDeploy: true,
  history: [],
};

afterEach(() => {
  vi.useRealTimers();
});

describe('createMemoryStateStore', () => {
  it('bounds stage history to historyLimit, newest first', async () => {
    const store = createMemoryStateStore({ historyLimit: 2 });
    const history = ['c', 'b', 'a'].map((char) => ({ tag: char, digest: `sha256:${char.repeat(64)}` }));
    const stored = await store.putStage({ state: { ...stage, history }, expectedRevision: 0 });
    expect(stored.history.map((release) => release.tag)).toEqual(['c', 'b']);
  });

  it('reports both revisions of a conflict, and rejects a negative expectedRevision', async () => {
    const store = createMemoryStateStore();
    await store.putStage({ state: stage, expectedRevision: 0 });
    await expect(store.putStage({ state: stage, expectedRevision: 0 })).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { expectedRevision: 0, actualRevision: 1 },
    });
    await expect(store.putStage({ state: stage, expectedRevision: -1 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('expires leases and remembered events on the clock, fake timers included', async () => {
    vi.useFakeTimers();
    const store = createMemoryStateStore();
    expect(await store.acquireLease({ name: 'engine', holder: 'a', ttlMs: 1_000 })).toMatchObject({
      holder: 'a',
    });
    expect(await store.rememberEvent({ source: 'gitea', eventId: 'e1', ttlMs: 1_000 })).toBe(true);
    vi.advanceTimersByTime(999);
    expect(await store.acquireLease({ name: 'engine', holder: 'b', ttlMs: 1_000 })).toBeUndefined();
    expect(await store.rememberEvent({ source: 'gitea', eventId: 'e1', ttlMs: 1_000 })).toBe(false);
    vi.advanceTimersByTime(2_000);
    expect(await store.acquireLease({ name: 'engine', holder: 'b', ttlMs: 1_000 })).toMatchObject({
      holder: 'b',
    });
    expect(await store.rememberEvent({ source: 'gitea', eventId: 'e1', ttlMs: 1_000 })).toBe(true);
  });

  it('lists every approval without parameters, in the order first put', async () => {
    const store = createMemoryStateStore();
    const base = {
      stage: 'prod',
      release: { tag: 'v1', digest: `sha256:${'a'.repeat(64)}` },
      status: 'pending' as const,
      requestedAt: 'now',
    };
    await store.putApproval({ approval: { ...base, id: 'a1', project: 'web' } });
    await store.putApproval({ approval: { ...base, id: 'a2', project: 'api' } });
    expect((await store.listApprovals()).map((approval) => approval.id)).toEqual(['a1', 'a2']);
  });

  it('writes nothing when a write fault fires before the effect', async () => {
    const store = createMemoryStateStore();
    store.faults.failNext('putStage', 'UNAVAILABLE');
    await expect(store.putStage({ state: stage, expectedRevision: 0 })).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    expect(await store.getStage(stage)).toBeUndefined();
  });
});
