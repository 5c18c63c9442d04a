import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  adapterId,
  type CallOptions,
  CoreError,
  configError,
  createRedactingLogger,
  type DeployTarget,
  type DeployTargetContext,
  defineDeployTarget,
  type HealthReport,
  type Instance,
  type InstanceSpec,
  imageReference,
  instantiate,
  isCoreError,
  onceDisposer,
  type StageRef,
  silentLogger,
  throwIfAborted,
  toCoreError,
} from '@docker-watcher/core';
import type * as v from 'valibot';
import { createNomadClient, type NomadRequest } from './_client.ts';
import {
  allocationHealth,
  autoPromotes,
  canariesReady,
  deadAllocations,
  deploymentHealth,
  groupsAwaitingPromotion,
  isTerminalDeployment,
  placementFailures,
  progressLine,
  shortId,
} from './_deployment.ts';
import { clip, redact } from './_errors.ts';
import {
  bindingFor,
  deployIdOf,
  imageOf,
  instanceId,
  type JobBinding,
  jobWithRelease,
  legacyJobOf,
  locateTask,
  type ManagedRelease,
  managedRelease,
  metaKeys,
  parseInstanceId,
} from './_jobs.ts';
import {
  allocationsSchema,
  deploymentSchema,
  deploymentsSchema,
  deploymentUpdateResponseSchema,
  evaluationSchema,
  jobSchema,
  jobStubsSchema,
  jobVersionsSchema,
  latestDeploymentSchema,
  type NomadAllocation,
  type NomadDeployment,
  type NomadJob,
  planResponseSchema,
  registerResponseSchema,
} from './_nomad-types.ts';
import { planLines } from './_plan.ts';
import {
  nomadJobBinding,
  nomadTargetOptions,
  nomadTargetSecrets,
  type ResolvedNomadTargetOptions,
} from './options.ts';

/** A DeployTarget for Nomad, with the promotion of canaries that wait for a confirmation. */
export interface NomadTarget extends DeployTarget {
  /**
   * Promotes the canaries of a candidate started with `promote: 'confirm'` (`awaitingPromotion`) and
   * follows its deployment until it is final. `CONFLICT` when its canaries are not all healthy;
   * `UNAVAILABLE` when the deployment fails after the promotion.
   */
  promote(params: CallOptions & { readonly instance: Instance }): Promise<Instance>;
}

/** Transient failures a blocking-query loop rides out before giving up. */
const maxConsecutiveFailures = 3;
const listPageSize = 100;

const jobPath = (jobId: string, suffix = '') => `/v1/job/${encodeURIComponent(jobId)}${suffix}`;

