import { createMemoryLogger, type DeployRecord, type MemoryLogger } from '@docker-watcher/core';
import { type PrivateEngine, startPrivateEngine } from '@docker-watcher/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDockerTarget, type DockerTarget } from '../../src/index.ts';
import { type DeployResult, deployHarness, fastHealth, statesOf } from '../support/deploys.ts';
import { type FixtureRegistry, fetchText, startFixtureRegistry } from '../support/fixtures.ts';

// The Docker daemon restarting during a deploy, on a real engine: a private dockerd of this file
// (the shared one serves other test files and must never restart), which pulls the fixtures from
// a loopback registry like any other engine (forwarded into the engine's network namespace). v1 serves, a candidate sits in its health gate, the
// daemon goes away and comes back: the deploy must end rolled back, at once rather than at the end
// of the gate, with v1 serving again and no candidate left.
let engine: PrivateEngine;
let fixtures: FixtureRegistry;
const network = 'dw-restart';

// The candidate answers only after 60 s and its start period is 40 s: the gate is still waiting
// when the daemon goes away, and would only give up 40+ s later on its own.
const slowGate = {
  env: { SLOW_START_SECONDS: '60' },
  health: { ...fastHealth, startPeriodMs: 40_000 },
};

beforeAll(async () => {
  [engine, fixtures] = await Promise.all([
    startPrivateEngine(),
    startFixtureRegistry({ tags: ['v1', 'slow'] }),
  ]);
  // The engine runs in a network namespace of its own: the registry on the host's loopback is
  // forwarded there, and ports are published on the engine's address, which the host reaches.
  await engine.forwardLoopback(Number(new URL(fixtures.registry.url).port));
  const target = targetOn();
  for (const release of [fixtures.releases.v1, fixtures.releases.slow]) {
    const spec = { project: 'prepull', stage: 'dev', deployId: 'prepull', image: fixtures.image, release };
    await target.pull({ spec });
  }
  await target.dispose();
});
afterEach(async () => {
  if (!engine.running()) await engine.start();
  const containers = await engine.docker.listContainers({ all: true });
  await Promise.all(containers.map((info) => engine.docker.getContainer(info.Id).remove({ force: true })));
});
afterAll(async () => {
  await engine?.dispose();
  await fixtures?.registry.stop();
});

function targetOn(logger?: MemoryLogger): DockerTarget {
  return createDockerTarget(
    {
      socketPath: engine.socketPath,
      network,
      publish: true,
      publishHost: engine.publishHost,
      stopTimeoutSeconds: 1,
    },
    logger ? { logger } : {},
  );
}

