import {
  CoreError,
  type Endpoint,
  type InstanceSpec,
  imageReference,
  type Release,
  type StageRef,
} from '@docker-watcher/core';
import type * as v from 'valibot';
import type { NomadJob, NomadTask, NomadTaskGroup } from './_nomad-types.ts';
import type { nomadJobBinding, ResolvedNomadTargetOptions } from './options.ts';

/**
 * Meta keys the target writes. Project and stage go on the job (they never change after the first
 * deploy); the deploy's own facts go on the task, so that a new deploy restarts only that task.
 * Only `[A-Za-z0-9_.]`: Nomad turns any other character of a meta key into `_`.
 */
export const metaKeys = {
  project: 'docker_watcher.project',
  stage: 'docker_watcher.stage',
  deployId: 'docker_watcher.deploy_id',
  tag: 'docker_watcher.release_tag',
  digest: 'docker_watcher.release_digest',
} as const;

export type PromoteMode = 'auto' | 'confirm';

export interface JobBinding {
  /** Where the binding is configured, for messages: the stage's own options. */
  readonly where: string;
  readonly jobId: string;
  readonly group?: string | undefined;
  readonly task?: string | undefined;
  readonly promote: PromoteMode;
  readonly endpoint?: Endpoint | undefined;
}

type JobEntry = v.InferOutput<typeof nomadJobBinding>;
/** Where a stage's own job is configured, for messages. */
const ownWhere = "the stage's target options";

const fill = (template: string, ref: StageRef) =>
  template.replaceAll('{project}', ref.project).replaceAll('{stage}', ref.stage);

/** The job of a project-stage, from its stage options (`own`); `undefined` for a stage that gives none. */
export function bindingFor(
  options: Pick<ResolvedNomadTargetOptions, 'promote'>,
  ref: StageRef,
  own?: JobEntry,
): JobBinding | undefined {
  if (!own) return undefined;
  return {
    where: ownWhere,
    jobId: fill(own.job, ref),
    group: own.group,
    task: own.task,
    promote: own.promote ?? options.promote,
    ...(own.endpoint ? { endpoint: { host: fill(own.endpoint.host, ref), port: own.endpoint.port } } : {}),
  };
}

/**
 * The deprecated `jobs` option as one stage's own options: the stage's own win; then `project/stage`
 * over `project` over `*`.
 */
export function legacyJobOf(
  options: Pick<ResolvedNomadTargetOptions, 'jobs'>,
  ref: StageRef,
  own?: JobEntry,
): JobEntry | undefined {
  if (own) return own;
  const jobs = options.jobs ?? {};
  const key = [`${ref.project}/${ref.stage}`, ref.project, '*'].find((candidate) =>
    Object.hasOwn(jobs, candidate),
  );
  return key === undefined ? undefined : jobs[key];
}

export interface TaskLocation {
  readonly group: NomadTaskGroup;
  readonly task: NomadTask;
}

const hasImage = (task: NomadTask) => typeof task.Config?.image === 'string';

/** Finds the group and task whose image a deploy sets; a job that leaves it ambiguous is a config problem. */
export function locateTask(job: NomadJob, binding: JobBinding): TaskLocation {
  const { where } = binding;
  const groups = job.TaskGroups ?? [];
  let group: NomadTaskGroup | undefined;
  if (binding.group !== undefined) {
    group = groups.find((candidate) => candidate.Name === binding.group);
    if (!group) {
      throw new CoreError(
        'NOT_FOUND',
        `Job ${job.ID} has no task group "${binding.group}" (${where}.group)`,
        {
          details: { job: job.ID, groups: groups.map((candidate) => candidate.Name) },
        },
      );
    }
  } else if (groups.length === 1) {
    group = groups[0];
  } else {
    throw new CoreError(
      'CONFIG_INVALID',
      `Job ${job.ID} has ${groups.length} task groups (${groups.map((candidate) => candidate.Name).join(', ') || 'none'}): set ${where}.group`,
      { details: { job: job.ID } },
    );
  }
  const chosen = group as NomadTaskGroup;
  const tasks = chosen.Tasks ?? [];
  let task: NomadTask | undefined;
  if (binding.task !== undefined) {
    task = tasks.find((candidate) => candidate.Name === binding.task);
    if (!task) {
      throw new CoreError(
        'NOT_FOUND',
        `Task group ${chosen.Name} of job ${job.ID} has no task "${binding.task}" (${where}.task)`,
        { details: { job: job.ID, group: chosen.Name, tasks: tasks.map((candidate) => candidate.Name) } },
      );
    }
  } else {
    const withImage = tasks.filter(hasImage);
    if (withImage.length !== 1) {
      throw new CoreError(
        'CONFIG_INVALID',
        `Task group ${chosen.Name} of job ${job.ID} has ${withImage.length} tasks with an image (${withImage.map((candidate) => candidate.Name).join(', ') || 'none'}): set ${where}.task`,
        { details: { job: job.ID, group: chosen.Name } },
      );
    }
    task = withImage[0];
  }
  const found = task as NomadTask;
  if (!hasImage(found)) {
    throw new CoreError(
      'CONFIG_INVALID',
      `Task ${found.Name} of job ${job.ID} has no config.image to set (driver ${found.Driver ?? 'unknown'})`,
      { details: { job: job.ID, group: chosen.Name, task: found.Name } },
    );
  }
  return { group: chosen, task: found };
}

