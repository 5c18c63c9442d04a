import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InstanceSpec } from '@docker-watcher/core';
import { pollUntil } from '@docker-watcher/core/testing';
import { appFixture, appPort, dockerClient, pushImage, testkitLabels } from '@docker-watcher/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type FixtureRegistry,
  fetchText,
  startFixtureRegistry,
  testProject,
  testRun,
} from './support/fixtures.ts';

// What a deploy's container looks like on the engine: name, labels, env, limits, network, ports.
const run = testRun('containers');
let fixtures: FixtureRegistry;
let noHealthcheck: { image: string; digest: string };
const dir = mkdtempSync(join(tmpdir(), 'dw-target-docker-'));

beforeAll(async () => {
  fixtures = await startFixtureRegistry({ tags: ['v1', 'v2', 'crash'] });
  // The fixture app without its HEALTHCHECK, for the "still running" rule.
  const docker = dockerClient();
  const ref = `dw-target-docker-test/no-healthcheck:${run.id}`;
  writeFileSync(join(dir, 'Dockerfile'), `FROM ${appFixture('v1').ref}\nHEALTHCHECK NONE\n`);
  const stream = await docker.buildImage(
    { context: dir, src: ['Dockerfile'] },
    { t: ref, labels: testkitLabels() },
  );
  await new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null) =>
      error ? reject(error) : resolve(undefined),
    ),
  );
  const pushed = await pushImage(fixtures.registry, {
    source: ref,
    repository: 'fixtures/no-healthcheck',
    tag: 'v1',
  });
  await docker.getImage(ref).remove();
  noHealthcheck = { image: `${fixtures.registry.host}/fixtures/no-healthcheck`, digest: pushed.digest };
});
afterEach(() => run.cleanup());
afterAll(async () => {
  await run.cleanup();
  await run.removeImages(fixtures.image);
  await run.removeImages(noHealthcheck.image);
  await fixtures?.registry.stop();
  rmSync(dir, { recursive: true, force: true });
});

const specOf = (project: string, overrides: Partial<InstanceSpec> = {}): InstanceSpec => ({
  project,
  stage: 'dev',
  deployId: `${project}-1`,
  image: fixtures.image,
  release: fixtures.releases.v1,
  ...overrides,
});

const health = { path: '/health', intervalMs: 100, timeoutMs: 1_000, retries: 3, startPeriodMs: 0 };

