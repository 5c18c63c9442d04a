import { defaultHealthCheck, type Release } from '@docker-watcher/core';
import {
  appPort,
  type CaddyInstance,
  dockerClient,
  freePort,
  startCaddy,
  type startRegistry,
  testkitLabel,
} from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdoptedContainerTarget } from '../src/index.ts';
import { testRun } from './support/fixtures.ts';
import { pullImage, runLabelDeploy, startLabelRegistry } from './support/label-deploys.ts';

// What users of a labelled container see during an in-place update, on the real engine: with a
// fixed host port, requests fail only between the old container's stop and the new one's start,
// and it serves the new release afterwards; behind a Caddy that holds requests while its upstream
// is down (`try_duration`), with an app that finishes its requests in flight when stopped, not one
// request fails. How long the window lasts is measured in
// `bench/label-updates.bench.ts`, not here.
const run = testRun('label-downtime');
const docker = dockerClient();
const repository = `label-downtime/${run.id}`;
const own = { [testkitLabel]: 'false', [run.label]: run.id, 'docker-watcher.scope': run.id };
const target = createAdoptedContainerTarget({ scope: run.id, runningGraceMs: 1_000, stopTimeoutSeconds: 1 });
const direct = { name: `dw-label-${run.id}-direct`, port: 0 };
const proxied = { name: `dw-label-${run.id}-proxied`, port: 0 };
let registry: Awaited<ReturnType<typeof startRegistry>>;
let caddy: CaddyInstance | undefined;
let image: string;
let v1: Release;
let v2: Release;

interface Answer {
  readonly sent: number;
  readonly ended: number;
  /** The version served, or undefined when the request failed. */
  readonly version?: string;
}

/** Sequential `GET /version` until stopped (bounded in count), each answer with its wall-clock times. */
function load(url: string, timeoutMs: number) {
  const answers: Answer[] = [];
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; i < 20_000 && !stopped; i++) {
      const sent = Date.now();
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        const body = (await response.text()).trim();
        answers.push({ sent, ended: Date.now(), ...(response.ok ? { version: body } : {}) });
      } catch {
        answers.push({ sent, ended: Date.now() });
      }
      // Pacing, so that the loop leaves the machine's cores to the engine.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    answers,
    stop: async () => {
      stopped = true;
      await loop;
      return answers;
    },
  };
}

/** Runs an update of `name` from v1 to v2 as the engine would, under load, and returns the engine events of its containers. */
async function updateUnderLoad(name: string, url: string, timeoutMs: number) {
  const before = await docker.getContainer(name).inspect();
  const traffic = load(url, timeoutMs);
  // The load is answered by the old container before the update starts.
  await expect.poll(() => traffic.answers.some((a) => a.version === 'v1'), { timeout: 30_000 }).toBe(true);
  const since = Math.floor(Date.now() / 1000) - 1;
  const { record } = await runLabelDeploy({
    target,
    project: name,
    image,
    deployId: `update-${name}`,
    release: v2,
    previous: v1,
    health: { ...defaultHealthCheck, intervalMs: 500 },
  });
  expect(record.state).toBe('succeeded');
  const after = await docker.getContainer(name).inspect();
  expect(after.Id).not.toBe(before.Id);
  // Served by the new container for a while, then the load stops.
  await expect
    .poll(() => traffic.answers.filter((a) => a.version === 'v2').length, { timeout: 30_000 })
    .toBeGreaterThan(5);
  const answers = await traffic.stop();
  const events = await containerEvents(since);
  const at = (id: string, action: string) =>
    events.find((e) => e.id === id && e.action === action)?.at ?? Number.NaN;
  return { answers, stopped: at(before.Id, 'kill'), started: at(after.Id, 'start') };
}

async function containerEvents(since: number) {
  const stream = (await docker.getEvents({
    since,
    until: Math.ceil(Date.now() / 1000) + 1,
    filters: { type: ['container'], label: [`${run.label}=${run.id}`] },
  })) as unknown as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { id: string; Action: string; timeNano: number })
    .map((event) => ({ id: event.id, action: event.Action, at: event.timeNano / 1e6 }));
}

