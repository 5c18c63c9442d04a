import {
  type AdapterContext,
  CoreError,
  type DeployTarget,
  type HealthReport,
  type Instance,
  type InstanceSpec,
  imageReference,
  type StageRef,
  throwIfAborted,
} from '@docker-watcher/core';
import type Docker from 'dockerode';
import { isUnreachable, statusOf, toTargetError } from '../_errors.ts';
import { dockerHealthReport, probeAddress, probeHttp, stateReport } from '../_health.ts';
import { createDockerTarget, type DockerTarget } from '../docker-target.ts';
import { type CandidateContainer, candidateContainers } from '../labels/container-facts.ts';
import { parseImageName } from '../labels/image-name.ts';
import { watchLabels } from '../labels/label-names.ts';
import { type LabelModeOptions, parseContainerLabels } from '../labels/parse-labels.ts';
import {
  createPreviousImageKeeper,
  defaultKeepPreviousImageMs,
  type KeepPreviousImage,
} from '../labels/previous-images.ts';
import { stopTimeoutOf } from '../labels/stage-settings.ts';
import type { DockerTargetOptions } from '../options.ts';
import { asideName } from './aside-name.ts';
import { dependentsOf, followReplacement } from './dependents.ts';
import { recreatePlan } from './recreate-body.ts';

export interface AdoptedTargetOptions extends LabelModeOptions {
  /** The engine and registry credentials, as the Docker target takes them. */
  readonly docker?: DockerTargetOptions;
  /** How long a container with neither a `HEALTHCHECK` nor a probe label must run to count as healthy. Default 10 s. */
  readonly runningGraceMs?: number;
  /** Seconds an old container gets to stop when it sets no stop timeout of its own. Default 10. */
  readonly stopTimeoutSeconds?: number;
  /**
   * How long the image a container ran before an update stays once the update passed its gate
   * (a rollback then needs no registry): ms, 0 removes it at once, `'never'` keeps it. Default 10 min.
   */
  readonly keepPreviousImage?: KeepPreviousImage;
}

/** The containers of one labelled stage: the one holding its name, and old ones set aside by deploys. */
interface StageContainers {
  readonly ref: StageRef;
  /** The name the user gave the container. */
  readonly name: string;
  holder?: CandidateContainer;
  readonly asides: Array<CandidateContainer & { readonly deployId: string }>;
}

/** Deploy id of a container that runs as the user (or an earlier finished deploy) left it. */
export const adoptedDeployId = 'adopted';
const previousOf = (deployId: string) => `${deployId}:previous`;

const stateOf = (status: string): Instance['state'] =>
  status === 'running' ? 'running' : status === 'created' || status === 'paused' ? 'stopped' : 'exited';

/**
 * A deploy target for containers a user created and opted in by label: a release replaces the
 * container in place (same name and configuration, new image), the old one waiting under another
 * name until the new one passes its gate. The core runner drives it in its blue-green order:
 * `start` sets the old container aside and starts the new one; `revert` of that candidate restores
 * the old container (remove, rename back, start); `retire` of the set-aside container removes it.
 * A container the user runs is never removed otherwise.
 */