/** The image a task runs now. */
export const imageOf = (task: NomadTask): string => String(task.Config?.image ?? '');

/**
 * A copy of the job that runs `spec`: the task's image becomes `repo@digest`, the deploy's facts go
 * into the task's meta (so the job changes, and Nomad makes a new version, even when the image string
 * does not), project and stage into the job's meta, and the spec's env over the task's.
 */
export function jobWithRelease(job: NomadJob, binding: JobBinding, spec: InstanceSpec): NomadJob {
  const next = structuredClone(job);
  const { task } = locateTask(next, binding);
  task.Config = { ...task.Config, image: imageReference(spec.image, spec.release) };
  task.Meta = {
    ...task.Meta,
    [metaKeys.deployId]: spec.deployId,
    [metaKeys.tag]: spec.release.tag,
    [metaKeys.digest]: spec.release.digest,
  };
  if (spec.env && Object.keys(spec.env).length > 0) task.Env = { ...task.Env, ...spec.env };
  next.Meta = { ...next.Meta, [metaKeys.project]: spec.project, [metaKeys.stage]: spec.stage };
  return next;
}

export interface ManagedRelease extends StageRef {
  readonly deployId: string;
  readonly release: Release;
}

/**
 * What docker-watcher deployed in this job version, from its meta; `undefined` for a job it does not
 * manage, or whose image was changed by hand since (the meta would lie about it).
 */
export function managedRelease(job: NomadJob, binding?: JobBinding): ManagedRelease | undefined {
  const project = job.Meta?.[metaKeys.project];
  const stage = job.Meta?.[metaKeys.stage];
  if (!project || !stage) return undefined;
  let task: NomadTask | undefined;
  if (binding) {
    try {
      task = locateTask(job, binding).task;
    } catch {
      return undefined;
    }
  } else {
    task = (job.TaskGroups ?? [])
      .flatMap((group) => group.Tasks ?? [])
      .find((candidate) => candidate.Meta?.[metaKeys.deployId] !== undefined);
  }
  const deployId = task?.Meta?.[metaKeys.deployId];
  const tag = task?.Meta?.[metaKeys.tag];
  const digest = task?.Meta?.[metaKeys.digest];
  if (!task || !deployId || tag === undefined || !digest || !imageOf(task).endsWith(`@${digest}`))
    return undefined;
  return { project, stage, deployId, release: { tag, digest } };
}

/** The deploy id a job version carries in the bound task, if any. */
export function deployIdOf(job: NomadJob, binding: JobBinding): string | undefined {
  try {
    return locateTask(job, binding).task.Meta?.[metaKeys.deployId];
  } catch {
    return undefined;
  }
}

/** Instance ids are `<job>@<version>`. */
export const instanceId = (jobId: string, version: number): string => `${jobId}@${version}`;

export function parseInstanceId(
  id: string,
): { readonly jobId: string; readonly version: number } | undefined {
  const at = id.lastIndexOf('@');
  if (at <= 0) return undefined;
  const version = Number(id.slice(at + 1));
  if (!Number.isSafeInteger(version) || version < 0 || id.slice(at + 1) === '') return undefined;
  return { jobId: id.slice(0, at), version };
}