function readPem(value: string | undefined, option: string): string | undefined {
  if (value === undefined || value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch (error) {
    // The value is not echoed: for `key` it might be key material pasted without its PEM header.
    const code = (error as { code?: unknown }).code;
    throw configError(`tls.${option}`, `cannot read the PEM file it names (${String(code ?? error)})`);
  }
}

interface Follow {
  readonly binding: JobBinding;
  readonly version: number;
  readonly evalId: string | undefined;
  /** Whether the bound group has an update block with `max_parallel > 0`: Nomad then makes a deployment. */
  readonly expectsDeployment: boolean;
  readonly deadline: number;
  readonly say: (line: string) => void;
  readonly signal: AbortSignal | undefined;
  readonly ref: StageRef;
}

function buildNomadTarget(options: ResolvedNomadTargetOptions, context: DeployTargetContext): NomadTarget {
  const id = adapterId('target', 'nomad', context.instance);
  const tls = options.tls
    ? {
        ca: readPem(options.tls.ca, 'ca'),
        cert: readPem(options.tls.cert, 'cert'),
        key: readPem(options.tls.key, 'key'),
        serverName: options.tls.serverName,
      }
    : undefined;
  const secrets = [options.token, options.vaultToken, tls?.key].filter(
    (value): value is string => value !== undefined && value !== '',
  );
  const logger = createRedactingLogger((context.logger ?? silentLogger).child({ target: id }), { secrets });
  if (tls && !options.address.startsWith('https:'))
    logger.warn(
      `tls is set but ${options.address} is not an https:// address: the TLS settings are not used`,
    );
  const lifetime = new AbortController();
  const client = createNomadClient({
    address: options.address.replace(/\/+$/, ''),
    token: options.token,
    namespace: options.namespace,
    region: options.region,
    tls,
    requestTimeoutMs: options.requestTimeoutMs,
    target: id,
    secrets,
    lifetime: lifetime.signal,
  });
  const lifecycle = onceDisposer(async () => {
    lifetime.abort();
    client.close();
  });

  const guard = (signal: AbortSignal | undefined) => {
    if (lifecycle.disposed()) {
      throw new CoreError('UNAVAILABLE', `${id} is disposed`, { retryable: false, details: { target: id } });
    }
    throwIfAborted(signal);
  };

  const call = async <S extends v.GenericSchema>(request: NomadRequest, schema: S) =>
    (await client.request(request, schema)).data;

  /** A stage's job: its own options (`context.stageOptions`). */
  const bindingOfStage = (ref: StageRef) =>
    bindingFor(
      options,
      ref,
      context.stageOptions?.(ref) as v.InferOutput<typeof nomadJobBinding> | undefined,
    );
  const requireBinding = (ref: StageRef): JobBinding => {
    const binding = bindingOfStage(ref);
    if (!binding) {
      throw new CoreError(
        'CONFIG_INVALID',
        `${id} has no Nomad job for ${ref.project}/${ref.stage}: give the stage its job in its target options`,
        { details: { target: id, project: ref.project, stage: ref.stage } },
      );
    }
    return binding;
  };

  const readJob = (jobId: string, signal: AbortSignal | undefined) =>
    call({ path: jobPath(jobId), what: `read job ${jobId}`, signal }, jobSchema);

  const readJobIfAny = (jobId: string, signal: AbortSignal | undefined) =>
    readJob(jobId, signal).catch((error: unknown) => {
      if (isCoreError(error, 'NOT_FOUND')) return undefined;
      throw error;
    });

  const versionsOf = async (jobId: string, signal: AbortSignal | undefined) =>
    (
      await call(
        { path: jobPath(jobId, '/versions'), what: `read the versions of job ${jobId}`, signal },
        jobVersionsSchema,
      )
    ).Versions ?? [];

  /** The deployment of one job version (the newest, if Nomad made several), or `undefined`. */
  const deploymentOf = async (
    jobId: string,
    version: number,
    signal: AbortSignal | undefined,
  ): Promise<NomadDeployment | undefined> => {
    const latest = await call(
      { path: jobPath(jobId, '/deployment'), what: `read the latest deployment of job ${jobId}`, signal },
      latestDeploymentSchema,
    );
    if (latest === null) return undefined;
    if (latest.JobVersion === version) return latest;
    const all = await call(
      { path: jobPath(jobId, '/deployments'), what: `read the deployments of job ${jobId}`, signal },
      deploymentsSchema,
    );
    return all
      .filter((deployment) => deployment.JobVersion === version)
      .sort((a, b) => (b.CreateIndex ?? 0) - (a.CreateIndex ?? 0))[0];
  };

  const allocationsOf = async (jobId: string, version: number, signal: AbortSignal | undefined) =>
    (
      await call(
        { path: jobPath(jobId, '/allocations'), what: `read the allocations of job ${jobId}`, signal },
        allocationsSchema,
      )
    ).filter((allocation) => allocation.JobVersion === version);

  const deploymentAllocations = (deploymentId: string, signal: AbortSignal | undefined) =>
    call(
      {
        path: `/v1/deployment/allocations/${encodeURIComponent(deploymentId)}`,
        what: `read the allocations of deployment ${shortId(deploymentId)}`,
        signal,
      },
      allocationsSchema,
    );

  /**
   * Repeats a blocking query until `done` accepts the answer or the deadline passes (`undefined`).
   * A retryable failure (Nomad briefly unreachable in a leader election, an answer cut short) is
   * ridden out; for longer, the error stands.
   */
  const watch = async <S extends v.GenericSchema>(
    request: NomadRequest,
    schema: S,
    done: (data: v.InferOutput<S>) => boolean | Promise<boolean>,
    deadline: number,
  ): Promise<v.InferOutput<S> | undefined> => {
    let index = 0;
    let failures = 0;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return undefined;
      let answer: Awaited<ReturnType<typeof client.request<S>>>;
      try {
        answer = await client.request(
          { ...request, index, waitMs: Math.min(options.blockingQueryWaitMs, remaining) },
          schema,
        );
        failures = 0;
      } catch (error) {
        const failure = toCoreError(error);
        if (!failure.retryable || lifecycle.disposed()) throw failure;
        failures += 1;
        if (failures >= maxConsecutiveFailures) throw failure;
        logger.warn(`${request.what}: ${failure.message}; trying again`, { attempt: failures });
        const pause = Math.min(200 * 2 ** (failures - 1), remaining);
        await sleep(pause, undefined, {
          signal: AbortSignal.any([lifetime.signal, ...(request.signal ? [request.signal] : [])]),
        }).catch(() => guard(request.signal));
        continue;
      }
      // An index that goes backwards (a restored snapshot) restarts the blocking from scratch.
      index = answer.index < index ? 0 : answer.index;
      if (await done(answer.data)) return answer.data;
    }
  };

  const promoteDeployment = (deployment: NomadDeployment, signal: AbortSignal | undefined) =>
    call(
      {
        method: 'POST',
        path: `/v1/deployment/promote/${encodeURIComponent(deployment.ID)}`,
        body: { DeploymentID: deployment.ID, All: true },
        what: `promote deployment ${shortId(deployment.ID)} of job ${deployment.JobID}`,
        signal,
      },
      deploymentUpdateResponseSchema,
    );

  /** Reverts to the newest stable version before `version`, only while the job is still at `version`. */
  const revertToStable = async (
    jobId: string,
    version: number,
    signal: AbortSignal | undefined,
  ): Promise<string> => {
    const versions = await versionsOf(jobId, signal);
    const stable = versions
      .filter((candidate) => candidate.Version < version && candidate.Stable === true)
      .sort((a, b) => b.Version - a.Version)[0];
    if (!stable) {
      throw new CoreError(
        'NOT_FOUND',
        `Job ${jobId} has no stable version before version ${version} left to revert to`,
        { details: { target: id, job: jobId, version } },
      );
    }
    try {
      await call(
        {
          method: 'POST',
          path: jobPath(jobId, '/revert'),
          body: {
            JobID: jobId,
            JobVersion: stable.Version,
            EnforcePriorVersion: version,
            ...(options.vaultToken === undefined ? {} : { VaultToken: options.vaultToken }),
          },
          what: `revert job ${jobId} to version ${stable.Version}`,
          signal,
        },
        registerResponseSchema,
      );
    } catch (error) {
      if (!isCoreError(error, 'CONFLICT')) throw error;
      const job = await readJobIfAny(jobId, signal);
      if (job?.Version === version) throw error;
      return `job ${jobId} moved on to version ${job?.Version ?? 'none'} meanwhile`;
    }
    const release = managedRelease(stable);
    return `reverted job ${jobId} to version ${stable.Version}${release ? ` (${release.release.tag})` : ''}`;
  };

  /**
   * Takes back a job version while it is still the current one: fails its deployment while that runs
   * (Nomad's `auto_revert` may revert it then), else reverts to the last stable version.
   */
  const undo = async (jobId: string, version: number, signal: AbortSignal | undefined): Promise<string> => {
    const job = await readJobIfAny(jobId, signal);
    if (job?.Version !== version) return `job ${jobId} is at version ${job?.Version ?? 'none'} already`;
    const deployment = await deploymentOf(jobId, version, signal);
    if (!deployment || isTerminalDeployment(deployment)) return revertToStable(jobId, version, signal);
    const failed = await call(
      {
        method: 'POST',
        path: `/v1/deployment/fail/${encodeURIComponent(deployment.ID)}`,
        what: `fail deployment ${shortId(deployment.ID)} of job ${jobId}`,
        signal,
      },
      deploymentUpdateResponseSchema,
    );
    const prefix = `failed deployment ${shortId(deployment.ID)}`;
    if (failed.RevertedJobVersion !== undefined && failed.RevertedJobVersion !== null)
      return `${prefix}; Nomad reverted job ${jobId} to version ${failed.RevertedJobVersion} (auto_revert)`;
    const after = await readJobIfAny(jobId, signal);
    if (after?.Version !== version)
      return `${prefix}; job ${jobId} is at version ${after?.Version ?? 'none'}`;
    return `${prefix}; ${await revertToStable(jobId, version, signal)}`;
  };

  /** Fails what `start` registered after the deadline, reverts, and throws `TIMEOUT`. */
  const giveUp = async (follow: Follow, jobId: string, waitingFor: string): Promise<never> => {
    const { version, say, signal } = follow;
    const outcome = await undo(jobId, version, signal).catch(
      (error: unknown) => `undoing it failed: ${toCoreError(error).message}`,
    );
    say(`gave up after ${options.deploymentTimeoutMs} ms waiting for ${waitingFor}: ${outcome}`);
    throw new CoreError(
      'TIMEOUT',
      `Job ${jobId} version ${version} did not finish deploying within ${options.deploymentTimeoutMs} ms (waiting for ${waitingFor}); ${outcome}`,
      { details: { target: id, job: jobId, version, timeoutMs: options.deploymentTimeoutMs } },
    );
  };

  /**
   * Follows the deployment of a registered version until it is final (or the deadline), promoting
   * canaries with `promote: auto`; with `confirm`, until its canaries are healthy and wait. Resolves
   * with the deployment where it stopped (none for a version without one).
   */
  const follow = async (state: Follow): Promise<NomadDeployment | undefined> => {
    const { binding, version, deadline, say, signal } = state;
    const jobId = binding.jobId;
    let deploymentId: string | undefined;
    if (state.evalId) {
      const evalId = state.evalId;
      const evaluation = await watch(
        {
          path: `/v1/evaluation/${encodeURIComponent(evalId)}`,
          what: `read evaluation ${shortId(evalId)}`,
          signal,
        },
        evaluationSchema,
        (data) => data.Status !== 'pending',
        deadline,
      );
      if (!evaluation) return giveUp(state, jobId, `evaluation ${shortId(evalId)}`);
      say(
        `evaluation ${shortId(evalId)} ${evaluation.Status}${evaluation.StatusDescription ? ` (${evaluation.StatusDescription})` : ''}`,
      );
      const waiting = evaluation.BlockedEval ? '; a blocked evaluation waits for capacity' : '';
      for (const line of placementFailures(evaluation.FailedTGAllocs ?? {})) say(`${line}${waiting}`);
      // `canceled` means a newer evaluation took over; what it does shows in the deployment below.
      if (evaluation.Status === 'failed') {
        const outcome = await undo(jobId, version, signal).catch(
          (error: unknown) => `undoing it failed: ${toCoreError(error).message}`,
        );
        say(outcome);
        throw new CoreError(
          'UNAVAILABLE',
          `Nomad's evaluation of job ${jobId} version ${version} failed${evaluation.StatusDescription ? `: ${clip(evaluation.StatusDescription)}` : ''}; ${outcome}`,
          { details: { target: id, job: jobId, version, evaluation: evalId } },
        );
      }
      deploymentId = evaluation.DeploymentID || undefined;
    }

    if (!deploymentId && state.expectsDeployment) {
      const latest = await watch(
        { path: jobPath(jobId, '/deployment'), what: `read the latest deployment of job ${jobId}`, signal },
        latestDeploymentSchema,
        (data) => data !== null && data.JobVersion >= version,
        deadline,
      );
      if (!latest) return giveUp(state, jobId, `a deployment of version ${version}`);
      if (latest.JobVersion > version) {
        throw new CoreError(
          'CONFLICT',
          `Job ${jobId} moved on to version ${latest.JobVersion} while version ${version} was being deployed`,
          { details: { target: id, job: jobId, version } },
        );
      }
      deploymentId = latest.ID;
    }

    if (!deploymentId) {
      say(
        `job ${jobId} version ${version} has no deployment (its group has no update block): following its allocations`,
      );
      let last = '';
      const settled = await watch(
        { path: jobPath(jobId, '/allocations'), what: `read the allocations of job ${jobId}`, signal },
        allocationsSchema,
        (data) => {
          const report = allocationHealth(
            data.filter((allocation: NomadAllocation) => allocation.JobVersion === version),
            version,
          );
          if (report.detail && report.detail !== last) {
            last = report.detail;
            say(last);
          }
          return report.status !== 'starting';
        },
        deadline,
      );
      if (!settled) return giveUp(state, jobId, `the allocations of version ${version}`);
      return undefined;
    }

    let lastLine = '';
    let promotedOnce = false;
    const followed = deploymentId;
    const final = await watch(
      {
        path: `/v1/deployment/${encodeURIComponent(followed)}`,
        what: `read deployment ${shortId(followed)} of job ${jobId}`,
        signal,
      },
      deploymentSchema,
      async (deployment) => {
        const line = progressLine(deployment);
        if (line !== lastLine) {
          lastLine = line;
          say(line);
        }
        if (isTerminalDeployment(deployment)) return true;
        if (canariesReady(deployment) && !autoPromotes(deployment)) {
          if (binding.promote === 'auto' && !promotedOnce) {
            try {
              await promoteDeployment(deployment, signal);
              promotedOnce = true;
              say(`promoted the canaries of ${groupsAwaitingPromotion(deployment).join(', ')}`);
            } catch (error) {
              // A canary turning unhealthy between the read and the promotion: the next change decides.
              if (!isCoreError(error, 'CONFLICT')) throw error;
              say(`promotion refused, waiting: ${error.message}`);
            }
          } else if (binding.promote === 'confirm') {
            // The engine takes it from here: its gate, then an approval, then `promote`.
            say(`the canaries of version ${version} are healthy and wait for their promotion`);
            return true;
          }
        }
        return false;
      },
      deadline,
    );
    if (!final) return giveUp(state, jobId, `deployment ${shortId(followed)}`);
    return final;
  };

  const instanceOf = (job: NomadJob, binding: JobBinding, managed: ManagedRelease): Instance => ({
    id: instanceId(job.ID, job.Version),
    project: managed.project,
    stage: managed.stage,
    deployId: managed.deployId,
    release: managed.release,
    state: job.Stop ? 'stopped' : job.Status === 'dead' ? 'exited' : 'running',
    ...(binding.endpoint ? { endpoint: binding.endpoint } : {}),
  });

  /** The job version a registration made: the current one if it carries the deploy, else found among the versions. */
  const versionWithDeploy = async (
    binding: JobBinding,
    deployId: string,
    signal: AbortSignal | undefined,
  ): Promise<number | undefined> => {
    const job = await readJob(binding.jobId, signal);
    if (deployIdOf(job, binding) === deployId) return job.Version;
    const versions = await versionsOf(binding.jobId, signal);
    return versions
      .filter((candidate) => deployIdOf(candidate, binding) === deployId)
      .sort((a, b) => b.Version - a.Version)[0]?.Version;
  };

  const plan = async (job: NomadJob, say: (line: string) => void, signal: AbortSignal | undefined) => {
    const answer = await call(
      {
        method: 'POST',
        path: jobPath(job.ID, '/plan'),
        body: { Job: job, Diff: true },
        what: `plan job ${job.ID}`,
        signal,
      },
      planResponseSchema,
    );
    for (const line of planLines(answer)) say(line);
  };

  /** Registers the job with the release, check-and-set on its modify index, retried once on a conflict. */
  const register = async (
    first: NomadJob,
    binding: JobBinding,
    spec: InstanceSpec,
    say: (line: string) => void,
    signal: AbortSignal | undefined,
  ): Promise<{ version: number; evalId: string | undefined }> => {
    const jobId = binding.jobId;
    const image = imageReference(spec.image, spec.release);
    let job = first;
    for (let attempt = 1; ; attempt += 1) {
      const { group, task } = locateTask(job, binding);
      const next: NomadJob = { ...jobWithRelease(job, binding, spec), Stop: false };
      if (options.vaultToken !== undefined) next.VaultToken = options.vaultToken;
      if (attempt === 1) {
        if (job.Stop) say(`job ${jobId} is stopped; this deploy starts it again`);
        say(
          imageOf(task) === image
            ? `task ${group.Name}/${task.Name} of job ${jobId} runs ${image} already (the tag was pushed again with the same digest): the deploy id in its meta makes a new job version`
            : `setting task ${group.Name}/${task.Name} of job ${jobId} to ${image}`,
        );
        if (options.plan) await plan(next, say, signal);
      }
      try {
        const answer = await call(
          {
            method: 'POST',
            path: jobPath(jobId),
            body: { Job: next, EnforceIndex: true, JobModifyIndex: job.JobModifyIndex },
            what: `register job ${jobId}`,
            signal,
          },
          registerResponseSchema,
        );
        if (answer.Warnings) say(`Nomad warns: ${clip(answer.Warnings)}`);
        const version = await versionWithDeploy(binding, spec.deployId, signal);
        if (version === undefined) {
          throw new CoreError(
            'CONFLICT',
            `Nomad accepted job ${jobId}, but another registration replaced it before it could be followed`,
            { details: { target: id, job: jobId } },
          );
        }
        say(
          `registered job ${jobId} version ${version}${answer.EvalID ? ` (evaluation ${shortId(answer.EvalID)})` : ''}`,
        );
        return { version, evalId: answer.EvalID || undefined };
      } catch (error) {
        if (!isCoreError(error, 'CONFLICT') || !/modify index/i.test(error.message)) throw error;
        if (attempt >= 2) {
          throw new CoreError(
            'CONFLICT',
            `Job ${jobId} changed again while it was being registered (check-and-set on its modify index failed twice); nothing was registered`,
            { details: { target: id, job: jobId } },
          );
        }
        say(`job ${jobId} changed while it was being registered; trying once more with its new modify index`);
        job = await readJob(jobId, signal);
      }
    }
  };

  /** Canaries that passed and wait for a person (`promote: confirm`), not for Nomad's `auto_promote`. */
  const awaitsConfirmation = (binding: JobBinding | undefined, deployment: NomadDeployment) =>
    binding?.promote === 'confirm' && canariesReady(deployment) && !autoPromotes(deployment);

  const parsedInstance = (instance: Instance) => {
    const parsed = parseInstanceId(instance.id);
    if (!parsed)
      throw new CoreError('BAD_REQUEST', `${instance.id} is not an instance of ${id} (<job>@<version>)`);
    return parsed;
  };

  const target: NomadTarget = {
    id,
    // One current version per job: Nomad replaces the old release itself (rolling update or
    // canaries), so two releases never stay side by side for the engine.
    capabilities: { blueGreen: false, canary: true, replacement: 'in-place' },

    async start({ spec, onLog, signal }) {
      guard(signal);
      const binding = requireBinding(spec);
      const jobId = binding.jobId;
      const deadline = Date.now() + options.deploymentTimeoutMs;
      const say = (line: string) => {
        const text = redact(line, secrets);
        logger.info(text, { job: jobId, deployId: spec.deployId });
        onLog?.(text);
      };
      let job = await readJob(jobId, signal);
      const { group } = locateTask(job, binding);
      let version: number;
      let evalId: string | undefined;
      if (deployIdOf(job, binding) === spec.deployId) {
        version = job.Version;
        say(`job ${jobId} version ${version} is this deploy already: following it`);
      } else {
        const proven = (await versionsOf(jobId, signal))
          .filter(
            (candidate) => candidate.Stable === true && deployIdOf(candidate, binding) === spec.deployId,
          )
          .sort((a, b) => b.Version - a.Version)[0];
        if (proven) {
          // The release of this deploy ran well in that version: bring it back as it was.
          say(`job ${jobId} version ${proven.Version} ran this deploy and was stable: reverting to it`);
          const answer = await call(
            {
              method: 'POST',
              path: jobPath(jobId, '/revert'),
              body: {
                JobID: jobId,
                JobVersion: proven.Version,
                EnforcePriorVersion: job.Version,
                ...(options.vaultToken === undefined ? {} : { VaultToken: options.vaultToken }),
              },
              what: `revert job ${jobId} to version ${proven.Version}`,
              signal,
            },
            registerResponseSchema,
          );
          job = await readJob(jobId, signal);
          version = job.Version;
          evalId = answer.EvalID || undefined;
        } else {
          ({ version, evalId } = await register(job, binding, spec, say, signal));
        }
      }
      const followed = await follow({
        binding,
        version,
        evalId,
        expectsDeployment: (group.Update?.MaxParallel ?? 0) > 0,
        deadline,
        say,
        signal,
        ref: spec,
      });
      const waits = followed !== undefined && awaitsConfirmation(binding, followed);
      const now = await readJob(jobId, signal);
      return {
        id: instanceId(jobId, version),
        project: spec.project,
        stage: spec.stage,
        deployId: spec.deployId,
        release: { tag: spec.release.tag, digest: spec.release.digest },
        state: now.Version !== version ? 'exited' : now.Stop ? 'stopped' : 'running',
        ...(binding.endpoint ? { endpoint: binding.endpoint } : {}),
        ...(waits ? { awaitingPromotion: true } : {}),
      };
    },

    async checkHealth({ instance, signal }): Promise<HealthReport> {
      guard(signal);
      const { jobId, version } = parsedInstance(instance);
      const job = await readJobIfAny(jobId, signal);
      if (!job) return { status: 'exited', detail: `job ${jobId} is gone` };
      if (job.Stop) return { status: 'exited', detail: `job ${jobId} is stopped` };
      const deployment = await deploymentOf(jobId, version, signal);
      if (!deployment) {
        if (job.Version !== version)
          return {
            status: 'exited',
            detail: `job version ${version} was replaced by version ${job.Version}`,
          };
        return allocationHealth(await allocationsOf(jobId, version, signal), version);
      }
      const dead =
        deployment.Status === 'failed' || deployment.Status === 'cancelled'
          ? deadAllocations(await deploymentAllocations(deployment.ID, signal))
          : undefined;
      return deploymentHealth(deployment, {
        current: job.Version === version,
        currentVersion: job.Version,
        dead,
        awaitsConfirmation: awaitsConfirmation(bindingOfStage(instance), deployment),
      });
    },

    async retire({ instance, signal }) {
      guard(signal);
      const { jobId, version } = parsedInstance(instance);
      const job = await readJobIfAny(jobId, signal);
      // Gone, stopped, or replaced (by a newer deploy, Nomad's auto_revert or a revert): nothing runs it.
      if (!job || job.Stop || job.Version !== version) return;
      // The engine never retires on an in-place target; a direct call stops the job (not purged).
      await call(
        { method: 'DELETE', path: jobPath(jobId), what: `stop job ${jobId}`, signal },
        registerResponseSchema,
      );
      logger.info(`retired ${instance.id}: stopped job ${jobId}`, {
        job: jobId,
        deployId: instance.deployId,
      });
    },

    async revert({ instance, signal }) {
      guard(signal);
      const { jobId, version } = parsedInstance(instance);
      const outcome = await undo(jobId, version, signal);
      logger.info(`reverted ${instance.id}: ${outcome}`, { job: jobId, deployId: instance.deployId });
    },

    async list({ project, stage, signal }) {
      guard(signal);
      const ids = new Set<string>();
      const own =
        project !== undefined && stage !== undefined ? bindingOfStage({ project, stage }) : undefined;
      if (own) ids.add(own.jobId);
      let nextToken: string | undefined;
      do {
        const answer = await client.request(
          {
            path: '/v1/jobs',
            query: { meta: true, per_page: listPageSize, next_token: nextToken },
            what: 'list jobs',
            signal,
          },
          jobStubsSchema,
        );
        // Nomad before 1.6 leaves `meta` out of job stubs: then every service job is a candidate.
        const withMeta = answer.data.some((stub) => stub.Meta !== undefined);
        for (const stub of answer.data) {
          if (withMeta) {
            const meta = stub.Meta ?? {};
            if (!meta[metaKeys.project]) continue;
            if (project !== undefined && meta[metaKeys.project] !== project) continue;
            if (stage !== undefined && meta[metaKeys.stage] !== stage) continue;
          } else if ((stub.Type ?? 'service') !== 'service') continue;
          ids.add(stub.ID);
        }
        nextToken = answer.headers.get('x-nomad-nexttoken') || undefined;
      } while (nextToken !== undefined);
      const instances: Instance[] = [];
      for (const jobId of [...ids].sort()) {
        const job = await readJobIfAny(jobId, signal);
        const ref = job && {
          project: job.Meta?.[metaKeys.project] ?? '',
          stage: job.Meta?.[metaKeys.stage] ?? '',
        };
        if (!job || !ref?.project || !ref.stage) continue;
        if (
          (project !== undefined && ref.project !== project) ||
          (stage !== undefined && ref.stage !== stage)
        )
          continue;
        const binding = bindingOfStage(ref);
        if (!binding || binding.jobId !== job.ID) continue;
        const managed = managedRelease(job, binding);
        if (managed) instances.push(instanceOf(job, binding, managed));
      }
      return instances;
    },

    async promote({ instance, signal }) {
      guard(signal);
      const { jobId, version } = parsedInstance(instance);
      const binding = requireBinding(instance);
      const deployment = await deploymentOf(jobId, version, signal);
      if (!deployment)
        throw new CoreError('NOT_FOUND', `Job ${jobId} version ${version} has no deployment to promote`, {
          details: { target: id, job: jobId, version },
        });
      const say = (line: string) =>
        logger.info(redact(line, secrets), { job: jobId, deployId: instance.deployId });
      if (groupsAwaitingPromotion(deployment).length > 0) {
        await promoteDeployment(deployment, signal);
        say(`promoted the canaries of deployment ${shortId(deployment.ID)}`);
      }
      const final = await follow({
        binding,
        version,
        evalId: undefined,
        expectsDeployment: true,
        deadline: Date.now() + options.deploymentTimeoutMs,
        say,
        signal,
        ref: instance,
      });
      if (final?.Status !== 'successful')
        throw new CoreError(
          'UNAVAILABLE',
          `Deployment ${shortId(deployment.ID)} of job ${jobId} ended ${final?.Status ?? 'unknown'} after the promotion${final?.StatusDescription ? ` (${final.StatusDescription})` : ''}`,
          { details: { target: id, job: jobId, version } },
        );
      const { awaitingPromotion: _promoted, ...rest } = instance;
      return { ...rest, state: 'running' };
    },

    dispose: lifecycle.dispose,
  };
  return target;
}

/** The definition the server's config uses: name `nomad`, options `nomadTargetOptions`. */
export const nomadTarget = defineDeployTarget({
  name: 'nomad',
  options: nomadTargetOptions,
  stageOptions: nomadJobBinding,
  legacyStageOptions: {
    key: 'jobs',
    of: (options, ref, own) =>
      legacyJobOf(
        options as ResolvedNomadTargetOptions,
        ref,
        own as v.InferOutput<typeof nomadJobBinding> | undefined,
      ),
  },
  secrets: nomadTargetSecrets,
  create: buildNomadTarget,
});

/**
 * A deploy target that runs each project-stage as a Nomad job: `start` sets the job's image to
 * `repo@digest`, registers it and follows its deployment; `revert` of a candidate rolls the job back
 * to its last stable version.
 */
export function createNomadTarget(
  options: v.InferInput<typeof nomadTargetOptions>,
  context: DeployTargetContext = {},
): NomadTarget {
  return instantiate(nomadTarget, options, context);
}
