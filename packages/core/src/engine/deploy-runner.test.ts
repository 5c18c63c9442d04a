import { describe, expect, it } from 'vitest';
import type { Release } from '../contracts/release.ts';
import type { DeployRecord } from '../contracts/state-store.ts';
import { createEventBus, type DockerWatcherEvent } from '../events.ts';
import {
  createMemoryDeployTarget,
  createMemoryReverseProxy,
  createMemoryStateStore,
} from '../memory/index.ts';
import { type DeployRunnerDeps, runDeploy } from './deploy-runner.ts';
import type { StageDeploySettings } from './deploy-settings.ts';
import type { DeployState } from './deploy-states.ts';

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const v1: Release = { tag: 'v1.0.0', digest: digest(1) };
const v2: Release = { tag: 'v1.1.0', digest: digest(2) };
const host = 'stage-dev-web-app.example.com';

function settings(overrides: Partial<StageDeploySettings> = {}): StageDeploySettings {
  return {
    image: 'registry.example.com/team/web-app',
    port: 8080,
    strategy: 'blue-green',
    health: { path: '/health', intervalMs: 1, timeoutMs: 1, retries: 2, startPeriodMs: 0 },
    host,
    ...overrides,
  };
}

function setup(
  options: {
    blueGreen?: boolean;
    replacement?: 'side-by-side' | 'in-place';
    wait?: DeployRunnerDeps['wait'];
  } = {},
) {
  const store = createMemoryStateStore();
  const target = createMemoryDeployTarget({
    blueGreen: options.blueGreen ?? true,
    ...(options.replacement === undefined ? {} : { replacement: options.replacement }),
  });
  const proxy = createMemoryReverseProxy();
  const bus = createEventBus();
  const events: DockerWatcherEvent[] = [];
  bus.onAny((event) => void events.push(event));
  const deps: DeployRunnerDeps = { store, target, proxy, bus, wait: options.wait ?? (async () => {}) };
  let n = 0;
  const deploy = async (
    release: Release,
    previous?: Release,
    overrides: Partial<StageDeploySettings> = {},
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
    return runDeploy(deps, { deployId: record.id, settings: settings(overrides) });
  };
  return { store, target, proxy, bus, events, deps, deploy };
}

const routeOf = (proxy: ReturnType<typeof createMemoryReverseProxy>) =>
  proxy.routes.find((r) => r.host === host);
const statesOf = (record: DeployRecord) => record.journal.map((entry) => entry.state);