/** The versions answered, in order, with consecutive repeats folded: `['v1', 'v2']` for a clean switch. */
const switches = (answers: readonly Answer[]) =>
  answers.map((a) => a.version ?? 'failed').filter((version, i, all) => i === 0 || all[i - 1] !== version);

/**
 * The fixture app stops at once on SIGTERM, cutting a request in flight; `drains` replaces its
 * entrypoint (as a user runs an app that shuts down gracefully): the listener closes first, the
 * requests in flight finish.
 */
async function runLabelled(name: string, port: number, drains = false) {
  const container = await docker.createContainer({
    name,
    Image: `${image}:latest`,
    Labels: { ...own, 'docker-watcher.enable': 'true' },
    StopTimeout: drains ? 5 : 1,
    ...(drains
      ? {
          Entrypoint: [
            '/bin/busybox',
            'sh',
            '-c',
            `/bin/busybox httpd -f -p ${appPort} -h /www & pid=$!; trap 'kill $pid; /bin/busybox sleep 1; exit 0' TERM INT; wait`,
          ],
        }
      : {}),
    HostConfig: {
      NetworkMode: run.network,
      PortBindings: { [`${appPort}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
    },
  });
  await container.start();
}

beforeAll(async () => {
  ({ registry, image, v1, v2 } = await startLabelRegistry(repository));
  await pullImage(docker, `${image}:latest`);
  await docker.createNetwork({ Name: run.network, Labels: own });
  direct.port = await freePort();
  proxied.port = await freePort();
  await runLabelled(direct.name, direct.port);
  await runLabelled(proxied.name, proxied.port, true);
  // The user's Caddy in front of the proxied container: it retries a failed dial (and an idempotent
  // request whose upstream went away) for up to 30 s instead of answering 502.
  caddy = await startCaddy({
    configure: (config) => {
      const servers = (config.apps as { http: { servers: Record<string, { routes: unknown[] }> } }).http
        .servers;
      for (const server of Object.values(servers)) {
        server.routes.push({
          handle: [
            {
              handler: 'reverse_proxy',
              upstreams: [{ dial: `127.0.0.1:${proxied.port}` }],
              // A GET whose upstream connection broke (the container stopping, or Docker's port proxy
              // accepting before the app listens) is retried too, not only a failed dial.
              load_balancing: {
                try_duration: '30s',
                try_interval: '100ms',
                retry_match: [{ method: ['GET'] }],
              },
            },
          ],
        });
      }
      return config;
    },
  });
}, 120_000);

afterAll(async () => {
  await caddy?.stop();
  await target.dispose();
  await run.cleanup();
  await run.removeImages(image, () => true);
  await registry?.stop();
});

describe('downtime of an in-place update', () => {
  it('with a fixed host port: requests fail only between the old container stopping and the new one starting', async () => {
    const { answers, stopped, started } = await updateUnderLoad(
      direct.name,
      `http://127.0.0.1:${direct.port}/version`,
      5_000,
    );
    expect(Number.isFinite(stopped) && Number.isFinite(started)).toBe(true);
    // v1, maybe a run of failures, then v2: never back, never a failure after the new one answered.
    expect(switches(answers).filter((s) => s !== 'failed')).toEqual(['v1', 'v2']);
    expect(switches(answers).at(-1)).toBe('v2');
    const failed = answers.filter((a) => a.version === undefined);
    // Generous bounds (a loaded machine): no failure before the stop signal, none long after the start.
    for (const answer of failed) {
      expect(answer.ended).toBeGreaterThanOrEqual(stopped - 1_000);
      expect(answer.sent).toBeLessThanOrEqual(started + 30_000);
    }
  }, 180_000);

  it('behind a proxy that holds requests while the container is replaced, the app draining on stop: not one fails', async () => {
    const { answers, stopped, started } = await updateUnderLoad(
      proxied.name,
      `http://127.0.0.1:${caddy!.httpPort}/version`,
      60_000,
    );
    expect(answers.filter((a) => a.version === undefined)).toEqual([]);
    expect(switches(answers)).toEqual(['v1', 'v2']);
    // The load did cover the window the container was down in.
    expect(answers.some((a) => a.ended >= stopped && a.sent <= started)).toBe(true);
  }, 180_000);
});
