// The server (a child process) is SIGKILLed in the middle of a deploy, at several steps, and started
// again on the same SQLite file: the deploy ends, one release serves through Caddy (the old or the
// new one, as the stage's state says), and no container is left behind.
import type { DeployRecord } from '@docker-watcher/core';
import { appFixture, buildFixtureImage, dockerClient, pushImage } from '@docker-watcher/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Stack, startStack } from '../src/stack.ts';
import { waitFor } from '../src/wait-for.ts';
import { deploysOf, servedBody, stageOf } from './support.ts';

const project = 'crash';
const repository = 'e2e/crash';
let stack: Stack;
let v1Digest: string;

beforeAll(async () => {
  stack = await startStack({
    serverMode: 'child',
    pollIntervalSeconds: 0,
    projects: {
      [project]: {
        repository,
        // The slow fixture answers after about 4 s: the health gate waits for it.
        healthcheck: {
          path: '/health',
          interval_ms: 250,
          timeout_ms: 1_000,
          retries: 3,
          start_period_ms: 20_000,
        },
        stages: { dev: { tag_pattern: 'dev-*', auto_deploy: true } },
      },
    },
  });
  v1Digest = (await stack.push('v1', repository, 'dev-0')).digest;
  await waitFor('dev-0 to serve', async () => (await servedBody(stack, project, 'dev')) === '200 v1');
}, 120_000);

afterAll(async () => {
  await stack?.dispose();
});

const order = ['pending', 'pulling', 'starting', 'health-checking', 'switching-traffic', 'retiring-old'];

/** Polls the newest deploy of `tag` until it reaches `state` (or a later step), then SIGKILLs the server. */
async function killAt(tag: string, state: string): Promise<string> {
  const at = await waitFor(
    `the deploy of ${tag} to reach ${state}`,
    async () => {
      const deploy = (await deploysOf(stack, project, 'dev')).find((d) => d.release.tag === tag);
      if (!deploy) return undefined;
      if (deploy.finished)
        throw new Error(
          `the deploy of ${tag} finished (${deploy.state}: ${deploy.error?.code ?? '-'} ${deploy.error?.message ?? ''}) before ${state}`,
        );
      return order.indexOf(deploy.state) >= order.indexOf(state) ? deploy.state : undefined;
    },
    { intervalMs: 10 },
  );
  await stack.server.kill();
  return at;
}

/** After a restart: the deploy finished, the stage's release serves, and it is the only container. */
async function expectConsistent(tag: string, digests: Record<string, string>): Promise<DeployRecord> {
  const deploy = await waitFor(`the deploy of ${tag} to finish after the restart`, async () =>
    (await deploysOf(stack, project, 'dev')).find((d) => d.release.tag === tag && d.finished),
  );
  expect(['succeeded', 'rolled-back']).toContain(deploy.state);
  const actual = (await stageOf(stack, project, 'dev')).actual;
  const expected = deploy.state === 'succeeded' ? deploy.release.digest : deploy.previous?.digest;
  expect(actual?.digest).toBe(expected);
  const version = Object.entries(digests).find(([, digest]) => digest === actual?.digest)?.[0];
  await waitFor(
    `dev to serve ${version}`,
    async () => (await servedBody(stack, project, 'dev')) === `200 ${version}`,
  );
  // No unfinished deploy, no orphan: exactly one container, running the stage's release.
  expect((await deploysOf(stack, project, 'dev')).filter((d) => !d.finished)).toEqual([]);
  const containers = await waitFor('the old or failed container to be gone', async () => {
    const found = await stack.containers(project);
    return found.length === 1 ? found : undefined;
  });
  expect(containers.map((c) => [c.State, c.Labels['docker-watcher.digest']])).toEqual([
    ['running', actual?.digest],
  ]);
  return deploy;
}

/**
 * The slow fixture under a label of its own: a digest of its own. The engine does not retry on its
 * own a digest that failed in a stage, so every kill gets a fresh candidate.
 */
async function pushSlowVariant(n: number, tag: string) {
  const ref = `${appFixture('slow').ref}-e2e-${n}`;
  const dockerfile = `FROM ${appFixture('slow').ref}\nLABEL docker-watcher.e2e.variant="${n}"\n`;
  await buildFixtureImage(dockerClient(), { ref, dockerfile, files: {} });
  return pushImage(stack.registry, { source: ref, repository, tag });
}

/** Makes v1 the serving release again (a new tag of the same content when it is not). */
async function backToV1(tag: string): Promise<void> {
  if ((await stageOf(stack, project, 'dev')).actual?.digest !== v1Digest) {
    await stack.push('v1', repository, tag);
  }
  await waitFor('v1 to serve', async () => (await servedBody(stack, project, 'dev')) === '200 v1');
  await waitFor('no deploy to run', async () =>
    (await deploysOf(stack, project, 'dev')).every((d) => d.finished),
  );
}

it.each([
  ['pulling', 1],
  ['starting', 2],
  ['health-checking', 3],
  ['switching-traffic', 4],
  ['retiring-old', 5],
] as const)(
  'SIGKILL at %s, restart: the deploy ends, one release serves, no orphan',
  async (state, n) => {
    await backToV1(`dev-${n}0`);
    const tag = `dev-${n}1`;
    const slow = await pushSlowVariant(n, tag);
    const killedAt = await killAt(tag, state);
    expect(stack.server.running()).toBe(false);
    await stack.server.start();
    const deploy = await expectConsistent(tag, { v1: v1Digest, slow: slow.digest });
    // Killed before the switch: the candidate had not taken traffic; it is resumed or rolled back.
    // Killed after it: the switch is the commit point, so the new release serves.
    if (order.indexOf(killedAt) >= order.indexOf('retiring-old')) expect(deploy.state).toBe('succeeded');
  },
  180_000,
);