describe('deploy runner: blue-green', () => {
  it('lets the old release drain after the switch before retiring it (default 1 s, settable, 0 at once)', async () => {
    const waits: number[] = [];
    let release: () => void = () => {};
    const { target, proxy, deploy } = setup({
      wait: (ms: number) => {
        if (ms < 1_000) return Promise.resolve();
        waits.push(ms);
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    });
    await deploy(v1);
    expect(waits).toEqual([]);
    const second = deploy(v2, v1);
    await expect.poll(() => waits).toEqual([1_000]);
    // Draining: the route already points at the new release, and the old one still runs.
    const running = () => target.instances.filter((i) => i.state === 'running').map((i) => i.release.tag);
    expect(running()).toEqual(['v1.0.0', 'v1.1.0']);
    expect(routeOf(proxy)?.upstream).toEqual(
      target.instances.find((i) => i.release.tag === 'v1.1.0')?.endpoint,
    );
    release();
    expect((await second).state).toBe('succeeded');
    expect(running()).toEqual(['v1.1.0']);
    const third = deploy(v1, v2, { drainMs: 5_000 });
    await expect.poll(() => waits).toEqual([1_000, 5_000]);
    release();
    expect((await third).state).toBe('succeeded');
    expect((await deploy(v2, v1, { drainMs: 0 })).state).toBe('succeeded');
    expect(waits).toEqual([1_000, 5_000]);
    expect(running()).toEqual(['v1.1.0']);
  });

  it('pulls, starts the candidate beside the old one, gates, switches, retires the old one', async () => {
    const { target, proxy, store, deploy, events } = setup();
    const first = await deploy(v1);
    expect(first.state).toBe('succeeded');
    const second = await deploy(v2, v1);
    expect(statesOf(second)).toEqual([
      'pending',
      'pulling',
      'starting',
      'health-checking',
      'switching-traffic',
      'retiring-old',
      'succeeded',
    ]);
    const running = target.instances.filter((i) => i.state === 'running');
    expect(running.map((i) => i.release.tag)).toEqual(['v1.1.0']);
    // The old release was retired after the switch; nothing was reverted.
    expect(target.retired).toEqual([(first.data.candidate as { id: string }).id]);
    expect(target.reverted).toEqual([]);
    expect(routeOf(proxy)?.upstream).toEqual(running[0]?.endpoint);
    expect((await store.getStage({ project: 'web-app', stage: 'dev' }))?.actual).toEqual(v2);
    expect(events.filter((e) => e.type === 'deploy:succeeded')).toHaveLength(2);
    // What people are told: what started, what it replaced, and how long it took.
    expect(events.filter((e) => e.type === 'deploy:started').at(-1)).toMatchObject({
      deployId: second.id,
      release: v2,
      previous: v1,
    });
    const succeeded = events.filter((e) => e.type === 'deploy:succeeded').at(-1);
    expect(succeeded).toMatchObject({ release: v2, previous: v1 });
    expect(succeeded?.type === 'deploy:succeeded' && succeeded.durationMs).toBeGreaterThanOrEqual(0);
    expect((await store.readLog({ deployId: second.id })).map((l) => l.line)).toContain('v1.1.0 is live');
  });

  it('keeps the old release serving when the candidate fails its health gate', async () => {
    const { target, proxy, store, deploy, events } = setup();
    await deploy(v1);
    const before = routeOf(proxy);
    target.simulate(v2.digest, 'unhealthy');
    const failed = await deploy(v2, v1);
    expect(failed.state).toBe('rolled-back');
    expect(failed.error?.message).toMatch(/failed its health check/);
    expect(routeOf(proxy)).toEqual(before);
    expect(target.instances.filter((i) => i.state === 'running').map((i) => i.release.tag)).toEqual([
      'v1.0.0',
    ]);
    expect((await store.getStage({ project: 'web-app', stage: 'dev' }))?.actual).toEqual(v1);
    // Before the commit point the candidate is reverted, never retired.
    expect(target.reverted).toEqual([(failed.data.candidate as { id: string }).id]);
    expect(target.retired).toEqual([]);
    expect(events.find((e) => e.type === 'deploy:rolled-back')).toMatchObject({ restored: v1 });
    // A failing gate never takes traffic.
    expect(proxy.changes.filter((c) => c.action === 'ensured')).toHaveLength(1);
  });

  it('rolls back a candidate that exits at start', async () => {
    const { target, deploy } = setup();
    await deploy(v1);
    target.simulate(v2.digest, 'crashing');
    const failed = await deploy(v2, v1);
    expect(failed.state).toBe('rolled-back');
    expect(failed.error?.message).toMatch(/exited/);
  });

  it('restores the route when the proxy switch fails', async () => {
    const { proxy, deploy, target } = setup();
    await deploy(v1);
    const before = routeOf(proxy);
    proxy.faults.failNext('ensureRoute', 'UNAVAILABLE', { after: true });
    const failed = await deploy(v2, v1);
    expect(failed.state).toBe('rolled-back');
    expect(routeOf(proxy)).toEqual(before);
    expect(target.instances.filter((i) => i.state === 'running').map((i) => i.release.tag)).toEqual([
      'v1.0.0',
    ]);
  });

  it('rolls back when the target throws mid-step', async () => {
    const { target, deploy } = setup();
    await deploy(v1);
    target.faults.failNext('start', 'UNAVAILABLE');
    const failed = await deploy(v2, v1);
    expect(failed.state).toBe('rolled-back');
    expect(failed.error).toEqual({
      code: 'UNAVAILABLE',
      message: 'Injected fault in start',
      fault: 'infrastructure',
    });
  });

  it('outlasts a target that is briefly unavailable during the rollback', async () => {
    const { target, proxy, deploy } = setup();
    await deploy(v1);
    const before = routeOf(proxy);
    target.simulate(v2.digest, 'unhealthy');
    // The engine restarts just as the rollback begins: two reverts fail, the third goes through.
    target.faults.failNext('revert', 'UNAVAILABLE', { times: 2 });
    const failed = await deploy(v2, v1);
    expect(failed.state).toBe('rolled-back');
    expect(target.instances.filter((i) => i.state === 'running').map((i) => i.release.tag)).toEqual([
      'v1.0.0',
    ]);
    expect(routeOf(proxy)).toEqual(before);
  });

  it('gives up a rollback that keeps failing, and says so in the record', async () => {
    const { target, deploy } = setup();
    await deploy(v1);
    target.simulate(v2.digest, 'unhealthy');
    target.faults.failAlways('revert', 'UNAVAILABLE');
    const failed = await deploy(v2, v1);
    expect(failed.state).toBe('failed');
    expect(failed.error?.code).toBe('UNAVAILABLE');
    expect(failed.journal.map((entry) => entry.state)).toContain('rolling-back');
  });

  it('succeeds even when retiring the old release fails (it is past the commit point)', async () => {
    const { target, deploy } = setup();
    await deploy(v1);
    target.faults.failNext('retire', 'UNAVAILABLE');
    const done = await deploy(v2, v1);
    expect(done.state).toBe('succeeded');
  });
});

describe('deploy runner: recreate', () => {
  it('stops the old release first, then starts the new one', async () => {
    const { target, deploy } = setup({ blueGreen: false });
    const first = await deploy(v1, undefined, { strategy: 'recreate' });
    const second = await deploy(v2, v1, { strategy: 'recreate' });
    expect(statesOf(second)).toEqual([
      'pending',
      'pulling',
      'stopping-old',
      'starting',
      'health-checking',
      'switching-traffic',
      'succeeded',
    ]);
    expect(target.instances.filter((i) => i.state === 'running').map((i) => i.release.tag)).toEqual([
      'v1.1.0',
    ]);
    expect(target.retired).toEqual([(first.data.candidate as { id: string }).id]);
  });

  it('starts the old release again when the new one fails', async () => {
    const { target, proxy, deploy } = setup({ blueGreen: false });
    await deploy(v1, undefined, { strategy: 'recreate' });
    target.simulate(v2.digest, 'unhealthy');
    const failed = await deploy(v2, v1, { strategy: 'recreate' });
    expect(failed.state).toBe('rolled-back');
    const running = target.instances.filter((i) => i.state === 'running');
    expect(running.map((i) => i.release.tag)).toEqual(['v1.0.0']);
    expect(routeOf(proxy)?.upstream).toEqual(running[0]?.endpoint);
    expect(target.reverted).toEqual([(failed.data.candidate as { id: string }).id]);
  });
});

describe('deploy runner: an in-place target', () => {
  it('stops nothing before the start and retires nothing after the switch, whatever the strategy', async () => {
    for (const strategy of ['recreate', 'blue-green'] as const) {
      const { target, proxy, deploy } = setup({ replacement: 'in-place' });
      await deploy(v1, undefined, { strategy });
      const second = await deploy(v2, v1, { strategy });
      expect(statesOf(second)).toEqual([
        'pending',
        'pulling',
        'starting',
        'health-checking',
        'switching-traffic',
        'succeeded',
      ]);
      expect(target.retired).toEqual([]);
      expect(target.reverted).toEqual([]);
      const running = target.instances.filter((i) => i.state === 'running');
      expect(running.map((i) => i.release.tag)).toEqual(['v1.1.0']);
      expect(routeOf(proxy)?.upstream).toEqual(running[0]?.endpoint);
    }
  });

  it('reverts a failed candidate with the target’s own rollback, and the route follows the release it brought back', async () => {
    const { target, proxy, deploy, events } = setup({ replacement: 'in-place' });
    await deploy(v1, undefined, { strategy: 'recreate' });
    target.simulate(v2.digest, 'unhealthy');
    const failed = await deploy(v2, v1, { strategy: 'recreate' });
    expect(failed.state).toBe('rolled-back');
    expect(statesOf(failed)).not.toContain('stopping-old');
    expect(target.reverted).toEqual([(failed.data.candidate as { id: string }).id]);
    expect(target.retired).toEqual([]);
    const running = target.instances.filter((i) => i.state === 'running');
    expect(running.map((i) => i.release.tag)).toEqual(['v1.0.0']);
    expect(routeOf(proxy)?.upstream).toEqual(running[0]?.endpoint);
    expect(events.find((e) => e.type === 'deploy:rolled-back')).toMatchObject({ restored: v1 });
  });
});

describe('deploy runner: a crash at every state', () => {
  // The engine dies right after journaling a state (before its side effect finishes); a new
  // runner on the same store and target must end with one healthy release serving.
  const crashable: DeployState[] = [
    'pulling',
    'starting',
    'health-checking',
    'switching-traffic',
    'retiring-old',
  ];

  it.each(crashable)('crash after entering %s', async (crashAt) => {
    const { store, target, proxy, deps, deploy } = setup();
    await deploy(v1);
    await store.createDeploy({
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
    const controller = new AbortController();
    const crashingBus = createEventBus();
    crashingBus.on('deploy:state-changed', (event) => {
      if (event.to === crashAt) controller.abort(new Error('simulated crash'));
    });
    // Simulate the crash: the first runner stops at its next await once aborted, and its rollback
    // is cut off by failing every store write from then on.
    const frozenStore = new Proxy(store, {
      get(object, key, receiver) {
        const value = Reflect.get(object, key, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (controller.signal.aborted && ['updateDeploy', 'appendLog', 'putStage'].includes(String(key))) {
            return Promise.reject(new Error('process gone'));
          }
          return value.apply(object, args);
        };
      },
    });
    const frozenTarget = new Proxy(target, {
      get(object, key, receiver) {
        const value = Reflect.get(object, key, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) =>
          controller.signal.aborted && key !== 'list'
            ? Promise.reject(new Error('process gone'))
            : value.apply(object, args);
      },
    });
    await runDeploy(
      { ...deps, store: frozenStore, target: frozenTarget, bus: crashingBus },
      { deployId: 'crashy', settings: settings(), signal: controller.signal },
    );
    const afterCrash = await store.getDeploy({ id: 'crashy' });
    expect(afterCrash?.finished).toBe(false);

    const resumed = await runDeploy(deps, { deployId: 'crashy', settings: settings() });
    expect(resumed.finished).toBe(true);
    const running = target.instances.filter((i) => i.state === 'running');
    expect(running).toHaveLength(1);
    expect(routeOf(proxy)?.upstream).toEqual(running[0]?.endpoint);
    const actual = (await store.getStage({ project: 'web-app', stage: 'dev' }))?.actual;
    expect(actual).toEqual(running[0]?.release);
    if (resumed.state === 'succeeded') expect(running[0]?.release).toEqual(v2);
    else expect(resumed.state).toBe('rolled-back');
  });
});

describe('deploy runner: the health gate probe schedule', () => {
  const gateHealth = { path: '/health', intervalMs: 1_000, timeoutMs: 1_000, retries: 2, startPeriodMs: 0 };

  /** A candidate whose first `failing` probes fail (connection refused while it starts); every pause recorded. */
  function gated(failing: number, health = gateHealth) {
    const store = createMemoryStateStore();
    const memory = createMemoryDeployTarget();
    let probes = 0;
    const target: typeof memory = {
      ...memory,
      checkHealth: async (params) =>
        ++probes <= failing
          ? { status: 'unhealthy', detail: 'GET /health: connection refused' }
          : memory.checkHealth(params),
    };
    const pauses: number[] = [];
    const deps: DeployRunnerDeps = {
      store,
      target,
      proxy: createMemoryReverseProxy(),
      bus: createEventBus(),
      wait: async (ms) => void pauses.push(ms),
    };
    const deploy = async () => {
      await store.createDeploy({
        deploy: {
          id: 'd1',
          project: 'web-app',
          stage: 'dev',
          release: v1,
          trigger: 'auto',
          state: 'pending',
          data: {},
        },
      });
      return runDeploy(deps, { deployId: 'd1', settings: settings({ health }) });
    };
    return { deploy, pauses, store, probes: () => probes };
  }

  it('probes right after the start, then after 10 ms doubling, not a whole interval later', async () => {
    const { deploy, pauses } = gated(3);
    expect((await deploy()).state).toBe('succeeded');
    expect(pauses).toEqual([10, 20, 40]);
  });

  it('does not let the fast early probes use up the retries', async () => {
    // With a 10 s interval, the probes at 0, 10, 30, 70 … 5110 ms fail: the first alone counts.
    const { deploy, pauses, store } = gated(10, { ...gateHealth, intervalMs: 10_000, retries: 1 });
    const record = await deploy();
    expect(record.state).toBe('succeeded');
    expect(pauses.slice(0, 9)).toEqual([10, 20, 40, 80, 160, 320, 640, 1_280, 2_560]);
    const lines = (await store.readLog({ deployId: 'd1' })).map((line) => line.line);
    expect(lines).toContain(
      'health probe 2 unhealthy: GET /health: connection refused (1 failed so far, this one not counted)',
    );
  });

  it('still fails after retries + 1 failures an interval apart', async () => {
    const { deploy, pauses, store } = gated(Number.POSITIVE_INFINITY);
    const record = await deploy();
    expect(record.state).toBe('rolled-back');
    expect(record.error?.message).toMatch(/failed its health check 3 times/);
    const lines = (await store.readLog({ deployId: 'd1' })).map((line) => line.line);
    expect(lines.filter((line) => /failed so far\)$/.test(line)).map((line) => line.slice(-17))).toEqual([
      '(1 failed so far)',
      '(2 failed so far)',
      '(3 failed so far)',
    ]);
    expect(Math.max(...pauses)).toBeLessThanOrEqual(gateHealth.intervalMs);
  });
});
