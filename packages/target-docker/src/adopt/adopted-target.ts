import {
  type AdapterContext,
  CoreError,
  type DeployTarget,
  type HealthReport,
  type Instance,
  type InstanceSpec,
  imageReference,
  type StageRef,
  stageKey,
  throwIfAborted,
} from '@docker-watcher/core';
import type Docker from 'dockerode';
import { createOnceMore } from '../_create-once-more.ts';
import { isUnreachable, statusOf, toTargetError } from '../_errors.ts';
import { dockerHealthReport, probeAddress, probeHttp, stateReport } from '../_health.ts';
import { createDockerTarget, type DockerTarget } from '../docker-target.ts';
import type { CandidateContainer } from '../labels/container-facts.ts';
import { parseImageName } from '../labels/image-name.ts';
import { watchLabels } from '../labels/label-names.ts';
import type { LabelModeOptions } from '../labels/parse-labels.ts';
import {
  createPreviousImageKeeper,
  defaultKeepPreviousImageMs,
  type KeepPreviousImage,
} from '../labels/previous-images.ts';
import { stopTimeoutOf } from '../labels/stage-settings.ts';
import type { DockerTargetOptions } from '../options.ts';
import { asideName, nextName } from './aside-name.ts';
import { dependentsOf, followReplacement } from './dependents.ts';
import { recreatePlan } from './recreate-body.ts';
import { startBeside, takeOver } from './side-by-side.ts';
import { instancesOf, type StageContainers, type StandIn, stageContainers } from './stage-containers.ts';

export { adoptedDeployId } from './stage-containers.ts';

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

