import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer } from 'node:net';
import { inspect } from 'node:util';
import {
  type CoreError,
  createMemoryLogger,
  type Instance,
  type InstanceSpec,
  isCoreError,
  type Release,
} from '@docker-watcher/core';
import { expectCoreError } from '@docker-watcher/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNomadTarget, type NomadTargetOptions } from '../src/index.ts';
import { startFakeNomad } from './support/fake-nomad.ts';
import { image, releases } from './support/fixtures.ts';
import { endpoint, jobId, ref, setup, token } from './support/setup.ts';
import { makeTestPki, type TestPki } from './support/tls.ts';

let n = 0;
const spec = (release: Release = releases.v1, overrides: Partial<InstanceSpec> = {}): InstanceSpec => ({
  project: 'web-app',
  stage: 'dev',
  deployId: `d-${++n}`,
  image,
  release,
  ...overrides,
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A loopback HTTP server answering with `handle`. */
async function listen(
  handle: Parameters<typeof createHttpServer>[1] & {},
): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createHttpServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Everything an error could show: message, JSON, and a deep inspect (cause, details). */
const everything = (error: unknown) =>
  [
    String(error),
    JSON.stringify(error),
    inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
  ].join('\n');

describe('start', () => {
  it('sets the image of the bound task to repo@digest and returns <job>@<version> with the endpoint', async () => {
    const { target, nomad } = await setup();
    const lines: string[] = [];
    const instance = await target.start({ spec: spec(), onLog: (line) => lines.push(line) });
    expect(instance).toEqual({
      id: `${jobId}@1`,
      project: 'web-app',
      stage: 'dev',
      deployId: `d-${n}`,
      release: releases.v1,
      state: 'running',
      endpoint,
    });
    const task = nomad.job(jobId)?.TaskGroups[0]?.Tasks[0];
    expect(task?.Config.image).toBe(ref(releases.v1));
    expect(task?.Meta).toEqual({
      'docker_watcher.deploy_id': `d-${n}`,
      'docker_watcher.release_tag': 'v1.0.0',
      'docker_watcher.release_digest': releases.v1.digest,
    });
    expect(nomad.job(jobId)?.Meta).toMatchObject({
      'docker_watcher.project': 'web-app',
      'docker_watcher.stage': 'dev',
    });
    expect(lines.at(-1)).toMatch(/^deployment \w{8} of version 1 successful/);
  });

  it('follows the deployment with blocking queries (index and wait)', async () => {
    const { target, nomad } = await setup({ target: { blockingQueryWaitMs: 1_500 } });
    await target.start({ spec: spec() });
    const polls = nomad.requestsTo('GET', /^\/v1\/deployment\/[0-9a-f-]+$/);
    expect(polls[0]?.query.index).toBe('0');
    expect(polls.slice(1).every((request) => Number(request.query.index) > 0)).toBe(true);
    expect(new Set(polls.map((request) => request.query.wait))).toEqual(new Set(['1500ms']));
    // Each answer came when something changed, not on a timer: a handful of polls for a whole rollout.
    expect(polls.length).toBeLessThan(10);
  });

  it('gives a blocking query its wait on top of requestTimeoutMs', async () => {
    const { target, logger } = await setup({
      target: { requestTimeoutMs: 1_000, blockingQueryWaitMs: 2_500, deploymentTimeoutMs: 3_000 },
    });
    const error = await expectCoreError(target.start({ spec: spec(releases.stuck) }), 'TIMEOUT');
    expect(error.message).toMatch(/did not finish deploying within 3000 ms/);
    expect(logger.entries.filter((entry) => entry.level === 'warn')).toEqual([]);
  });

  it('sends the token, namespace and region with every request', async () => {
    const { target, nomad } = await setup({
      seed: { namespace: 'apps' },
      target: { namespace: 'apps', region: 'eu' },
    });
    await target.start({ spec: spec() });
    await target.list({ project: 'web-app' });
    expect(nomad.requests.length).toBeGreaterThan(5);
    for (const request of nomad.requests) {
      expect(request.headers['x-nomad-token']).toBe(token);
      expect(request.query).toMatchObject({ namespace: 'apps', region: 'eu' });
    }
  });

  it('passes a Vault token through on register and revert, and never logs it', async () => {
    const vaultToken = 'hvs.vault-secret-2bd1';
    const { target, nomad, logger } = await setup({ target: { vaultToken } });
    nomad.behave(releases.unhealthy.digest, 'unhealthy');
    await target.start({ spec: spec() });
    expect(nomad.lastVaultToken).toBe(vaultToken);
    nomad.lastVaultToken = undefined;
    const bad = await target.start({ spec: spec(releases.unhealthy) });
    await target.revert({ instance: bad });
    expect(nomad.requestsTo('POST', /\/revert$/)[0]?.body).toMatchObject({ VaultToken: vaultToken });
    expect(JSON.stringify(logger.entries)).not.toContain(vaultToken);
  });

  it('is idempotent per deploy id', async () => {
    const { target, nomad } = await setup();
    const deploy = spec();
    const first = await target.start({ spec: deploy });
    const second = await target.start({ spec: deploy });
    expect(second).toEqual(first);
    expect(nomad.versions(jobId)).toHaveLength(2);
  });

  it('retries a check-and-set conflict once with a fresh index', async () => {
    const { target, nomad } = await setup();
    nomad.interfere(jobId, 1);
    const lines: string[] = [];
    const instance = await target.start({ spec: spec(), onLog: (line) => lines.push(line) });
    expect(instance.id).toBe(`${jobId}@2`);
    expect(lines).toContain(
      `job ${jobId} changed while it was being registered; trying once more with its new modify index`,
    );
    const indexes = nomad
      .requestsTo('POST', new RegExp(`^/v1/job/${jobId}$`))
      .map((request) => (request.body as { JobModifyIndex: number }).JobModifyIndex);
    expect(indexes).toHaveLength(2);
    expect(indexes[1]).toBeGreaterThan(indexes[0] ?? 0);
  });

  it('gives up with CONFLICT when the job changes twice', async () => {
    const { target, nomad } = await setup();
    nomad.interfere(jobId, 2);
    const error = await expectCoreError(target.start({ spec: spec() }), 'CONFLICT');
    expect(error.message).toMatch(/changed again while it was being registered/);
    // Only the other writer's versions exist.
    const ours = nomad.versions(jobId).filter((version) => version.TaskGroups[0]?.Tasks[0]?.Meta);
    expect(ours).toHaveLength(0);
  });

  it('answers NOT_FOUND for a job Nomad does not know and CONFIG_INVALID for an unbound stage', async () => {
    const { target } = await setup({ target: { jobs: { 'web-app/dev': { job: 'no-such-job' } } } });
    const missing = await expectCoreError(target.start({ spec: spec() }), 'NOT_FOUND');
    expect(missing.message).toBe('Nomad refused to read job no-such-job: job not found');
    await expectCoreError(target.start({ spec: spec(releases.v1, { stage: 'prod' }) }), 'CONFIG_INVALID');
  });

  it("reads the deprecated jobs as the stages' own options, with one warning naming the option and the new form", async () => {
    const { target, nomad, logger } = await setup({
      target: { jobs: { 'web-app': { job: jobId, endpoint } } },
    });
    await target.start({ spec: spec() });
    expect(nomad.job(jobId)?.TaskGroups[0]?.Tasks[0]?.Config.image).toBe(ref(releases.v1));
    expect(logger.entries.filter((entry) => entry.level === 'warn').map((entry) => entry.message)).toEqual([
      expect.stringMatching(
        /^target:nomad option jobs is deprecated: .*projects\.<project>\.stages\.<stage>\.target/,
      ),
    ]);
  });

  it('needs group and task for multi-group jobs and sidecars, and touches only that task', async () => {
    const seed = { extraGroup: true, sidecarImage: 'registry.test/team/envoy:1.30' };
    const unbound = await setup({ seed });
    const groups = await expectCoreError(unbound.target.start({ spec: spec() }), 'CONFIG_INVALID');
    expect(groups.message).toMatch(
      /has 2 task groups \(web, worker\): set the stage's target options\.group/,
    );
    const { target, nomad } = await setup({
      seed,
      target: { jobs: { 'web-app/dev': { job: jobId, group: 'web', task: 'app' } } },
    });
    await target.start({ spec: spec() });
    const job = nomad.job(jobId);
    expect(job?.TaskGroups.map((group) => group.Tasks.map((task) => task.Config.image))).toEqual([
      [ref(releases.v1), 'registry.test/team/envoy:1.30'],
      ['registry.test/team/worker:1'],
    ]);
    const noTask = await setup({ seed, target: { jobs: { 'web-app/dev': { job: jobId, group: 'web' } } } });
    const tasks = await expectCoreError(noTask.target.start({ spec: spec() }), 'CONFIG_INVALID');
    expect(tasks.message).toMatch(
      /2 tasks with an image \(app, proxy\): set the stage's target options\.task/,
    );
    const wrong = await setup({ seed, target: { jobs: { 'web-app/dev': { job: jobId, group: 'api' } } } });
    await expectCoreError(wrong.target.start({ spec: spec() }), 'NOT_FOUND');
  });

  it('follows the allocations of a job without deployments (latest deployment is null)', async () => {
    const { target, nomad } = await setup({ seed: { deployments: false } });
    const lines: string[] = [];
    const instance = await target.start({ spec: spec(), onLog: (line) => lines.push(line) });
    expect(nomad.deploymentsOf(jobId)).toEqual([]);
    expect(lines).toContain(
      `job ${jobId} version 1 has no deployment (its group has no update block): following its allocations`,
    );
    const health = await target.checkHealth({
      instance,
      health: { intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 },
    });
    expect(health).toEqual({
      status: 'healthy',
      detail: 'version 1 has no deployment: 2 allocations running',
    });
    nomad.behave(releases.crashing.digest, 'crashing');
    const crashed = await target.start({ spec: spec(releases.crashing) });
    const report = await target.checkHealth({
      instance: crashed,
      health: { intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 },
    });
    expect(report.status).toBe('exited');
    expect(report.detail).toMatch(/2 of 2 allocations failed/);
  });

  it('ends with ABORTED when the signal fires while following, and leaves the undo to revert', async () => {
    const { target, nomad } = await setup();
    nomad.behave(releases.stuck.digest, 'stuck');
    const controller = new AbortController();
    const started = target.start({
      spec: spec(releases.stuck),
      signal: controller.signal,
      onLog: (line) => {
        if (line.includes('running')) controller.abort();
      },
    });
    await expectCoreError(started, 'ABORTED');
    expect(nomad.requestsTo('POST', /^\/v1\/deployment\/fail\//)).toHaveLength(0);
    const [candidate] = await target.list({ project: 'web-app', stage: 'dev' });
    expect(candidate?.release).toEqual(releases.stuck);
    await target.revert({ instance: candidate as Instance });
    expect(nomad.requestsTo('POST', /^\/v1\/deployment\/fail\//)).toHaveLength(1);
    expect(nomad.job(jobId)?.TaskGroups[0]?.Tasks[0]?.Config.image).toBe(`${image}:0.9.0`);
  });
});

describe('checkHealth, retire, revert and list', () => {
  const health = { intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 };

  it('reports a replaced version as exited and a version whose job is gone likewise', async () => {
    const { target } = await setup();
    const first = await target.start({ spec: spec() });
    await target.start({ spec: spec(releases.v2) });
    expect(await target.checkHealth({ instance: first, health })).toEqual({
      status: 'exited',
      detail: `job version 1 was replaced by version 2`,
    });
    expect(await target.checkHealth({ instance: { ...first, id: 'gone-job@3' }, health })).toEqual({
      status: 'exited',
      detail: 'job gone-job is gone',
    });
    await expectCoreError(
      target.checkHealth({ instance: { ...first, id: 'not-an-id' }, health }),
      'BAD_REQUEST',
    );
  });

  it('reports a deployment still running as starting, with its progress', async () => {
    const { target, nomad } = await setup({ target: { deploymentTimeoutMs: 100 } });
    nomad.behave(releases.stuck.digest, 'stuck');
    await expectCoreError(target.start({ spec: spec(releases.stuck) }), 'TIMEOUT');
    // The timeout reverted: version 2 is a copy of version 0.
    expect(nomad.job(jobId)?.Version).toBe(2);
    const stuck = await setup();
    stuck.nomad.behave(releases.stuck.digest, 'stuck');
    const controller = new AbortController();
    await expectCoreError(
      stuck.target.start({
        spec: spec(releases.stuck),
        signal: controller.signal,
        onLog: (line) => line.includes('running') && controller.abort(),
      }),
      'ABORTED',
    );
    const report = await stuck.target.checkHealth({ instance: { id: `${jobId}@1` } as Instance, health });
    expect(report).toMatchObject({
      status: 'starting',
      detail: expect.stringMatching(/of version 1 running.*web 0\/2 healthy/),
    });
  });

  it('retire and revert leave a replaced version and a gone job alone', async () => {
    const { target, nomad } = await setup();
    const first = await target.start({ spec: spec() });
    await target.start({ spec: spec(releases.v2) });
    const writes = () => nomad.requests.filter((request) => request.method !== 'GET').length;
    const before = writes();
    await target.retire({ instance: first });
    await target.revert({ instance: first });
    await target.retire({ instance: { ...first, id: 'gone-job@1' } });
    await target.revert({ instance: { ...first, id: 'gone-job@1' } });
    expect(writes()).toBe(before);
    await expectCoreError(target.retire({ instance: { ...first, id: 'not-an-id' } }), 'BAD_REQUEST');
  });

  it('revert of the current, healthy version reverts to the stable version before it: no guessing from its health', async () => {
    const { target, nomad } = await setup();
    await target.start({ spec: spec() });
    const second = await target.start({ spec: spec(releases.v2) });
    expect((await target.checkHealth({ instance: second, health })).status).toBe('healthy');
    await target.revert({ instance: second });
    await target.revert({ instance: second });
    expect(nomad.requestsTo('POST', /\/revert$/).map((request) => request.body)).toEqual([
      { JobID: jobId, JobVersion: 1, EnforcePriorVersion: 2 },
    ]);
    expect(nomad.job(jobId)?.TaskGroups[0]?.Tasks[0]?.Config.image).toBe(ref(releases.v1));
  });

  it('retire of the current version stops the job (not purged), once', async () => {
    const { target, nomad } = await setup();
    const current = await target.start({ spec: spec() });
    await target.retire({ instance: current });
    await target.retire({ instance: current });
    expect(nomad.requestsTo('DELETE', new RegExp(`^/v1/job/${jobId}$`))).toHaveLength(1);
    expect(nomad.job(jobId)).toMatchObject({ Stop: true, Version: 1 });
    expect(await target.list({ project: 'web-app' })).toMatchObject([{ id: current.id, state: 'stopped' }]);
    expect((await target.checkHealth({ instance: current, health })).status).toBe('exited');
  });

  it('revert of an unhealthy current version reverts to the last stable version, once', async () => {
    const { target, nomad } = await setup();
    nomad.behave(releases.unhealthy.digest, 'unhealthy');
    await target.start({ spec: spec() });
    const bad = await target.start({ spec: spec(releases.unhealthy) });
    expect((await target.checkHealth({ instance: bad, health })).status).toBe('unhealthy');
    await target.revert({ instance: bad });
    await target.revert({ instance: bad });
    expect(nomad.requestsTo('POST', /\/revert$/).map((request) => request.body)).toEqual([
      { JobID: jobId, JobVersion: 1, EnforcePriorVersion: 2 },
    ]);
    expect(nomad.job(jobId)?.TaskGroups[0]?.Tasks[0]?.Config.image).toBe(ref(releases.v1));
  });

  it('revert answers NOT_FOUND when no stable version is left to revert to', async () => {
    const { target, nomad } = await setup({ seed: { stable: false } });
    nomad.behave(releases.unhealthy.digest, 'unhealthy');
    const bad = await target.start({ spec: spec(releases.unhealthy) });
    const error = await expectCoreError(target.revert({ instance: bad }), 'NOT_FOUND');
    expect(error.message).toBe(`Job ${jobId} has no stable version before version 1 left to revert to`);
    expect(nomad.job(jobId)?.Version).toBe(1);
  });

  it('lists the current version of each managed job, filtered by project and stage', async () => {
    const { target, nomad } = await setup({
      target: {
        jobs: {
          'web-app/dev': { job: jobId, endpoint },
          '*': { job: '{project}-{stage}' },
        },
      },
    });
    nomad.seed({ id: 'api-prod', image: `${image}:0.9.0` });
    nomad.seed({ id: 'api-dev', image: `${image}:0.9.0` });
    nomad.seed({ id: 'unmanaged', image: `${image}:0.9.0`, meta: { team: 'x' } });
    await target.start({ spec: spec() });
    await target.start({ spec: spec(releases.v2, { project: 'api', stage: 'prod' }) });
    await target.start({ spec: spec(releases.v3, { project: 'api', stage: 'dev' }) });
    await target.start({ spec: spec(releases.v2, { project: 'api', stage: 'prod' }) });
    const ids = (instances: Instance[]) => instances.map((instance) => instance.id).sort();
    expect(ids(await target.list({}))).toEqual(['api-dev@1', 'api-prod@2', `${jobId}@1`]);
    expect(ids(await target.list({ project: 'api' }))).toEqual(['api-dev@1', 'api-prod@2']);
    const [prod] = await target.list({ project: 'api', stage: 'prod' });
    expect(prod).toEqual({
      id: 'api-prod@2',
      project: 'api',
      stage: 'prod',
      deployId: `d-${n}`,
      release: releases.v2,
      state: 'running',
    });
    expect(nomad.requestsTo('GET', /^\/v1\/jobs$/)[0]?.query).toMatchObject({
      meta: 'true',
      per_page: '100',
    });
  });

  it('lists without job meta in stubs (Nomad before 1.6) and across pages', async () => {
    const { target, nomad } = await setup({ fake: { metaInStubs: false } });
    for (let i = 0; i < 120; i += 1) {
      nomad.seed({
        id: `svc-${String(i).padStart(3, '0')}`,
        image: `${image}@${releases.v1.digest}`,
        meta: {
          'docker_watcher.project': `svc-${String(i).padStart(3, '0')}`,
          'docker_watcher.stage': 'dev',
        },
        taskMeta: {
          'docker_watcher.deploy_id': `seeded-${i}`,
          'docker_watcher.release_tag': 'v1.0.0',
          'docker_watcher.release_digest': releases.v1.digest,
        },
      });
    }
    const wide = createNomadTarget({
      address: nomad.url,
      token,
      jobs: { '*': { job: '{project}-{stage}' } },
    });
    const bound = createNomadTarget({ address: nomad.url, token, jobs: { '*': { job: '{project}' } } });
    expect(await wide.list({})).toEqual([]);
    const all = await bound.list({});
    expect(all).toHaveLength(120);
    expect(nomad.requestsTo('GET', /^\/v1\/jobs$/).length).toBeGreaterThanOrEqual(2);
    expect(await target.list({})).toEqual([]);
    await wide.dispose();
    await bound.dispose();
  });

  it('ignores a job whose image was changed by hand since it was deployed', async () => {
    const { nomad } = await setup();
    nomad.seed({
      id: 'hand-edited',
      image: `${image}:hotfix`,
      meta: { 'docker_watcher.project': 'hand', 'docker_watcher.stage': 'edited' },
      taskMeta: {
        'docker_watcher.deploy_id': 'old',
        'docker_watcher.release_tag': 'v1.0.0',
        'docker_watcher.release_digest': releases.v1.digest,
      },
    });
    const wide = createNomadTarget({
      address: nomad.url,
      token,
      jobs: { '*': { job: '{project}-{stage}' } },
    });
    expect(await wide.list({ project: 'hand' })).toEqual([]);
    await wide.dispose();
  });
});

describe('promote', () => {
  it('answers CONFLICT while the canaries are not all healthy', async () => {
    const { target, nomad } = await setup({ seed: { canary: 1 }, target: { promote: 'confirm' } });
    nomad.behave(releases.stuck.digest, 'stuck');
    const controller = new AbortController();
    await expectCoreError(
      target.start({
        spec: spec(releases.stuck),
        signal: controller.signal,
        onLog: (line) => line.includes('canaries 1/1 placed') && controller.abort(),
      }),
      'ABORTED',
    );
    const [candidate] = await target.list({ project: 'web-app', stage: 'dev' });
    const error = await expectCoreError(target.promote({ instance: candidate as Instance }), 'CONFLICT');
    expect(error.message).toMatch(/Task group "web" has 0\/1 healthy allocations/);
  });

  it('start returns a candidate awaiting promotion, healthy at the gate; promote completes its deployment', async () => {
    const { target, nomad } = await setup({ seed: { canary: 1 }, target: { promote: 'confirm' } });
    const candidate = await target.start({ spec: spec() });
    expect(candidate).toMatchObject({ id: `${jobId}@1`, state: 'running', awaitingPromotion: true });
    const health = { intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 };
    expect(await target.checkHealth({ instance: candidate, health })).toMatchObject({
      status: 'healthy',
      detail: expect.stringMatching(/canaries healthy, awaiting promotion$/),
    });
    expect(nomad.requestsTo('POST', /^\/v1\/deployment\/promote\//)).toHaveLength(0);
    const promoted = await target.promote({ instance: candidate });
    expect(promoted).toEqual({ ...candidate, awaitingPromotion: undefined, state: 'running' });
    expect('awaitingPromotion' in promoted).toBe(false);
    expect(nomad.requestsTo('POST', /^\/v1\/deployment\/promote\//)).toHaveLength(1);
    expect((await target.checkHealth({ instance: promoted, health })).status).toBe('healthy');
    // With promote: auto the target promotes by itself, and the candidate waits for nothing.
    const auto = await setup({ seed: { canary: 1 }, target: { promote: 'auto' } });
    expect((await auto.target.start({ spec: spec() })).awaitingPromotion).toBeUndefined();
  });
});

describe('errors', () => {
  it('maps ACL answers: a missing or read-only token is FORBIDDEN, an unknown one UNAUTHORIZED', async () => {
    const nomad = await startFakeNomad({ tokens: { [token]: 'write', 'read-only-token-1': 'read' } });
    nomad.seed({ id: jobId, image: `${image}:0.9.0` });
    const make = (options: Partial<NomadTargetOptions>) =>
      createNomadTarget({ address: nomad.url, jobs: { 'web-app/dev': { job: jobId } }, ...options });
    const readOnly = make({ token: 'read-only-token-1' });
    const denied = await expectCoreError(readOnly.start({ spec: spec() }), 'FORBIDDEN');
    expect(denied.message).toBe(`Nomad refused to register job ${jobId}: Permission denied`);
    await expectCoreError(make({}).list({}), 'FORBIDDEN');
    const unknown = await expectCoreError(make({ token: 'no-such-token-7' }).list({}), 'UNAUTHORIZED');
    expect(unknown.message).toBe('Nomad refused to list jobs: ACL token not found');
    await nomad.close();
  });

  it('maps an unreachable Nomad to retryable UNAVAILABLE', async () => {
    const target = createNomadTarget({
      address: `http://127.0.0.1:${await closedPort()}`,
      token,
      jobs: { 'web-app/dev': { job: jobId } },
    });
    const error = await expectCoreError(target.start({ spec: spec() }), 'UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(
      /^Nomad at http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\) to read job web-app-dev$/,
    );
    await target.dispose();
  });

  it('reads plain-text error bodies, clipped to one line', async () => {
    const { target, nomad } = await setup();
    nomad.fail({
      path: /^\/v1\/job\//,
      status: 500,
      body: `rpc error: No cluster leader\n${'x'.repeat(500)}`,
    });
    const error = await expectCoreError(target.start({ spec: spec() }), 'UNAVAILABLE');
    expect(error.message).toMatch(
      /^Nomad refused to read job web-app-dev: rpc error: No cluster leader x+…$/,
    );
    expect(error.message.length).toBeLessThan(320);
    expect(error.details).toMatchObject({ status: 500 });
    nomad.fail({
      path: /^\/v1\/job\//,
      status: 400,
      body: '1 error occurred:\n\t* Task group web validation failed',
    });
    await expectCoreError(target.start({ spec: spec() }), 'BAD_REQUEST');
    nomad.fail({ path: /^\/v1\/jobs$/, status: 200, body: 'not json' });
    await expectCoreError(target.list({}), 'BAD_RESPONSE');
  });

  it('rides out a brief outage while following a deployment', async () => {
    const { target, nomad, logger } = await setup();
    nomad.fail({ path: /^\/v1\/deployment\/[0-9a-f-]+$/, status: 500, body: 'rpc error: No cluster leader' });
    nomad.fail({ path: /^\/v1\/deployment\/[0-9a-f-]+$/, drop: true });
    const instance = await target.start({ spec: spec() });
    expect(instance.state).toBe('running');
    expect(logger.entries.filter((entry) => entry.level === 'warn')).toHaveLength(2);
  });

  it('rides out an answer cut short while following a deployment', async () => {
    const { target, nomad, logger } = await setup();
    nomad.fail({ path: /^\/v1\/deployment\/[0-9a-f-]+$/, cut: true });
    const instance = await target.start({ spec: spec() });
    expect(instance.state).toBe('running');
    const warnings = logger.entries.filter((entry) => entry.level === 'warn');
    expect(warnings.map((entry) => entry.message)).toEqual([
      expect.stringMatching(/broke off its answer .*; trying again$/),
    ]);
  });

  it('does not follow a redirect: the token stays with Nomad', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const elsewhere = await listen((request, response) => {
      seen.push(request.headers);
      response.end('[]');
    });
    const redirecting = await listen((_request, response) => {
      response.writeHead(307, { location: `${elsewhere.url}/v1/jobs` });
      response.end();
    });
    const target = createNomadTarget({ address: redirecting.url, token, jobs: { '*': { job: 'x' } } });
    const error = await expectCoreError(target.list({}), 'BAD_RESPONSE');
    expect(error.message).toBe('Nomad refused to list jobs: HTTP 307');
    expect(seen).toEqual([]);
    await target.dispose();
    await Promise.all([elsewhere.close(), redirecting.close()]);
  });

  it('never shows the token: not in errors, logs or deploy log lines', async () => {
    const secret = token;
    const { target, nomad, logger } = await setup({ target: { deploymentTimeoutMs: 150 } });
    const lines: string[] = [];
    const errors: unknown[] = [];
    const attempt = async (action: Promise<unknown>) => {
      try {
        await action;
      } catch (error) {
        errors.push(error);
      }
    };
    nomad.fail({ path: /^\/v1\/job\//, status: 403, body: `Permission denied for token ${secret}` });
    await attempt(target.start({ spec: spec(), onLog: (line) => lines.push(line) }));
    nomad.fail({ path: /^\/v1\/job\//, drop: true });
    await attempt(target.start({ spec: spec(), onLog: (line) => lines.push(line) }));
    nomad.interfere(jobId, 2);
    await attempt(target.start({ spec: spec(), onLog: (line) => lines.push(line) }));
    nomad.behave(releases.stuck.digest, 'stuck');
    await attempt(target.start({ spec: spec(releases.stuck), onLog: (line) => lines.push(line) }));
    expect(errors).toHaveLength(4);
    expect((errors[0] as CoreError).message).toBe(
      `Nomad refused to read job ${jobId}: Permission denied for token [redacted]`,
    );
    expect(errors.every((error) => isCoreError(error))).toBe(true);
    for (const error of errors) expect(everything(error)).not.toContain(secret);
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.join('\n')).not.toContain(secret);
    expect(inspect(logger.entries, { depth: Number.POSITIVE_INFINITY })).not.toContain(secret);
    const unreachable = createNomadTarget({
      address: `http://127.0.0.1:${await closedPort()}`,
      token: secret,
      jobs: { '*': { job: 'x' } },
    });
    await attempt(unreachable.list({}));
    expect(everything(errors.at(-1))).not.toContain(secret);
    await unreachable.dispose();
  });
});

describe('lifecycle', () => {
  it('dispose ends a blocking query in flight and refuses later calls; twice is fine', async () => {
    const { target, nomad } = await setup();
    nomad.behave(releases.stuck.digest, 'stuck');
    const pending = target.start({
      spec: spec(releases.stuck),
      onLog: (line) => {
        if (line.includes('running')) void target.dispose();
      },
    });
    const error = await expectCoreError(pending, 'UNAVAILABLE');
    expect(error.retryable).toBe(false);
    await target.dispose();
    await expectCoreError(target.list({}), 'UNAVAILABLE');
  });
});

describe('TLS', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makeTestPki();
  });
  afterAll(() => pki.remove());

  it('talks mutual TLS with a CA file, client PEMs and a server name', async () => {
    const nomad = await startFakeNomad({ tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca } });
    nomad.seed({ id: jobId, image: `${image}:0.9.0` });
    const options = {
      address: nomad.url,
      jobs: { 'web-app/dev': { job: jobId } },
      tls: { ca: pki.caPath, cert: pki.clientCert, key: pki.clientKey, serverName: 'server.global.nomad' },
    };
    const target = createNomadTarget(options);
    const instance = await target.start({ spec: spec() });
    expect(instance.id).toBe(`${jobId}@1`);
    await target.dispose();
    const withoutClientCert = createNomadTarget({
      ...options,
      tls: { ca: pki.ca, serverName: 'server.global.nomad' },
    });
    await expectCoreError(withoutClientCert.list({}), 'UNAVAILABLE');
    await withoutClientCert.dispose();
    const untrusted = createNomadTarget({ ...options, tls: { cert: pki.clientCert, key: pki.clientKey } });
    const error = await expectCoreError(untrusted.list({}), 'UNAVAILABLE');
    expect(error.message).toMatch(
      /unreachable \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|ERR_TLS_CERT_ALTNAME_INVALID)\)/,
    );
    await untrusted.dispose();
    await nomad.close();
  });

  it('refuses a PEM path it cannot read, without echoing the key option', () => {
    expect(() =>
      createNomadTarget({
        address: 'https://nomad.example:4646',
        jobs: { '*': { job: 'x' } },
        tls: { cert: '/no/such/cert.pem', key: 'not-a-pem-secret-value' },
      }),
    ).toThrow(/tls\.cert: cannot read the PEM file it names \(ENOENT\)/);
    try {
      createNomadTarget({
        address: 'https://nomad.example:4646',
        jobs: { '*': { job: 'x' } },
        tls: { cert: pki.clientCert, key: 'not-a-pem-secret-value' },
      });
      expect.unreachable();
    } catch (error) {
      expect(everything(error)).not.toContain('not-a-pem-secret-value');
      expect(String(error)).toMatch(/tls\.key: cannot read the PEM file/);
    }
  });
});

describe('definition', () => {
  it('declares canaries and no blue-green, and an id with the instance name', async () => {
    const nomad = await startFakeNomad();
    const target = createNomadTarget(
      { address: nomad.url, jobs: { '*': { job: 'x' } } },
      { instance: 'prod', logger: createMemoryLogger() },
    );
    expect(target.id).toBe('target:nomad/prod');
    expect(target.capabilities).toEqual({ blueGreen: false, canary: true, replacement: 'in-place' });
    expect('pull' in target).toBe(false);
    expect('logs' in target).toBe(false);
    await target.dispose();
    await nomad.close();
  });
});