export function createAdoptedContainerTarget(
  options: AdoptedTargetOptions = {},
  context: AdapterContext = {},
): DeployTarget & { readonly docker: Docker } {
  const inner: DockerTarget = createDockerTarget(options.docker ?? {}, context);
  const { docker } = inner;
  const id = `${inner.id}:adopted`;
  const graceMs = options.runningGraceMs ?? 10_000;
  const labelMode = {
    watchAll: options.watchAll ?? false,
    ...(options.scope === undefined ? {} : { scope: options.scope }),
  };
  const stopSeconds = options.stopTimeoutSeconds ?? 10;
  const previousImages = createPreviousImageKeeper({
    docker,
    keep: options.keepPreviousImage ?? defaultKeepPreviousImageMs,
    ...(context.logger ? { logger: context.logger } : {}),
  });
  const fail = (error: unknown, action: string, signal?: AbortSignal) =>
    toTargetError(error, { action, engine: 'the Docker Engine', target: id, signal });
  const orMissing = async <T>(call: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await call();
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  };

  const groups = async (signal?: AbortSignal): Promise<Map<string, StageContainers>> => {
    const found = new Map<string, StageContainers>();
    for (const { info, facts, aside } of await candidateContainers(docker, labelMode, signal)) {
      const verdict = parseContainerLabels(facts, labelMode);
      if (verdict.kind !== 'stage') continue;
      const ref = { project: verdict.stage.project, stage: verdict.stage.stage };
      const key = `${ref.project}/${ref.stage}`;
      const group = found.get(key) ?? { ref, name: facts.name, asides: [] };
      if (aside) group.asides.push({ info, facts, aside, deployId: aside.deployId });
      else group.holder = { info, facts };
      found.set(key, group);
    }
    return found;
  };
  const groupOf = async (ref: StageRef, signal?: AbortSignal) =>
    (await groups(signal)).get(`${ref.project}/${ref.stage}`);

  /** Tag from the container's image reference, digest from the image's registry references. */
  const releaseOf = async ({ info, facts }: CandidateContainer) => {
    const name = parseImageName(facts.image);
    const image = await orMissing(() => docker.getImage(info.ImageID).inspect());
    const digest =
      image?.RepoDigests?.find((reference) => name && reference.startsWith(`${name.repository}@`))?.split(
        '@',
      )[1] ??
      name?.digest ??
      '';
    return { tag: name?.tag ?? '', digest };
  };

  const instancesOf = async (group: StageContainers): Promise<Instance[]> => {
    const make = async (container: CandidateContainer, deployId: string): Promise<Instance> => ({
      id: container.info.Id,
      ...group.ref,
      deployId,
      release: await releaseOf(container),
      state: stateOf(container.info.State),
    });
    const newest = [...group.asides].sort((a, b) => b.info.Created - a.info.Created)[0];
    const out: Instance[] = [];
    if (group.holder) out.push(await make(group.holder, newest?.deployId ?? adoptedDeployId));
    for (const aside of group.asides) {
      // Without a container under the name, the set-aside one stands for its deploy (a crash mid-way).
      out.push(await make(aside, group.holder ? previousOf(aside.deployId) : aside.deployId));
    }
    return out;
  };

  /** The local tag the user's reference names follows the image that runs, as `docker pull` would leave it. */
  const retag = async (reference: string, imageId: string) => {
    const name = parseImageName(reference);
    if (!name?.tag || name.digest) return;
    await docker.getImage(imageId).tag({ repo: name.repository, tag: name.tag });
  };

  const startQuietly = async (container: Docker.Container) => {
    try {
      await container.start();
    } catch (error) {
      if (statusOf(error) !== 304) throw error;
    }
  };

  const stopQuietly = async (info: Docker.ContainerInspectInfo) => {
    // The label first (docker-watcher.stop-timeout), then the container's own stop timeout.
    const seconds =
      stopTimeoutOf(info.Config.Labels ?? {}) ??
      (info.Config as { StopTimeout?: number }).StopTimeout ??
      stopSeconds;
    try {
      await docker.getContainer(info.Id).stop({ t: seconds });
    } catch (error) {
      if (statusOf(error) !== 304 && statusOf(error) !== 404) throw error;
    }
  };

  const replace = async (
    spec: InstanceSpec,
    onLog: ((line: string) => void) | undefined,
    signal?: AbortSignal,
  ) => {
    const group = await groupOf(spec, signal);
    if (!group) throw new CoreError('NOT_FOUND', `No labelled container is ${spec.project}/${spec.stage}`);
    const mine = group.asides.find((aside) => aside.deployId === spec.deployId);
    if (mine && group.holder) {
      // This deploy started it already (a second call, or a retry after a lost answer).
      await startQuietly(docker.getContainer(group.holder.info.Id));
      const info = await docker.getContainer(group.holder.info.Id).inspect();
      await follow(await docker.getContainer(mine.info.Id).inspect(), info, group.name, onLog);
      return info;
    }
    let oldId = mine?.info.Id;
    if (!oldId) {
      if (!group.holder) throw new CoreError('NOT_FOUND', `${group.name} is gone`);
      oldId = group.holder.info.Id;
      await docker.getContainer(oldId).rename({ name: asideName(group.name, spec.deployId) });
      onLog?.(`set ${group.name} (${oldId.slice(0, 12)}) aside while its replacement is tried`);
    }
    const old = await docker.getContainer(oldId).inspect();
    const oldImage = await docker.getImage(old.Image).inspect();
    await inner.pull({ spec, ...(onLog ? { onLog } : {}), ...(signal ? { signal } : {}) });
    const pulled = await docker.getImage(imageReference(spec.image, spec.release)).inspect();
    throwIfAborted(signal);
    await stopQuietly(old);
    onLog?.(`stopped ${group.name}'s old container`);
    await retag(old.Config.Image, pulled.Id);
    const plan = recreatePlan({ old, oldImage });
    const image = parseImageName(old.Config.Image)?.tag
      ? old.Config.Image
      : imageReference(spec.image, spec.release);
    const created = await docker.createContainer({ ...plan.body, Image: image, name: group.name });
    for (const { network, endpoint } of plan.more)
      await docker.getNetwork(network).connect({ Container: created.id, EndpointConfig: endpoint });
    await startQuietly(created);
    const info = await created.inspect();
    onLog?.(`started ${group.name} (${info.Id.slice(0, 12)}) on ${spec.release.tag}`);
    await follow(old, info, group.name, onLog);
    return info;
  };

  /** Containers that joined `from`'s network namespace or link to it now point at `to` (see `dependents.ts`). */
  const follow = async (
    from: Docker.ContainerInspectInfo,
    to: Docker.ContainerInspectInfo,
    name: string,
    onLog?: (line: string) => void,
  ) => {
    const dependents = await dependentsOf(docker, from);
    if (dependents.length === 0) return;
    await followReplacement(docker, {
      from,
      to: { id: to.Id, name },
      dependents,
      ...(onLog ? { onLog } : {}),
    });
  };

  /** Puts the set-aside container back: the candidate goes, the old one gets its name and runs. */
  const restore = async (group: StageContainers, aside: CandidateContainer) => {
    const holder = group.holder?.info.Id;
    // What depends on either container is found before anything moves (a legacy link names the
    // container by its current name), and follows the restored one afterwards.
    const candidate =
      holder && holder !== aside.info.Id
        ? await orMissing(() => docker.getContainer(holder).inspect())
        : undefined;
    const dependents = candidate ? await dependentsOf(docker, candidate) : [];
    const old = await docker.getContainer(aside.info.Id).inspect();
    // Those still on the old container (the candidate never started) lost its namespace when it stopped.
    const moving = new Set(dependents.map((d) => d.Id));
    const stale = (await dependentsOf(docker, old)).filter((d) => !moving.has(d.Id));
    if (candidate) await orMissing(() => docker.getContainer(candidate.Id).remove({ force: true }));
    await docker.getContainer(aside.info.Id).rename({ name: group.name });
    await retag(aside.facts.image, aside.info.ImageID).catch(() => undefined);
    await startQuietly(docker.getContainer(aside.info.Id));
    const to = { id: aside.info.Id, name: group.name };
    if (candidate && dependents.length > 0)
      await followReplacement(docker, { from: candidate, to, dependents });
    if (stale.length > 0) await followReplacement(docker, { from: old, to, dependents: stale });
  };

  const checkHealth = async (
    instance: Instance,
    path: string | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<HealthReport> => {
    const info = await orMissing(() => docker.getContainer(instance.id).inspect());
    if (!info) return { status: 'exited', detail: `container ${instance.id.slice(0, 12)} is gone` };
    const byState = stateReport(info);
    if (byState) return byState;
    // The image's own HEALTHCHECK first, then the probe the labels name, then "still running".
    const own = dockerHealthReport(info);
    if (own) return own;
    const port = Number(info.Config.Labels?.[watchLabels.healthPort]);
    if (path !== undefined && Number.isInteger(port) && port > 0) {
      const address = probeAddress(info, port, '');
      if (!address) return { status: 'unhealthy', detail: `no address to probe ${path} on` };
      return probeHttp({ ...address, path, timeoutMs, signal });
    }
    const uptime = Date.now() - Date.parse(info.State.StartedAt);
    return uptime >= graceMs
      ? { status: 'healthy', detail: `running for ${Math.round(uptime / 1000)} s` }
      : { status: 'starting', detail: `running for ${Math.max(0, uptime)} ms` };
  };

  /** A candidate's set-aside container is restored (revert); a set-aside one alone is removed (retire). */
  const undoOrRetire = async (instance: Instance, signal: AbortSignal | undefined): Promise<void> => {
    throwIfAborted(signal);
    try {
      const group = await groupOf(instance, signal);
      if (!group) return;
      const aside = group.asides.find((a) => a.deployId === instance.deployId);
      if (aside) return await restore(group, aside);
      const retired = group.asides.find((a) => a.info.Id === instance.id);
      if (retired) {
        await orMissing(() => docker.getContainer(retired.info.Id).remove({ force: true }));
        previousImages.retired({
          name: group.name,
          ...group.ref,
          imageId: retired.info.ImageID,
          reference: retired.facts.image,
        });
        return;
      }
      if (group.holder?.info.Id !== instance.id) return;
      throw new CoreError(
        'UNSUPPORTED',
        `${group.name} is a container you run: docker-watcher replaces it, never removes it`,
        { retryable: false },
      );
    } catch (error) {
      throw fail(error, `stop of ${instance.id.slice(0, 12)}`, signal);
    }
  };

  return {
    id,
    // Never two releases side by side: the runner's blue-green order is used for its steps only.
    capabilities: { blueGreen: false, canary: false },
    docker,
    pull: (params) => inner.pull(params),
    logs: (params) => inner.logs(params),

    async start({ spec, onLog, signal }) {
      throwIfAborted(signal);
      try {
        const info = await replace(spec, onLog, signal);
        return {
          id: info.Id,
          project: spec.project,
          stage: spec.stage,
          deployId: spec.deployId,
          release: spec.release,
          state: info.State.Running ? 'running' : 'exited',
        };
      } catch (error) {
        throw fail(error, `in-place update of ${spec.project}/${spec.stage}`, signal);
      }
    },

    async checkHealth({ instance, health, signal }) {
      throwIfAborted(signal);
      try {
        return await checkHealth(instance, health.path, health.timeoutMs, signal);
      } catch (error) {
        throw fail(error, `health check of ${instance.id.slice(0, 12)}`, signal);
      }
    },

    retire: ({ instance, signal }) => undoOrRetire(instance, signal),
    revert: ({ instance, signal }) => undoOrRetire(instance, signal),

    async list({ project, stage, signal }) {
      throwIfAborted(signal);
      try {
        const out: Instance[] = [];
        for (const group of (await groups(signal)).values()) {
          if (project !== undefined && group.ref.project !== project) continue;
          if (stage !== undefined && group.ref.stage !== stage) continue;
          out.push(...(await instancesOf(group)));
        }
        return out;
      } catch (error) {
        if (isUnreachable(error)) throw fail(error, 'list of labelled containers', signal);
        throw fail(error, 'list of labelled containers', signal);
      }
    },

    dispose: () => {
      previousImages.dispose();
      return inner.dispose();
    },
  };
}