/**
 * A deploy target for containers a user created and opted in by label: a release replaces the
 * container (same name and configuration, new image), side by side where its configuration allows
 * (`replacementOf`), else in place. The core runner drives both in its blue-green order:
 * - side by side, `start` starts the new container beside the old one, which keeps serving;
 *   `revert` removes the new one; `retire` of the old one hands the aliases and the name to the new
 *   one, then stops and removes the old one;
 * - in place, `start` sets the old container aside (another name, stopped) and starts the new one;
 *   `revert` restores the old one (remove, rename back, start); `retire` of it removes it.
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
  // What an earlier server left waiting for its grace period is removed when due.
  previousImages.resume(labelMode).catch((error: unknown) =>
    context.logger?.warn('could not look for previous images waiting for removal', {
      error: String(error),
    }),
  );
  const groups = (signal?: AbortSignal) => stageContainers(docker, labelMode, signal);
  const groupOf = async (ref: StageRef, signal?: AbortSignal) => (await groups(signal)).get(stageKey(ref));
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

  /** The image the new container is created from: the user's reference, its tag following the pulled image. */
  const pullFor = async (
    spec: InstanceSpec,
    old: Docker.ContainerInspectInfo,
    onLog: ((line: string) => void) | undefined,
    signal?: AbortSignal,
  ) => {
    await inner.pull({ spec, ...(onLog ? { onLog } : {}), ...(signal ? { signal } : {}) });
    const pulled = await docker.getImage(imageReference(spec.image, spec.release)).inspect();
    throwIfAborted(signal);
    return {
      pulled,
      image: parseImageName(old.Config.Image)?.tag
        ? old.Config.Image
        : imageReference(spec.image, spec.release),
    };
  };

  /**
   * Creates with `create`; an image that went away between the pull and the create is pulled (and
   * the user's tag moved onto it) again, and the create tried once more (`_create-once-more.ts`).
   */
  const createPulled = <T>(params: {
    readonly create: () => Promise<T>;
    readonly spec: InstanceSpec;
    readonly old: Docker.ContainerInspectInfo;
    readonly onLog: ((line: string) => void) | undefined;
    readonly signal?: AbortSignal | undefined;
  }) => {
    const { create, spec, old, onLog, signal } = params;
    return createOnceMore({
      create,
      // The user's networks are not label mode's to create: only the image is brought back.
      restores: ['image'],
      ensure: async () => {
        const { pulled } = await pullFor(spec, old, onLog, signal);
        await retag(old.Config.Image, pulled.Id);
      },
      onLog,
      logger: context.logger,
      signal,
    });
  };

  /** Starts the new container beside the old one (`side-by-side.ts`); the old one serves on. */
  const besides = async (
    spec: InstanceSpec,
    group: StageContainers,
    old: Docker.ContainerInspectInfo,
    onLog: ((line: string) => void) | undefined,
    signal?: AbortSignal,
  ) => {
    const oldImage = await docker.getImage(old.Image).inspect();
    const { pulled, image } = await pullFor(spec, old, onLog, signal);
    await retag(old.Config.Image, pulled.Id);
    const name = nextName(group.name, spec.deployId);
    const info = await createPulled({
      create: () => startBeside(docker, { old, oldImage, image, name }),
      spec,
      old,
      onLog,
      signal,
    });
    onLog?.(
      `started ${group.name}'s new container (${info.Id.slice(0, 12)}) on ${spec.release.tag} beside the old one, which serves until the new one passed its gate`,
    );
    return info;
  };

  /** Side by side where the old container's configuration allows it, else in place; the deploy log says which and why. */
  const update = async (
    spec: InstanceSpec,
    onLog: ((line: string) => void) | undefined,
    signal?: AbortSignal,
  ) => {
    const group = await groupOf(spec, signal);
    if (!group) throw new CoreError('NOT_FOUND', `No labelled container is ${spec.project}/${spec.stage}`);
    const next = group.nexts.find((n) => n.deployId === spec.deployId);
    if (next) {
      // This deploy started it already (a second call, or a retry after a lost answer).
      await startQuietly(docker.getContainer(next.info.Id));
      return docker.getContainer(next.info.Id).inspect();
    }
    // Tried beside it by an earlier deploy that ended without it (its removal failed): not this one's.
    for (const stale of group.nexts) await dropNext(group, stale);
    const setAside = group.asides.some((aside) => aside.deployId === spec.deployId);
    if (group.holder && !setAside) {
      const replacement = group.holder.replacement;
      if (replacement.mode === 'side-by-side') {
        const old = await docker.getContainer(group.holder.info.Id).inspect();
        return besides(spec, group, old, onLog, signal);
      }
      onLog?.(`updating ${group.name} in place: ${replacement.reason}`);
    }
    return replace(spec, group, onLog, signal);
  };

  const replace = async (
    spec: InstanceSpec,
    group: StageContainers,
    onLog: ((line: string) => void) | undefined,
    signal?: AbortSignal,
  ) => {
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
    const { pulled, image } = await pullFor(spec, old, onLog, signal);
    await stopQuietly(old);
    onLog?.(`stopped ${group.name}'s old container`);
    await retag(old.Config.Image, pulled.Id);
    const plan = recreatePlan({ old, oldImage });
    const created = await createPulled({
      create: () => docker.createContainer({ ...plan.body, Image: image, name: group.name }),
      spec,
      old,
      onLog,
      signal,
    });
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

  /** A new container tried beside the old one goes (a failed gate, a rollback); the old one served all along. */
  const dropNext = async (group: StageContainers, next: StandIn) => {
    await orMissing(() => docker.getContainer(next.info.Id).remove({ force: true }));
    if (group.holder) await retag(group.holder.facts.image, group.holder.info.ImageID).catch(() => undefined);
  };

  /**
   * The old container is done with (its replacement passed the commit point): what depends on it
   * follows the container under the name, then it stops, with the time its labels or its own stop
   * timeout give the requests in flight, and is removed; its image goes after the grace period.
   */
  const retireOld = async (group: StageContainers, old: CandidateContainer) => {
    const info = await orMissing(() => docker.getContainer(old.info.Id).inspect());
    if (!info) return;
    const holder = await orMissing(() => docker.getContainer(group.name).inspect());
    const dependents = holder && holder.Id !== info.Id ? await dependentsOf(docker, info) : [];
    if (holder && dependents.length > 0)
      await followReplacement(docker, { from: info, to: { id: holder.Id, name: group.name }, dependents });
    await stopQuietly(info);
    await orMissing(() => docker.getContainer(info.Id).remove({ force: true }));
    await previousImages.retired({
      name: group.name,
      ...group.ref,
      imageId: old.info.ImageID,
      reference: old.facts.image,
    });
  };

  /**
   * The side-by-side switch, after the commit point: the new container gets the old one's aliases
   * (both serve), the old one is set aside, the new one takes the name, then the old one is
   * retired. Each step is skipped when done, so a retire after a crash at any point finishes it.
   */
  const switchOver = async (group: StageContainers, next: StandIn, old: CandidateContainer) => {
    const oldInfo = await docker.getContainer(old.info.Id).inspect();
    const nextInfo = await docker.getContainer(next.info.Id).inspect();
    await takeOver(docker, { old: oldInfo, next: nextInfo, name: group.name });
    if (oldInfo.Name === `/${group.name}`)
      await docker.getContainer(oldInfo.Id).rename({ name: asideName(group.name, next.deployId) });
    if (nextInfo.Name !== `/${group.name}`)
      await docker.getContainer(nextInfo.Id).rename({ name: group.name });
    await retireOld(group, old);
  };

  /**
   * `revert` and `retire` by what the instance is: a new container tried beside the old one is
   * removed; an in-place candidate gets its set-aside container restored; an old container is
   * switched away from (side by side) or removed (set aside). The container under the user's name
   * with nothing to replace it is never removed.
   */
  const undoOrRetire = async (instance: Instance, signal: AbortSignal | undefined): Promise<void> => {
    throwIfAborted(signal);
    try {
      const group = await groupOf(instance, signal);
      if (!group) return;
      const tried = group.nexts.find((n) => n.info.Id === instance.id);
      if (tried) return await dropNext(group, tried);
      const aside = group.asides.find((a) => a.deployId === instance.deployId);
      if (aside) return await restore(group, aside);
      const old =
        group.holder?.info.Id === instance.id
          ? group.holder
          : group.asides.find((a) => a.info.Id === instance.id);
      if (!old) return;
      // One deploy at a time per stage: a container tried beside this one is that deploy's.
      const passed = group.nexts[0];
      if (passed) return await switchOver(group, passed, old);
      if (old !== group.holder) return await retireOld(group, old);
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
    // Two releases run side by side only during a switch the target makes itself (`switchOver`):
    // the runner's blue-green order is used for its steps, never to route between releases.
    capabilities: { blueGreen: false, canary: false },
    docker,
    pull: (params) => inner.pull(params),
    logs: (params) => inner.logs(params),

    async start({ spec, onLog, signal }) {
      throwIfAborted(signal);
      try {
        const info = await update(spec, onLog, signal);
        return {
          id: info.Id,
          project: spec.project,
          stage: spec.stage,
          deployId: spec.deployId,
          release: spec.release,
          state: info.State.Running ? 'running' : 'exited',
        };
      } catch (error) {
        throw fail(error, `update of ${spec.project}/${spec.stage}`, signal);
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
          out.push(...(await instancesOf(docker, group)));
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