/** v1 deployed and serving; then a deploy of the slow candidate, returned once it is in its gate. */
async function candidateInGate(project: string, logger?: MemoryLogger) {
  const target = targetOn(logger);
  const h = deployHarness({ target, image: fixtures.image, project });
  const first = await h.deploy(fixtures.releases.v1);
  expect(first.record.state, first.log.join('\n')).toBe('succeeded');
  const route = (await h.route())!;
  expect(await fetchText(route, '/version')).toBe('v1');
  const [v1] = await target.list({ project });

  const deploying = h.deploy(fixtures.releases.slow, slowGate);
  const deadline = Date.now() + 30_000;
  // The second deploy of the harness (v1 was the first, and it passed its gate too).
  const inGate = () =>
    h.events.some(
      (e) =>
        e.type === 'deploy:state-changed' && e.to === 'health-checking' && e.deployId === `${project}-d2`,
    );
  while (!inGate()) {
    if (Date.now() > deadline) throw new Error('the candidate never reached its health gate');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // A few probes have answered "connection refused" inside the start period by now.
  await new Promise((resolve) => setTimeout(resolve, 600));
  return { target, h, route, v1: v1!, deploying };
}

/** Waits for the deploy and says how long it took after `since`. */
async function settle(deploying: Promise<DeployResult>, since: number) {
  const result = await deploying;
  return { ...result, afterOutageMs: Date.now() - since };
}

const unreachable =
  /^The Docker Engine at \/.+\/docker\.sock is unreachable during .+: (its socket does not exist, so the daemon is stopped or restarting \(ENOENT\)|it refused the connection, so the daemon is stopped or restarting \(ECONNREFUSED\)|the connection broke off, so the daemon stopped or restarted during the call \((ECONNRESET|EPIPE)\))$/;

// A graceful stop first stops the containers while the API still answers: the gate may see the
// candidate stopped before it sees the socket go.
const stoppedByDaemon =
  /^The candidate exited: exited, exit code \d+, not restarted by its restart policy \(unless-stopped\): it was stopped from outside, by the Docker daemon stopping or restarting or by a docker stop$/;

function expectRolledBackForOutage(
  record: DeployRecord,
  explanations: readonly RegExp[],
  log: readonly string[] = [],
) {
  expect(record.state, log.join('\n')).toBe('rolled-back');
  expect(record.error?.code).toBe('UNAVAILABLE');
  expect(
    explanations.some((pattern) => pattern.test(record.error?.message ?? '')),
    record.error?.message,
  ).toBe(true);
  const states = statesOf(record);
  expect(states.slice(-3)).toEqual(['health-checking', 'rolling-back', 'rolled-back']);
  expect(record.journal.at(-2)?.note).toBe(record.error?.message);
  expect(record.journal.at(-1)?.note).toBe('v1 keeps serving');
}

/** After the daemon is back: v1 alone on the engine, running, and serving where the route points. */
async function expectV1Back(params: {
  target: DockerTarget;
  project: string;
  v1Id: string;
  /**
   * Where the route pointed before the outage, when the rollback may have finished before the daemon
   * went down (a graceful stop stops containers while the API still answers): a port the engine
   * reassigned afterwards is left to the engine's route healing (a poll cycle later).
   */
  routeBefore?: { host: string; port: number };
  currentRoute: () => Promise<{ host: string; port: number } | undefined>;
}) {
  const listed = await params.target.list({ project: params.project });
  expect(listed.map((i) => [i.id, i.release.tag, i.state])).toEqual([[params.v1Id, 'v1', 'running']]);
  // Nothing else on the engine either: the candidate is gone, not just unlabelled.
  expect((await engine.docker.listContainers({ all: true })).map((info) => info.Id)).toEqual([params.v1Id]);
  // A restarted container may get a new random host port (another took its old one meanwhile): the
  // rollback points the route at where v1 listens now. The app may need a moment after its start.
  const endpoint = listed[0]!.endpoint!;
  const route = await params.currentRoute();
  if (params.routeBefore) expect([endpoint, params.routeBefore]).toContainEqual(route);
  else expect(route).toEqual(endpoint);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      expect(await fetchText(endpoint, '/version')).toBe('v1');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

describe('the Docker daemon restarting during a blue-green deploy', () => {
  it('a restart (stop, start) inside the health gate: rolled back at once, v1 serving again', async () => {
    const { target, h, route, v1, deploying } = await candidateInGate('restart');
    const outage = Date.now();
    await engine.restart();
    const restartMs = Date.now() - outage;
    const done = await settle(deploying, outage);

    expectRolledBackForOutage(done.record, [unreachable, stoppedByDaemon]);
    expect(done.log).toContain(`rolling back: ${done.record.error?.message}`);
    // Not the end of a 40 s start period: the gate gave up at the first unanswered probe, and the
    // rollback waited only for the daemon to come back.
    expect(done.afterOutageMs).toBeLessThan(restartMs + 17_000);
    await expectV1Back({
      target,
      project: h.project,
      v1Id: v1.id,
      routeBefore: route,
      currentRoute: h.route,
    });
  }, 90_000);

  it('a daemon that stays down for seconds: the rollback waits for it, then removes the candidate', async () => {
    const { target, h, route, v1, deploying } = await candidateInGate('down');
    const outage = Date.now();
    let unansweredWhileDown = false;
    await engine.restart({
      downMs: 4_000,
      whileDown: async () => {
        unansweredWhileDown = await target.list({ project: h.project }).then(
          () => false,
          (error: unknown) => (error as { code?: string }).code === 'UNAVAILABLE',
        );
      },
    });
    const done = await settle(deploying, outage);

    expect(unansweredWhileDown).toBe(true);
    expectRolledBackForOutage(done.record, [unreachable, stoppedByDaemon]);
    expect(done.afterOutageMs).toBeLessThan(30_000);
    await expectV1Back({
      target,
      project: h.project,
      v1Id: v1.id,
      routeBefore: route,
      currentRoute: h.route,
    });
  }, 90_000);

  it('a crash (SIGKILL) of the daemon: its restart policy alone does not bring v1 back; the target does', async () => {
    const logger = createMemoryLogger();
    const { target, h, v1, deploying } = await candidateInGate('crash', logger);
    const outage = Date.now();
    await engine.restart({ crash: true, downMs: 1_000 });
    // What the engine itself did: with the containerd it manages gone too, the restarted daemon
    // finds its containers exited and leaves them so, restart policy or not.
    const byEngine = await engine.docker.getContainer(v1.id).inspect();
    const done = await settle(deploying, outage);

    expect(byEngine.HostConfig.RestartPolicy?.Name).toBe('unless-stopped');
    // A crash gives no warning: the gate meets a refused socket, never a stopped container.
    expectRolledBackForOutage(done.record, [unreachable], done.log);
    expect(done.log.some((line) => line.startsWith('rollback step failed (The Docker Engine at '))).toBe(
      true,
    );
    expect(
      logger.entries.filter((e) => e.message.startsWith('started a container again')).map((e) => e.fields.id),
    ).toEqual([v1.id]);
    await expectV1Back({
      target,
      project: h.project,
      v1Id: v1.id,
      currentRoute: h.route,
    });
  }, 90_000);
});
