import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deployHarness, statesOf } from './support/deploys.ts';
import {
  type FixtureRegistry,
  fetchText,
  startFixtureRegistry,
  testProject,
  testRun,
} from './support/fixtures.ts';

// End to end through the engine's deploy state machine: a real registry, real pulls by digest, real
// containers, the memory proxy standing in for the reverse proxy.
const run = testRun('deploy');
let fixtures: FixtureRegistry;

beforeAll(async () => {
  fixtures = await startFixtureRegistry({ tags: ['v1', 'v2', 'unhealthy'] });
});
afterEach(() => run.cleanup());
afterAll(async () => {
  await run.cleanup();
  await run.removeImages(fixtures.image);
  await fixtures?.registry.stop();
});

describe('blue-green (default)', () => {
  it('pulls by digest, starts v2 beside v1, gates it, switches the route and retires v1', async () => {
    const target = run.target();
    const h = deployHarness({ target, image: fixtures.image, project: testProject(run, 'bg') });

    const first = await h.deploy(fixtures.releases.v1);
    expect(first.record.state, first.log.join('\n')).toBe('succeeded');
    const v1Route = await h.route();
    expect(await fetchText(v1Route!, '/version')).toBe('v1');
    expect(first.log.some((line) => line.startsWith(`pulling ${fixtures.image}@sha256:`))).toBe(true);
    expect(first.log).toContain('health gate passed: GET /health -> 200');

    const second = await h.deploy(fixtures.releases.v2);
    expect(second.record.state, second.log.join('\n')).toBe('succeeded');
    expect(statesOf(second.record)).toEqual([
      'pending',
      'pulling',
      'starting',
      'health-checking',
      'switching-traffic',
      'retiring-old',
      'succeeded',
    ]);
    const route = await h.route();
    expect(route).not.toEqual(v1Route);
    expect(await fetchText(route!, '/version')).toBe('v2');

    const running = await target.list({ project: h.project, stage: 'dev' });
    expect(running.map((instance) => instance.release)).toEqual([fixtures.releases.v2]);
    expect(running[0]?.endpoint).toEqual(route);
    expect(second.log.some((line) => /^started dw-.*-dev-v2-[0-9a-f]{12} \(/.test(line))).toBe(true);
  });

  it('keeps v1 serving while an unhealthy candidate is gated, then removes the candidate', async () => {
    const target = run.target();
    const h = deployHarness({ target, image: fixtures.image, project: testProject(run, 'bg-fail') });
    await h.deploy(fixtures.releases.v1);
    const before = await h.route();

    const failed = await h.deploy(fixtures.releases.unhealthy);
    expect(failed.record.state).toBe('rolled-back');
    expect(failed.record.error?.message).toMatch(/failed its health check \d+ times: GET \/health -> 404/);
    expect(await h.route()).toEqual(before);
    expect(await fetchText(before!, '/version')).toBe('v1');
    const left = await target.list({ project: h.project });
    expect(left.map((instance) => instance.release.tag)).toEqual(['v1']);
  });
});

describe('recreate', () => {
  it('stops v1 before starting v2, and the route follows the new container', async () => {
    const target = run.target();
    const h = deployHarness({ target, image: fixtures.image, project: testProject(run, 'rc') });
    await h.deploy(fixtures.releases.v1, { strategy: 'recreate' });

    const second = await h.deploy(fixtures.releases.v2, { strategy: 'recreate' });
    expect(second.record.state, second.log.join('\n')).toBe('succeeded');
    expect(statesOf(second.record)).toEqual([
      'pending',
      'pulling',
      'stopping-old',
      'starting',
      'health-checking',
      'switching-traffic',
      'succeeded',
    ]);
    expect(await fetchText((await h.route())!, '/version')).toBe('v2');
    expect((await target.list({ project: h.project })).map((instance) => instance.release.tag)).toEqual([
      'v2',
    ]);
  });

  it('starts v1 again when v2 fails its gate, and routes to the restarted v1', async () => {
    const target = run.target();
    const h = deployHarness({ target, image: fixtures.image, project: testProject(run, 'rc-fail') });
    await h.deploy(fixtures.releases.v1, { strategy: 'recreate' });

    const failed = await h.deploy(fixtures.releases.unhealthy, { strategy: 'recreate' });
    expect(failed.record.state, failed.log.join('\n')).toBe('rolled-back');
    expect(failed.log).toContain('restarted v1');
    const running = await target.list({ project: h.project });
    expect(running.map((instance) => [instance.release.tag, instance.state])).toEqual([['v1', 'running']]);
    const route = await h.route();
    expect(route).toEqual(running[0]?.endpoint);
    expect(await fetchText(route!, '/version')).toBe('v1');
  });
});
