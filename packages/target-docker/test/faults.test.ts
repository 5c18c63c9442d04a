import { createServer, type Server } from 'node:net';
import { dockerClient, freePort } from '@docker-watcher/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deployHarness, fastHealth, statesOf } from './support/deploys.ts';
import { startEngineInterposer } from './support/engine-interposer.ts';
import {
  type FixtureRegistry,
  fetchText,
  startFixtureRegistry,
  testProject,
  testRun,
} from './support/fixtures.ts';

// Every fault starts from v1 serving (blue-green) and must end with v1 still serving, the route
// unchanged, no candidate left behind, and a deploy record that says what went wrong.
const run = testRun('faults');
let fixtures: FixtureRegistry;

beforeAll(async () => {
  fixtures = await startFixtureRegistry();
  // Pulled once here, so the cases below measure the fault, not the registry.
  const target = run.target();
  for (const release of Object.values(fixtures.releases)) {
    await target.pull({ spec: { ...spec(testProject(run, 'prepull')), release } });
  }
});
afterEach(() => run.cleanup());
afterAll(async () => {
  await run.cleanup();
  await run.removeImages(fixtures.image);
  await fixtures?.registry.stop();
});

/** `action` on the first call only; later calls do nothing. */
function once(action: () => Promise<void>): () => Promise<void> {
  let done = false;
  return async () => {
    if (done) return;
    done = true;
    await action();
  };
}

function spec(project: string) {
  return {
    project,
    stage: 'dev',
    deployId: `${project}-prepull`,
    image: fixtures.image,
    release: fixtures.releases.v1,
  };
}

async function withV1(what: string, options: Parameters<typeof run.target>[0] = {}) {
  const target = run.target(options);
  const h = deployHarness({ target, image: fixtures.image, project: testProject(run, what) });
  const first = await h.deploy(fixtures.releases.v1);
  expect(first.record.state, first.log.join('\n')).toBe('succeeded');
  const route = await h.route();
  const expectV1Serving = async () => {
    expect(await h.route()).toEqual(route);
    expect(await fetchText(route!, '/version')).toBe('v1');
    const left = await target.list({ project: h.project });
    expect(left.map((instance) => [instance.release.tag, instance.state])).toEqual([['v1', 'running']]);
  };
  return { target, h, expectV1Serving };
}