describe('containers', () => {
  it('carry the deterministic name, the labels, env, limits and mounts of the merged settings', async () => {
    const project = testProject(run, 'settings');
    const envFile = join(dir, 'app.env');
    writeFileSync(envFile, '# app settings\nFROM_FILE=file\nOVERRIDDEN=file\nQUOTED="a b"\n');
    const target = run.target({
      env: { OVERRIDDEN: 'target', TARGET: 'yes' },
      envFiles: [envFile],
      labels: { team: 'web' },
      memory: '64m',
      cpus: 0.5,
      restartPolicy: 'on-failure',
      volumes: [`${dir}:/config:ro`],
      stages: {
        dev: { env: { STAGE: 'dev', OVERRIDDEN: 'stage' } },
        [`${project}/dev`]: { memory: '32m', labels: { tier: 'frontend' } },
      },
    });
    const spec = specOf(project, { env: { FROM_SPEC: 'spec' } });
    const instance = await target.start({ spec });
    const info = await target.docker.getContainer(instance.id).inspect();

    expect(info.Name).toBe(`/dw-${project}-dev-v1-${fixtures.releases.v1.digest.slice(7, 19)}`);
    expect(info.Config.Image).toBe(`${fixtures.image}@${fixtures.releases.v1.digest}`);
    expect(info.Config.Labels).toMatchObject({
      'docker-watcher.managed': 'true',
      'docker-watcher.project': project,
      'docker-watcher.stage': 'dev',
      'docker-watcher.release': 'v1',
      'docker-watcher.digest': fixtures.releases.v1.digest,
      'docker-watcher.deploy-id': spec.deployId,
      'docker-watcher.image': fixtures.image,
      // From the image's EXPOSE: the spec has no port.
      'docker-watcher.port': String(appPort),
      team: 'web',
      tier: 'frontend',
    });
    expect(info.Config.Env).toEqual(
      expect.arrayContaining([
        'FROM_FILE=file',
        'QUOTED=a b',
        'OVERRIDDEN=stage',
        'TARGET=yes',
        'STAGE=dev',
        'FROM_SPEC=spec',
      ]),
    );
    expect(info.HostConfig.Memory).toBe(32 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(500_000_000);
    expect(info.HostConfig.RestartPolicy?.Name).toBe('on-failure');
    expect(info.HostConfig.Binds).toEqual([`${dir}:/config:ro`]);
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([run.network]);
    expect(instance.endpoint?.host).toBe('127.0.0.1');
    expect(await fetchText(instance.endpoint!, '/version')).toBe('v1');
  });

  it('get a new name when a tag is pushed again with another digest', async () => {
    const project = testProject(run, 'repush');
    const target = run.target();
    const first = await target.start({ spec: specOf(project) });
    const repushed = { tag: 'v1', digest: fixtures.releases.v2.digest };
    const second = await target.start({
      spec: specOf(project, { deployId: `${project}-2`, release: repushed }),
    });
    const names = await Promise.all(
      [first, second].map(async (instance) => (await target.docker.getContainer(instance.id).inspect()).Name),
    );
    expect(names[0]).not.toBe(names[1]);
    expect(names[1]).toBe(`/dw-${project}-dev-v1-${fixtures.releases.v2.digest.slice(7, 19)}`);
  });

  it('are started again, not created twice, when a deploy retries start after the container stopped', async () => {
    const project = testProject(run, 'restart');
    const target = run.target();
    const spec = specOf(project);
    const first = await target.start({ spec });
    await target.docker.getContainer(first.id).stop({ t: 1 });
    expect((await target.list({ project }))[0]?.state).toBe('exited');
    const again = await target.start({ spec });
    expect(again.id).toBe(first.id);
    expect(again.state).toBe('running');
  });

  it('are reached at their address on the shared network when not published', async () => {
    const project = testProject(run, 'network');
    const target = run.target({ publish: false });
    const instance = await target.start({ spec: specOf(project, { port: appPort }) });
    const info = await target.docker.getContainer(instance.id).inspect();
    expect(instance.endpoint).toEqual({
      host: info.NetworkSettings.Networks[run.network]?.IPAddress,
      port: appPort,
    });
    expect(info.HostConfig.PortBindings ?? {}).toEqual({});
    expect((await target.list({ project }))[0]?.endpoint).toEqual(instance.endpoint);
    const reports = await pollUntil(
      () => target.checkHealth({ instance, health }),
      (report) => report.status === 'healthy',
      { intervalMs: 100, timeoutMs: 10_000 },
    );
    expect(reports.at(-1)).toEqual({ status: 'healthy', detail: 'GET /health -> 200', httpStatus: 200 });
  });

  it('without a health path are judged by the image HEALTHCHECK', async () => {
    const project = testProject(run, 'own-check');
    const target = run.target();
    const instance = await target.start({ spec: specOf(project) });
    const reports = await pollUntil(
      () => target.checkHealth({ instance, health: { ...health, path: undefined } }),
      (report) => report.status === 'healthy',
      { intervalMs: 200, timeoutMs: 15_000 },
    );
    expect(reports[0]?.status).toBe('starting');
    expect(reports.at(-1)?.detail).toMatch(/^HEALTHCHECK exit 0/);
  });

  it('without a health path or a HEALTHCHECK count as healthy once they keep running', async () => {
    const project = testProject(run, 'running');
    const target = run.target({ runningGraceMs: 700 });
    const instance = await target.start({
      spec: specOf(project, {
        image: noHealthcheck.image,
        release: { tag: 'v1', digest: noHealthcheck.digest },
      }),
    });
    const noPath = { ...health, path: undefined };
    expect((await target.checkHealth({ instance, health: noPath })).status).toBe('starting');
    const reports = await pollUntil(
      () => target.checkHealth({ instance, health: noPath }),
      (report) => report.status !== 'starting',
      { intervalMs: 100, timeoutMs: 10_000 },
    );
    expect(reports.at(-1)?.status).toBe('healthy');
  });

  it('that crash with a restart policy report exited with the restarts, not starting', async () => {
    const project = testProject(run, 'crash-loop');
    const target = run.target({ restartPolicy: 'always' });
    const instance = await target.start({ spec: specOf(project, { release: fixtures.releases.crash }) });
    const reports = await pollUntil(
      () => target.checkHealth({ instance, health }),
      (report) => report.status === 'exited',
      { intervalMs: 100, timeoutMs: 10_000 },
    );
    expect(reports.at(-1)?.detail).toMatch(/exit code 3|restart/);
    const lines = await target.logs({ instance, tail: 1 });
    expect(lines).toEqual(['fixture app: failing at start on purpose']);
  });

  it('that are gone report exited, and stop and logs tell apart gone from failing', async () => {
    const project = testProject(run, 'gone');
    const target = run.target();
    const instance = await target.start({ spec: specOf(project) });
    await target.docker.getContainer(instance.id).remove({ force: true });
    expect(await target.checkHealth({ instance, health })).toEqual({
      status: 'exited',
      detail: `container ${instance.id.slice(0, 12)} is gone`,
    });
    await target.revert({ instance });
    await expect(target.logs({ instance, tail: 5 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
