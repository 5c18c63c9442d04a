// An update window keeps a stage's own deploys to given hours: outside them a new release waits,
// saying so and until when, and the engine deploys it once the window opens.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Release } from '../../contracts/release.ts';
import {
  createMemoryDeployTarget,
  createMemoryRegistry,
  createMemoryStateStore,
} from '../../memory/index.ts';
import { compileTagPolicy } from '../../policy/index.ts';
import { createEngine, type Engine } from '../engine.ts';
import { decide } from './decide.ts';
import { parseUpdateWindow, type UpdateWindow, updateWindowAt } from './update-window.ts';

const windowOf = (text: string): UpdateWindow => {
  const parsed = parseUpdateWindow(text);
  if (!('window' in parsed)) throw new Error(parsed.problem);
  return parsed.window;
};

describe('parseUpdateWindow', () => {
  it('reads hours in UTC, or in a named time zone', () => {
    expect(windowOf('02:00-05:00')).toEqual({
      startMinute: 120,
      endMinute: 300,
      timeZone: 'UTC',
      text: '02:00–05:00',
    });
    expect(windowOf(' 22:30 - 24:00 Europe/Berlin ')).toMatchObject({
      startMinute: 1350,
      endMinute: 0,
      timeZone: 'Europe/Berlin',
      text: '22:30–00:00 Europe/Berlin',
    });
  });

  it('says what is wrong with text that is no window', () => {
    for (const [text, problem] of [
      ['2-5', /expected hours such as 02:00-05:00/],
      ['25:00-05:00', /expected hours/],
      ['02:00-02:00', /same minute/],
      ['02:00-24:30', /expected hours|up to 24:00/],
      ['02:00-05:00 Mars/Olympus', /unknown time zone "Mars\/Olympus"/],
      ['02:00-05:00; rm -rf /', /expected hours/],
    ] as const)
      expect(parseUpdateWindow(text)).toEqual({ problem: expect.stringMatching(problem) });
  });
});

describe('updateWindowAt', () => {
  it('is open inside the hours and names the next opening outside them', () => {
    const window = windowOf('02:00-05:00');
    expect(updateWindowAt(window, Date.parse('2030-01-01T03:00:00Z'))).toEqual({ open: true });
    expect(updateWindowAt(window, Date.parse('2030-01-01T05:00:00Z'))).toEqual({
      open: false,
      opensAt: Date.parse('2030-01-02T02:00:00Z'),
    });
    expect(updateWindowAt(window, Date.parse('2030-01-01T01:59:30.250Z'))).toEqual({
      open: false,
      opensAt: Date.parse('2030-01-01T02:00:00Z'),
    });
  });

  it('spans midnight, on the wall clock of its time zone', () => {
    // Berlin is UTC+1 in January: 22:00–04:00 there is 21:00–03:00 UTC.
    const window = windowOf('22:00-04:00 Europe/Berlin');
    expect(updateWindowAt(window, Date.parse('2030-01-01T21:30:00Z'))).toEqual({ open: true });
    expect(updateWindowAt(window, Date.parse('2030-01-02T02:59:00Z'))).toEqual({ open: true });
    expect(updateWindowAt(window, Date.parse('2030-01-02T03:00:00Z'))).toEqual({
      open: false,
      opensAt: Date.parse('2030-01-02T21:00:00Z'),
    });
  });
});

describe('decide with an update window', () => {
  const release: Release = { tag: 'dev-1', digest: `sha256:${'1'.repeat(64)}` };
  const stage = {
    policy: compileTagPolicy({ pattern: 'dev-*' }),
    autoDeploy: true,
    updateWindow: windowOf('02:00-05:00'),
    deploy: { image: 'x' },
  };
  const input = (now: string) => ({
    stage,
    state: undefined,
    candidate: release,
    recentDeploys: [],
    approvals: [],
    now: Date.parse(now),
  });

  it('waits outside the window, saying for which, and looks again when it opens', () => {
    expect(decide(input('2030-01-01T12:00:00Z'))).toEqual({
      action: 'none',
      reason: 'dev-1 is waiting for the update window 02:00–05:00',
      release,
      retryAt: '2030-01-02T02:00:00.000Z',
    });
    expect(decide(input('2030-01-02T02:00:00Z')).action).toBe('deploy');
  });

  it('leaves a stage with auto-deploy off to its person, window or not', () => {
    const off = decide({ ...input('2030-01-01T12:00:00Z'), stage: { ...stage, autoDeploy: false } });
    expect(off.action).toBe('hold');
  });
});

describe('the engine with an update window', () => {
  const engines: Engine[] = [];
  afterEach(async () => {
    vi.useRealTimers();
    await Promise.all(engines.splice(0).map((engine) => engine.stop()));
  });

  it('deploys a release found outside the window once the window opens', async () => {
    // Only the clock is faked (timers stay real): it is ten seconds before the window opens.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(new Date('2030-01-01T01:59:50.000Z'));
    const registry = createMemoryRegistry();
    const target = createMemoryDeployTarget();
    const repository = 'team/web-app';
    registry.push(repository, 'dev-1');
    const engine = createEngine({
      projects: [
        {
          id: 'web-app',
          registry: 'main',
          repository,
          stages: {
            dev: {
              policy: compileTagPolicy({ pattern: 'dev-*' }),
              autoDeploy: true,
              updateWindow: windowOf('02:00-03:00'),
              deploy: {
                image: `registry.test/${repository}`,
                strategy: 'recreate',
                health: { path: '/health', intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 },
              },
            },
          },
        },
      ],
      registries: { main: registry },
      target,
      store: createMemoryStateStore(),
      pollIntervalMs: 0,
    });
    engines.push(engine);
    await engine.start();
    expect((await engine.plan())[0]?.decision).toMatchObject({
      action: 'none',
      reason: 'dev-1 is waiting for the update window 02:00–03:00',
    });
    expect(target.instances).toEqual([]);
    await expect
      .poll(() => target.instances.filter((i) => i.state === 'running').map((i) => i.release.tag), {
        timeout: 30_000,
      })
      .toEqual(['dev-1']);
  });
});
