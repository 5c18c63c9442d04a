import type { InstanceSpec } from '@docker-watcher/core';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { fixture } from '../test/support/fixtures.ts';
import {
  bindingFor,
  deployIdOf,
  instanceId,
  jobWithRelease,
  legacyJobOf,
  locateTask,
  managedRelease,
  parseInstanceId,
} from './_jobs.ts';
import { jobSchema, type NomadJob } from './_nomad-types.ts';

/** The docs' sample job: service `example`, group `cache`, task `redis` running `redis:7`. */
const sampleJob = (): NomadJob =>
  v.parse(jobSchema, fixture<{ Versions: unknown[] }>('job-versions.json').Versions[0]);

const spec: InstanceSpec = {
  project: 'cache',
  stage: 'prod',
  deployId: 'deploy-7',
  image: 'registry.example.com/team/redis',
  release: { tag: '7.2.1', digest: `sha256:${'a'.repeat(64)}` },
  env: { MODE: 'prod' },
};

const options = {
  promote: 'auto' as const,
  jobs: {
    'cache/prod': { job: 'example', endpoint: { host: '{project}.{stage}.consul', port: 6379 } },
    cache: { job: '{project}-{stage}', promote: 'confirm' as const },
    '*': { job: 'apps-{project}-{stage}', group: 'main', task: 'app' },
  },
};

/** A stage's binding as the target reads it: the deprecated `jobs` already read into its own options. */
const bound = (ref: { project: string; stage: string }, own?: Parameters<typeof legacyJobOf>[2]) =>
  bindingFor(options, ref, legacyJobOf(options, ref, own));

describe('bindingFor', () => {
  it("takes the stage's own options over every key of jobs", () => {
    const own = { job: 'own-{stage}', promote: 'confirm' as const };
    expect(bound({ project: 'cache', stage: 'prod' }, own)).toEqual({
      where: "the stage's target options",
      jobId: 'own-prod',
      group: undefined,
      task: undefined,
      promote: 'confirm',
    });
    expect(bindingFor({ promote: 'auto' }, { project: 'web', stage: 'dev' })).toBeUndefined();
  });

  it('reads the deprecated jobs: the most specific key, placeholders filled', () => {
    expect(bound({ project: 'cache', stage: 'prod' })).toEqual({
      where: "the stage's target options",
      jobId: 'example',
      group: undefined,
      task: undefined,
      promote: 'auto',
      endpoint: { host: 'cache.prod.consul', port: 6379 },
    });
    expect(bound({ project: 'cache', stage: 'dev' })).toMatchObject({
      jobId: 'cache-dev',
      promote: 'confirm',
    });
    expect(bound({ project: 'web', stage: 'dev' })).toMatchObject({
      jobId: 'apps-web-dev',
      group: 'main',
      task: 'app',
    });
    expect(legacyJobOf({ jobs: { web: { job: 'web' } } }, { project: 'api', stage: 'dev' })).toBe(undefined);
  });
});

describe('locateTask', () => {
  it('finds the only group and its only task with an image', () => {
    const job = sampleJob();
    const binding = bound({ project: 'cache', stage: 'prod' });
    const { group, task } = locateTask(job, binding!);
    expect([group.Name, task.Name]).toEqual(['cache', 'redis']);
  });

  it('names what to configure when the job is ambiguous, and what is missing', () => {
    const job = sampleJob();
    const group = job.TaskGroups?.[0];
    group?.Tasks?.push({ ...structuredClone(group.Tasks[0]!), Name: 'exporter' });
    job.TaskGroups?.push({ ...structuredClone(group!), Name: 'replica' });
    const binding = { where: 'jobs["cache/prod"]', jobId: 'example', promote: 'auto' as const };
    expect(() => locateTask(job, binding)).toThrow(
      'Job example has 2 task groups (cache, replica): set jobs["cache/prod"].group',
    );
    expect(() => locateTask(job, { ...binding, group: 'cache' })).toThrow(
      'Task group cache of job example has 2 tasks with an image (redis, exporter): set jobs["cache/prod"].task',
    );
    expect(() => locateTask(job, { ...binding, group: 'nope' })).toThrow(
      'Job example has no task group "nope" (jobs["cache/prod"].group)',
    );
    expect(() => locateTask(job, { ...binding, group: 'cache', task: 'nope' })).toThrow(/has no task "nope"/);
    expect(locateTask(job, { ...binding, group: 'cache', task: 'exporter' }).task.Name).toBe('exporter');
  });
});

describe('jobWithRelease', () => {
  it('sets repo@digest, the deploy in the task meta, project and stage in the job meta, and env', () => {
    const job = sampleJob();
    const binding = bound(spec)!;
    const next = jobWithRelease(job, binding, spec);
    const task = next.TaskGroups?.[0]?.Tasks?.[0];
    expect(task?.Config).toEqual({
      image: `registry.example.com/team/redis@${spec.release.digest}`,
      ports: ['db'],
    });
    expect(task?.Meta).toEqual({
      'docker_watcher.deploy_id': 'deploy-7',
      'docker_watcher.release_tag': '7.2.1',
      'docker_watcher.release_digest': spec.release.digest,
    });
    expect(task?.Env).toEqual({ MODE: 'prod' });
    expect(next.Meta).toEqual({ 'docker_watcher.project': 'cache', 'docker_watcher.stage': 'prod' });
    // Every other field survives for the register call, and the job read is left as it was.
    expect(next.NodePool).toBe('prod');
    expect(job.TaskGroups?.[0]?.Tasks?.[0]?.Config?.image).toBe('redis:7');
    expect(deployIdOf(next, binding)).toBe('deploy-7');
    expect(managedRelease(next, binding)).toEqual({
      project: 'cache',
      stage: 'prod',
      deployId: 'deploy-7',
      release: spec.release,
    });
    expect(managedRelease(next)).toEqual(managedRelease(next, binding));
  });

  it('managedRelease ignores jobs without our meta or with an image changed by hand', () => {
    const binding = bound(spec)!;
    expect(managedRelease(sampleJob(), binding)).toBe(undefined);
    const next = jobWithRelease(sampleJob(), binding, spec);
    const task = next.TaskGroups?.[0]?.Tasks?.[0];
    if (task?.Config) task.Config.image = 'registry.example.com/team/redis:hotfix';
    expect(managedRelease(next, binding)).toBe(undefined);
  });
});

describe('instance ids', () => {
  it('are <job>@<version>, and job ids may contain @', () => {
    expect(instanceId('web@eu', 12)).toBe('web@eu@12');
    expect(parseInstanceId('web@eu@12')).toEqual({ jobId: 'web@eu', version: 12 });
    for (const bad of ['web', '@3', 'web@', 'web@-1', 'web@1.5', 'web@x'])
      expect(parseInstanceId(bad)).toBe(undefined);
  });
});
