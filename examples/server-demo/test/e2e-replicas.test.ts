// Two server replicas (child processes) on one PostgreSQL store, both told about every push by the
// registry, and the leader polling every second besides: each push is deployed exactly once, and
// one container runs. (The shared store drops the second copy of each notification as a replay; the
// leader's poll racing the other replica's webhook is what the stage leases decide.)

import { readEventStream } from '@docker-watcher/server/client';
import {
  appFixture,
  buildFixtureImage,
  dockerClient,
  type PostgresServer,
  pushImage,
  startPostgres,
} from '@docker-watcher/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Stack, startStack } from '../src/stack.ts';
import { waitFor } from '../src/wait-for.ts';
import { counter, deploysOf, running, servedBody } from './support.ts';

const project = 'ha';
const repository = 'e2e/ha';
const pushes = 5;
let postgres: PostgresServer;
let stack: Stack;

beforeAll(async () => {
  postgres = await startPostgres();
  stack = await startStack({
    serverMode: 'child',
    replicas: 2,
    store: postgres.url,
    pollIntervalSeconds: 1,
    projects: { [project]: { repository, stages: { dev: { tag_pattern: 'dev-*', auto_deploy: true } } } },
  });
}, 120_000);

afterAll(async () => {
  await stack?.dispose();
  await postgres?.stop();
});

/** v1 under a label of its own, so every push has a digest of its own. */
async function pushVariant(n: number) {
  const ref = `${appFixture('v1').ref}-e2e-ha-${n}`;
  await buildFixtureImage(dockerClient(), {
    ref,
    dockerfile: `FROM ${appFixture('v1').ref}\nLABEL docker-watcher.e2e.variant="ha-${n}"\n`,
    files: {},
  });
  return pushImage(stack.registry, { source: ref, repository, tag: `dev-${n}` });
}

it('deploys each push exactly once with two replicas on PostgreSQL', async () => {
  // Exactly one replica leads (polls).
  const leading = await Promise.all(
    stack.servers.map((server) => counter(stack, 'docker_watcher_leader', {}, server)),
  );
  expect(leading.sort()).toEqual([0, 1]);
  const digests: string[] = [];
  for (let n = 1; n <= pushes; n++) {
    const pushed = await pushVariant(n);
    digests.push(pushed.digest);
    await waitFor(`dev-${n} to be deployed`, async () =>
      (await deploysOf(stack, project, 'dev')).find((d) => d.release.tag === `dev-${n}` && d.finished),
    );
  }
  // Both replicas took every notification (the shared store drops the second copy of each event as
  // a replay), and neither has work left: nothing more can come.
  for (const server of stack.servers) {
    await waitFor(
      `${server.url} to take every notification`,
      async () =>
        (await counter(stack, 'docker_watcher_webhooks_total', { outcome: 'accepted' }, server)) >= pushes,
    );
    await waitFor(
      `${server.url} to have no queued deploy`,
      async () => (await counter(stack, 'docker_watcher_deploy_queue_depth', {}, server)) === 0,
    );
  }
  const observed = await Promise.all(
    stack.servers.map((server) =>
      counter(stack, 'docker_watcher_observations_total', { source: 'webhook' }, server),
    ),
  );
  expect(observed.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(pushes);
  const deploys = await deploysOf(stack, project, 'dev');
  const perTag = Object.fromEntries(
    Array.from({ length: pushes }, (_, i) => [
      `dev-${i + 1}`,
      deploys.filter((d) => d.release.tag === `dev-${i + 1}`).length,
    ]),
  );
  expect(perTag).toEqual(Object.fromEntries(Array.from({ length: pushes }, (_, i) => [`dev-${i + 1}`, 1])));
  expect(deploys.every((d) => d.state === 'succeeded')).toBe(true);
  expect(await running(stack, project)).toEqual([{ stage: 'dev', digest: digests.at(-1) }]);
  expect(await stack.containers(project)).toHaveLength(1);
  expect(await servedBody(stack, project, 'dev')).toBe('200 v1');
}, 300_000);

/** Every event a replica's `/api/events` stream sends, as it comes, until `stop()`. */
function follow(url: string, token: string, lastEventId?: string) {
  const controller = new AbortController();
  const seen: Array<{ id?: string; event: string; data: Record<string, unknown> }> = [];
  const done = (async () => {
    const response = await fetch(`${url}/api/events`, {
      headers: { authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      signal: controller.signal,
    });
    for await (const message of readEventStream(response.body!))
      seen.push({ ...message, data: JSON.parse(message.data) as Record<string, unknown> });
  })().catch(() => undefined);
  return {
    seen,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

it("sends every replica's events to a client of either, with the same ids", async () => {
  const [first, second] = stack.servers;
  const streams = [follow(first!.url, stack.adminToken), follow(second!.url, stack.adminToken)];
  // A person's action on the first replica.
  const toggled = await fetch(`${first!.url}/api/projects/${project}/stages/dev/auto-deploy`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ enabled: true }),
  });
  expect(toggled.status).toBe(200);
  // A push, deployed by whichever replica takes it.
  const pushed = await pushVariant(pushes + 1);
  const tag = `dev-${pushes + 1}`;
  const succeeded = (stream: (typeof streams)[number]) =>
    stream.seen.find(
      (m) => m.event === 'deploy:succeeded' && (m.data.release as { tag: string }).tag === tag,
    );
  for (const stream of streams)
    await waitFor(`both replicas' clients to see ${tag} succeed`, async () => succeeded(stream));
  await Promise.all(streams.map((stream) => stream.stop()));
  const [one, two] = streams;
  expect(succeeded(one!)?.id).toBe(succeeded(two!)?.id);
  expect((succeeded(two!)!.data.release as { digest: string }).digest).toBe(pushed.digest);
  for (const stream of streams)
    expect(stream.seen.find((m) => m.event === 'stage:updated')?.data).toMatchObject({
      project,
      stage: 'dev',
      change: 'auto-deploy',
      by: 'admin',
    });
  // Each client saw the same events in the same order, whichever replica it asked.
  const ids = (stream: (typeof streams)[number]) => stream.seen.map((m) => m.id);
  const common = ids(one!).filter((id) => ids(two!).includes(id));
  expect(common.length).toBeGreaterThan(3);
  expect(ids(two!).filter((id) => common.includes(id))).toEqual(common);
  // A client of the first replica resumes on the second after the event it saw last.
  const queued = one!.seen.find((m) => m.event === 'deploy:queued');
  const resumed = follow(second!.url, stack.adminToken, queued!.id);
  await waitFor('the resumed stream to reach the success', async () =>
    resumed.seen.find((m) => m.event === 'deploy:succeeded'),
  );
  await resumed.stop();
  expect(resumed.seen[0]?.id).toBe(String(Number(queued!.id) + 1));
}, 120_000);
