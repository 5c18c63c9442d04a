// Whose fault a failed deploy was, deadlines on every step, and a cancel that does not wait for a
// target that never answers.
import { describe, expect, it } from 'vitest';
import type { DeployTarget } from '../contracts/deploy-target.ts';
import type { Release } from '../contracts/release.ts';
import { CoreError } from '../errors.ts';
import { createEventBus } from '../events.ts';
import {
  createMemoryDeployTarget,
  createMemoryReverseProxy,
  createMemoryStateStore,
} from '../memory/index.ts';
import { type DeployRunnerDeps, runDeploy } from './deploy-runner.ts';
import type { StageDeploySettings } from './deploy-settings.ts';

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const v1: Release = { tag: 'v1.0.0', digest: digest(1) };
const v2: Release = { tag: 'v1.1.0', digest: digest(2) };
const host = 'stage-dev-web-app.example.com';
const never = () => new Promise<never>(() => undefined);

function setup(wrap: (target: DeployTarget) => DeployTarget = (t) => t) {
  const store = createMemoryStateStore();
  const memory = createMemoryDeployTarget({ blueGreen: true });
  const proxy = createMemoryReverseProxy();
  let target = memory as DeployTarget;
  const deps = (): DeployRunnerDeps => ({
    store,
    target,
    proxy,
    bus: createEventBus(),
    wait: async () => {},
  });
  let n = 0;
  const settings = (overrides: Partial<StageDeploySettings> = {}): StageDeploySettings => ({
    image: 'registry.example.com/team/web-app',
    port: 8080,
    strategy: 'blue-green',
    health: { path: '/health', intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 },
    host,
    deadlines: { pullMs: 100, startMs: 100, probeMs: 100, switchMs: 100, stopMs: 100, rollbackMs: 400 },
    ...overrides,
  });
  const deploy = async (
    release: Release,
    previous?: Release,
    options: { signal?: AbortSignal; settings?: Partial<StageDeploySettings> } = {},
  ) => {
    const record = await store.createDeploy({
      deploy: {
        id: `d${++n}`,
        project: 'web-app',
        stage: 'dev',
        release,
        ...(previous ? { previous } : {}),
        trigger: 'auto',
        state: 'pending',
        data: {},
      },
    });
    return runDeploy(deps(), {
      deployId: record.id,
      settings: settings(options.settings),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  };
  const running = () => memory.instances.filter((i) => i.state === 'running').map((i) => i.release.tag);
  return {
    store,
    memory,
    proxy,
    deploy,
    running,
    stall: () => {
      target = wrap(memory);
    },
  };
}

describe('whose fault a failed deploy was', () => {
  it('the release: it fails its health gate, it exits, its image cannot be started or pulled', async () => {
    const w = setup();
    await w.deploy(v1);
    w.memory.simulate(v2.digest, 'unhealthy');
    expect((await w.deploy(v2, v1)).error).toMatchObject({ fault: 'release' });
    w.memory.simulate(v2.digest, 'crashing');
    expect((await w.deploy(v2, v1)).error).toMatchObject({ fault: 'release', message: /exited/ });
    w.memory.simulate(v2.digest, 'healthy');
    w.memory.faults.failNext('start', 'BAD_REQUEST');
    expect((await w.deploy(v2, v1)).error).toMatchObject({ fault: 'release', code: 'BAD_REQUEST' });
    w.memory.faults.failNext('pull', 'NOT_FOUND');
    expect((await w.deploy(v2, v1)).error).toMatchObject({ fault: 'release', code: 'NOT_FOUND' });
    expect(w.running()).toEqual(['v1.0.0']);
  });

  it('ours: the engine unreachable, a probe or step past its deadline, a cancel, a crash', async () => {
    const w = setup();
    await w.deploy(v1);
    w.memory.faults.failNext('start', 'UNAVAILABLE');
    expect((await w.deploy(v2, v1)).error).toMatchObject({ fault: 'infrastructure', code: 'UNAVAILABLE' });
    w.memory.faults.failNext('checkHealth', 'UNAVAILABLE');
    expect((await w.deploy(v2, v1)).error).toMatchObject({ fault: 'infrastructure' });
    w.memory.faults.failNext('pull', new CoreError('NOT_FOUND', 'gone', { retryable: true }));
    w.memory.faults.failNext('pull', 'UNAUTHORIZED');
    expect((await w.deploy(v2, v1)).error).toMatchObject({ fault: 'release' });
    expect((await w.deploy(v2, v1)).error).toMatchObject({ fault: 'infrastructure', code: 'UNAUTHORIZED' });
    const cancel = new AbortController();
    w.memory.faults.delay('checkHealth', 50);
    setTimeout(() => cancel.abort(new CoreError('ABORTED', 'Cancelled by ops')), 10);
    const cancelled = await w.deploy(v2, v1, { signal: cancel.signal });
    expect(cancelled).toMatchObject({ state: 'rolled-back', error: { fault: 'infrastructure' } });
    expect(w.running()).toEqual(['v1.0.0']);
  });

  it('a rollback that fails keeps the fault of what started it', async () => {
    const w = setup();
    await w.deploy(v1);
    w.memory.simulate(v2.digest, 'unhealthy');
    w.memory.faults.failAlways('revert', 'UNAVAILABLE');
    const failed = await w.deploy(v2, v1);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'UNAVAILABLE', fault: 'release' });
  });
});