describe('faults during a blue-green deploy', () => {
  it('an image that exits at once: rolled back, with its exit code and its last log lines', async () => {
    const { h, expectV1Serving } = await withV1('crash');
    const failed = await h.deploy(fixtures.releases.crash);
    expect(failed.record.state).toBe('rolled-back');
    expect(failed.record.error).toMatchObject({ code: 'UNAVAILABLE' });
    // Exited, or already restarted by the restart policy (unless-stopped) when the gate looked.
    expect(failed.record.error?.message).toMatch(
      /^The candidate exited: .*(exit code 3|restarted \d+ times)/,
    );
    expect(failed.log).toContain('candidate: fixture app: failing at start on purpose');
    expect(statesOf(failed.record).slice(-2)).toEqual(['rolling-back', 'rolled-back']);
    await expectV1Serving();
  });

  it('a health check that keeps failing: rolled back with the probe result', async () => {
    const { h, expectV1Serving } = await withV1('unhealthy');
    const failed = await h.deploy(fixtures.releases.unhealthy);
    expect(failed.record.state).toBe('rolled-back');
    expect(failed.record.error?.message).toMatch(/failed its health check 3 times: GET \/health -> 404/);
    expect(failed.record.journal.at(-1)?.note).toMatch(/v1 keeps serving/);
    await expectV1Serving();
  });

  it('a slow start within the start period passes the gate', async () => {
    const { h, target } = await withV1('slow-ok');
    const done = await h.deploy(fixtures.releases.slow, {
      env: { SLOW_START_SECONDS: '2' },
      health: { ...fastHealth, startPeriodMs: 6_000 },
    });
    expect(done.record.state, done.log.join('\n')).toBe('succeeded');
    expect(await fetchText((await h.route())!, '/version')).toBe('slow');
    expect((await target.list({ project: h.project })).map((instance) => instance.release.tag)).toEqual([
      'slow',
    ]);
  });

  it('a slow start beyond a too short start period: rolled back', async () => {
    const { h, expectV1Serving } = await withV1('slow-short');
    const failed = await h.deploy(fixtures.releases.slow, {
      env: { SLOW_START_SECONDS: '30' },
      health: { ...fastHealth, startPeriodMs: 500 },
    });
    expect(failed.record.state).toBe('rolled-back');
    expect(failed.record.error?.message).toMatch(
      /failed its health check .*GET \/health: connection (refused|reset)/,
    );
    await expectV1Serving();
  });

  describe('a host port in use', () => {
    let holder: Server;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      holder = createServer();
      await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => holder.close(() => resolve())));

    it('fails to start with CONFLICT naming the port, and leaves no container behind', async () => {
      const { h, expectV1Serving } = await withV1('port');
      const fixed = run.target({ publish: port });
      expect(fixed.capabilities.blueGreen).toBe(false);
      const failed = await h.deploy(fixtures.releases.v2, { target: fixed });
      expect(failed.record.state).toBe('rolled-back');
      expect(failed.record.error?.code).toBe('CONFLICT');
      expect(failed.record.error?.message).toContain(`Host port 127.0.0.1:${port} is in use`);
      expect(statesOf(failed.record)).toContain('starting');
      await expectV1Serving();
    });
  });

  it('a network deleted between deploys is created again', async () => {
    const { h, target } = await withV1('network');
    const docker = target.docker;
    const [v1] = await target.list({ project: h.project });
    await docker.getNetwork(run.network).disconnect({ Container: v1!.id, Force: true });
    await docker.getNetwork(run.network).remove();

    const done = await h.deploy(fixtures.releases.v2);
    expect(done.record.state, done.log.join('\n')).toBe('succeeded');
    expect(done.log).toContain(`created network ${run.network}`);
    const network = await docker.getNetwork(run.network).inspect();
    expect(network.Labels).toMatchObject({ 'docker-watcher.managed': 'true', [run.label]: run.id });
    expect(await fetchText((await h.route())!, '/version')).toBe('v2');
  });

  it('an image removed between the pull and the create is pulled again, and the deploy succeeds', async () => {
    const { h } = await withV1('image-gone');
    const reference = `${fixtures.image}@${fixtures.releases.v2.digest}`;
    // Right before the create arrives, the digest reference goes, as when a CI job on the same
    // engine removes its tag after the push (`docker rmi repo:tag` drops `repo@sha256:…` too).
    const engine = await startEngineInterposer({
      matches: (method, path) => method === 'POST' && path === '/containers/create',
      before: once(() =>
        dockerClient()
          .getImage(reference)
          .remove()
          .then(() => undefined),
      ),
    });
    try {
      const done = await h.deploy(fixtures.releases.v2, {
        target: run.target({ socketPath: engine.socketPath }),
      });
      expect(engine.hookFailures).toEqual([]);
      expect(done.record.state, done.log.join('\n')).toBe('succeeded');
      expect(engine.actedBefore).toEqual(['POST /containers/create', 'POST /containers/create']);
      expect(done.log).toContain('the image went away before the container was created: ensuring it again');
      expect(done.log.filter((line) => line.startsWith('pulling '))).toHaveLength(1);
      expect(await fetchText((await h.route())!, '/version')).toBe('v2');
    } finally {
      await engine.stop();
    }
  });

  it('a digest the registry does not have: NOT_FOUND at pull, nothing started', async () => {
    const { h, target, expectV1Serving } = await withV1('digest');
    const missing = { tag: 'v9', digest: `sha256:${'0'.repeat(63)}9` };
    const failed = await h.deploy(missing);
    expect(failed.record.state).toBe('rolled-back');
    expect(failed.record.error?.code).toBe('NOT_FOUND');
    expect(failed.record.error?.message).toMatch(
      new RegExp(
        `^Could not pull ${fixtures.image}@sha256:0+9 from ${fixtures.registry.host} anonymously: .*manifest unknown`,
      ),
    );
    expect(statesOf(failed.record)).toEqual(['pending', 'pulling', 'rolling-back', 'rolled-back']);
    expect((await target.list({ project: h.project })).length).toBe(1);
    await expectV1Serving();
  });
});