describe('deadlines', () => {
  it.each([
    ['pull', 'pulling the image'],
    ['start', 'starting the candidate'],
    ['checkHealth', 'a health probe'],
  ] as const)(
    'a %s that never answers (and ignores its signal) fails with TIMEOUT and rolls back',
    async (operation, step) => {
      const w = setup((target) => ({ ...target, [operation]: never }));
      await w.deploy(v1);
      w.stall();
      const started = Date.now();
      const failed = await w.deploy(v2, v1);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(failed).toMatchObject({
        state: 'rolled-back',
        error: { code: 'TIMEOUT', message: `${step} did not finish within 100 ms`, fault: 'infrastructure' },
      });
      expect(w.running()).toEqual(['v1.0.0']);
    },
  );

  it('a rollback against a target that never answers ends, failed, within its own deadline', async () => {
    const w = setup((target) => ({ ...target, pull: never, list: never, stop: never }));
    await w.deploy(v1);
    w.stall();
    const started = Date.now();
    const failed = await w.deploy(v2, v1);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatchObject({ fault: 'infrastructure' });
  });

  it('a cancel ends a stalled step at once, without waiting for its deadline', async () => {
    const w = setup((target) => ({ ...target, pull: never }));
    await w.deploy(v1);
    w.stall();
    const cancel = new AbortController();
    setTimeout(() => cancel.abort(new CoreError('ABORTED', 'Cancelled by ops')), 20);
    const started = Date.now();
    const cancelled = await w.deploy(v2, v1, {
      signal: cancel.signal,
      settings: { deadlines: { pullMs: 60_000, rollbackMs: 1_000 } },
    });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(cancelled).toMatchObject({
      state: 'rolled-back',
      error: { code: 'ABORTED', message: 'Cancelled by ops', fault: 'infrastructure' },
    });
  });
});

describe('a crash during the rollback', () => {
  it('is finished by the next runner: the old release serves, the record ends', async () => {
    const w = setup();
    await w.deploy(v1);
    w.memory.simulate(v2.digest, 'unhealthy');
    // The process dies as the rollback begins: every later write is lost.
    let dead = false;
    const store = w.store;
    const bus = createEventBus();
    bus.on('deploy:state-changed', (event) => {
      if (event.to === 'rolling-back') dead = true;
    });
    const dying = new Proxy(store, {
      get(object, key, receiver) {
        const value = Reflect.get(object, key, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) =>
          dead && ['updateDeploy', 'appendLog', 'putStage'].includes(String(key))
            ? Promise.reject(new Error('process gone'))
            : value.apply(object, args);
      },
    });
    const record = await store.createDeploy({
      deploy: {
        id: 'crashy',
        project: 'web-app',
        stage: 'dev',
        release: v2,
        previous: v1,
        trigger: 'auto',
        state: 'pending',
        data: {},
      },
    });
    const settings: StageDeploySettings = {
      image: 'registry.example.com/team/web-app',
      strategy: 'blue-green',
      health: { path: '/health', intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 },
      host,
    };
    const deps = { store: dying, target: w.memory, proxy: w.proxy, bus, wait: async () => {} };
    await runDeploy(deps, { deployId: record.id, settings }).catch(() => undefined);
    expect((await store.getDeploy({ id: 'crashy' }))?.state).toBe('rolling-back');
    const resumed = await runDeploy(
      { ...deps, store, bus: createEventBus() },
      { deployId: 'crashy', settings },
    );
    expect(resumed).toMatchObject({ state: 'rolled-back', finished: true, error: { fault: 'release' } });
    expect(w.running()).toEqual(['v1.0.0']);
  });
});

describe("a stage's environment", () => {
  it('never reaches a log line, the record or an event, even when the target quotes it', async () => {
    const dsn = 'https://0123456789abcdef@o42.ingest.sentry.example/7';
    const w = setup();
    const events: unknown[] = [];
    await w.deploy(v1, undefined, { settings: { env: { SENTRY_DSN: dsn, LEVEL: 'info' } } });
    w.memory.faults.failNext(
      'start',
      new CoreError('BAD_REQUEST', `invalid environment variable: SENTRY_DSN=${dsn}`),
    );
    const bus = createEventBus();
    bus.onAny((event) => void events.push(event));
    const record = await w.store.createDeploy({
      deploy: {
        id: 'env',
        project: 'web-app',
        stage: 'dev',
        release: v2,
        previous: v1,
        trigger: 'auto',
        state: 'pending',
        data: {},
      },
    });
    const failed = await runDeploy(
      { store: w.store, target: w.memory, proxy: w.proxy, bus, wait: async () => {} },
      {
        deployId: record.id,
        settings: {
          image: 'registry.example.com/team/web-app',
          strategy: 'blue-green',
          health: { path: '/health', intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 },
          host,
          env: { SENTRY_DSN: dsn, LEVEL: 'info' },
        },
      },
    );
    expect(failed).toMatchObject({
      state: 'rolled-back',
      error: { message: expect.stringContaining('SENTRY_DSN=[redacted]'), fault: 'release' },
    });
    const written = JSON.stringify([failed, events, await w.store.readLog({ deployId: 'env' })]);
    expect(written).not.toContain('0123456789abcdef');
    expect(events.length).toBeGreaterThan(3);
  });
});
