import {
  adapterId,
  type CallOptions,
  CoreError,
  createRedactingLogger,
  type DeployTarget,
  type DeployTargetContext,
  defineDeployTarget,
  type Endpoint,
  type HealthReport,
  type Instance,
  type InstanceChange,
  type InstanceSpec,
  imageReference,
  instantiate,
  onceDisposer,
  type StageRef,
  silentLogger,
  throwIfAborted,
} from '@docker-watcher/core';
import type Docker from 'dockerode';
import type * as v from 'valibot';
import { connect } from './_connection.ts';
import { containerPort, createOptions, type ImageFacts, imageFacts } from './_container-spec.ts';
import { createOnceMore } from './_create-once-more.ts';
import { demultiplex, lastLines } from './_demux.ts';
import { readEnvFiles } from './_env-file.ts';
import {
  classifyPullFailure,
  classifyStartFailure,
  engineMessage,
  isUnreachable,
  type MapContext,
  redact,
  statusOf,
  toTargetError,
} from './_errors.ts';
import { followContainerEvents } from './_events.ts';
import { dockerHealthReport, probeAddress, probeHttp, stateReport } from './_health.ts';
import { credentialsFor, registryHost, serverAddress } from './_image-ref.ts';
import {
  alternateContainerName,
  containerName,
  labels,
  managedFilters,
  markerPrefix,
  markerRepository,
  markerTag,
  nameComponent,
  ownedBy,
  parseMarkerTag,
  shortDigest,
} from './_names.ts';
import { createPullLogger, followPull } from './_pull.ts';
import { fixedHostPort, legacyStageSettings, stageSettings } from './_settings.ts';
import {
  type DockerTargetOptions,
  dockerContainerSettings,
  dockerTargetOptions,
  type ResolvedDockerTargetOptions,
} from './options.ts';

/** One image `prune` removed (or untagged, when something else still holds it). */
export interface PrunedImage {
  readonly project: string;
  readonly stage: string;
  /** The marker tag that recorded the pull, `docker-watcher-pulled/<project>.<stage>:<pulled at>-<release>`. */
  readonly marker: string;
  readonly imageId: string;
  /** Whether the image itself is gone; `false` when another tag or a container still holds it. */
  readonly deleted: boolean;
}

export interface DockerTarget extends DeployTarget {
  pull(params: Parameters<NonNullable<DeployTarget['pull']>>[0]): Promise<void>;
  logs(params: Parameters<NonNullable<DeployTarget['logs']>>[0]): Promise<string[]>;
  watchInstances(params: Parameters<NonNullable<DeployTarget['watchInstances']>>[0]): Promise<void>;
  /**
   * Removes images this target pulled for older releases than the newest `keep` per project-stage
   * (optionally of one project or stage). Images that a container (running or not) or another
   * tag still uses are kept.
   */
  prune(
    params: CallOptions & { readonly keep: number; readonly project?: string; readonly stage?: string },
  ): Promise<PrunedImage[]>;
  /** The dockerode client, for callers that need more of the engine than the contract offers. */
  readonly docker: Docker;
}

type OnLog = ((line: string) => void) | undefined;

const hostPortInUse = /port is already allocated|address already in use/i;

function buildDockerTarget(options: ResolvedDockerTargetOptions, context: DeployTargetContext): DockerTarget {
  const id = adapterId('target', 'docker', context.instance);
  const passwords = Object.values(options.auth ?? {}).map((credentials) => credentials.password);
  const secrets = [...passwords, ...(options.tls ? [options.tls.key] : [])];
  const logger = createRedactingLogger(context.logger ?? silentLogger, { secrets }).child({ target: id });
  const { docker, describe } = connect(options);
  /** Ends the watches of `watchInstances` with the target. */
  const disposed = new AbortController();
  const lifecycle = onceDisposer(async () => disposed.abort());
  const settingsOf = (ref: StageRef) =>
    stageSettings(
      options,
      context.stageOptions?.(ref) as v.InferOutput<typeof dockerContainerSettings> | undefined,
    );
  const network = options.network;

  const guard = (signal: AbortSignal | undefined) => {
    throwIfAborted(signal);
    if (lifecycle.disposed()) {
      throw new CoreError('UNAVAILABLE', `${id} is disposed`, { details: { target: id }, retryable: false });
    }
  };

  /** When the target last lost the engine (socket gone, refused, reset), until it answers again. */
  let outageSince: number | undefined;
  /** Containers this target stopped itself: an outage never brings those back. */
  const stoppedByUs = new Set<string>();

  const fail = (error: unknown, action: string, extra: Partial<MapContext> = {}) => {
    if (isUnreachable(error)) outageSince ??= Date.now();
    return toTargetError(error, { action, engine: describe, target: id, secrets, ...extra });
  };

  /** Runs an engine call; a 404 comes back as `undefined` instead of an error. */
  const orMissing = async <T>(call: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await call();
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  };

  // ---- instances ----------------------------------------------------------------------------

  /** The container port that serves traffic, from its label. */
  const portOf = (containerLabels: Readonly<Record<string, string>> | undefined) => {
    const port = Number(containerLabels?.[labels.port]);
    return Number.isInteger(port) && port > 0 ? port : undefined;
  };

  /** `endpoint: name`: the container's name, which Docker's DNS resolves on the shared network. */
  const byName = (name: string | undefined, port: number): Endpoint | undefined => {
    const host = name?.replace(/^\//, '');
    return host ? { host, port } : undefined;
  };

  const endpointOf = (info: Docker.ContainerInspectInfo): Endpoint | undefined => {
    const port = portOf(info.Config.Labels);
    if (!info.State.Running || port === undefined) return undefined;
    if (options.endpoint === 'name') return byName(info.Name, port);
    return probeAddress(info, port, network);
  };

  const stateOf = (status: string): Instance['state'] => {
    if (status === 'running') return 'running';
    if (status === 'created' || status === 'paused') return 'stopped';
    return 'exited';
  };

  const fromInspect = (info: Docker.ContainerInspectInfo): Instance => {
    const l = info.Config.Labels ?? {};
    const endpoint = endpointOf(info);
    return {
      id: info.Id,
      project: l[labels.project] ?? '',
      stage: l[labels.stage] ?? '',
      deployId: l[labels.deployId] ?? '',
      release: { tag: l[labels.release] ?? '', digest: l[labels.digest] ?? '' },
      state: info.State.Restarting ? 'exited' : stateOf(info.State.Status),
      ...(endpoint ? { endpoint } : {}),
    };
  };

  const fromList = (info: Docker.ContainerInfo): Instance => {
    const l = info.Labels ?? {};
    const port = portOf(l);
    const state = stateOf(info.State);
    let endpoint: Endpoint | undefined;
    if (state === 'running' && port !== undefined && options.endpoint === 'name') {
      // A legacy link adds `/<linker>/<alias>` names: the container's own has one slash.
      endpoint = byName(
        info.Names.find((name) => name.lastIndexOf('/') === 0),
        port,
      );
    } else if (state === 'running' && port !== undefined) {
      const published = info.Ports.find((p) => p.PrivatePort === port && p.Type === 'tcp' && p.PublicPort);
      const address =
        info.NetworkSettings?.Networks?.[network]?.IPAddress ||
        Object.values(info.NetworkSettings?.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress;
      if (published) {
        const host =
          published.IP && published.IP !== '0.0.0.0' && published.IP !== '::' ? published.IP : '127.0.0.1';
        endpoint = { host, port: published.PublicPort };
      } else if (address) {
        endpoint = { host: address, port };
      }
    }
    return {
      id: info.Id,
      project: l[labels.project] ?? '',
      stage: l[labels.stage] ?? '',
      deployId: l[labels.deployId] ?? '',
      release: { tag: l[labels.release] ?? '', digest: l[labels.digest] ?? '' },
      state,
      ...(endpoint ? { endpoint } : {}),
    };
  };

  /** This target's managed containers: label filters cannot say "this instance or none", so it filters here. */
  const listManaged = async (filters: Parameters<typeof managedFilters>[0], signal?: AbortSignal) =>
    (
      await docker.listContainers({
        all: true,
        filters: { label: managedFilters(filters) },
        ...(signal ? { abortSignal: signal } : {}),
      })
    ).filter((info) => ownedBy(info.Labels, options.instance));

  // ---- images --------------------------------------------------------------------------------

  // The engine answers inspects at once; dockerode does not pass a signal to them anyway.
  const inspectImage = (reference: string) => orMissing(() => docker.getImage(reference).inspect());

  const pullImage = async (spec: InstanceSpec, onLog: OnLog, signal: AbortSignal | undefined) => {
    const reference = imageReference(spec.image, spec.release);
    const host = registryHost(spec.image);
    const credentials = credentialsFor(options.auth, host);
    const started = performance.now();
    onLog?.(`pulling ${reference}${credentials ? ` as ${credentials.username}` : ''}`);
    try {
      const stream: NodeJS.ReadableStream = await docker.pull(reference, {
        ...(credentials
          ? {
              authconfig: {
                username: credentials.username,
                password: credentials.password,
                serveraddress: serverAddress(host),
              },
            }
          : {}),
        ...(signal ? { abortSignal: signal } : {}),
      });
      await followPull(docker, stream, onLog ? createPullLogger(onLog) : () => {}, signal);
    } catch (error) {
      const mapped = fail(error, `pull of ${reference}`, { signal, classify: classifyPullFailure });
      if (mapped.code === 'ABORTED' || isUnreachable(error)) throw mapped;
      const who = credentials ? `as ${credentials.username}` : 'anonymously';
      const reason = redact(engineMessage(error), secrets).replace(/\s+/g, ' ').slice(0, 300);
      throw new CoreError(mapped.code, `Could not pull ${reference} from ${host} ${who}: ${reason}`, {
        details: { ...mapped.details, registry: host },
        cause: error,
      });
    }
    onLog?.(`pulled ${reference} in ${Math.round(performance.now() - started)} ms`);
    logger.info('pulled image', { reference });
    await recordPull(spec);
  };

  /**
   * Marks the image as pulled for the spec's project-stage, for `prune`; the tag sorts by pull
   * time. An image that was present already is marked only when this target pulled it before (for
   * another stage): images others put on the engine are never pruned. Best effort.
   */
  const recordPull = async (spec: InstanceSpec, present?: Docker.ImageInspectInfo) => {
    const repository = markerRepository(spec.project, spec.stage);
    if (present) {
      const tags = present.RepoTags ?? [];
      if (!tags.some((tag) => tag.startsWith(markerPrefix))) return;
      if (tags.some((tag) => tag.startsWith(`${repository}:`))) return;
    }
    const reference = imageReference(spec.image, spec.release);
    await docker
      .getImage(reference)
      .tag({ repo: repository, tag: markerTag(spec.release, Date.now()) })
      .catch((error: unknown) =>
        logger.warn('could not record the pull', { reference, error: engineMessage(error) }),
      );
  };

  /** The image of a release, pulled first when the engine does not have it. */
  const ensureImage = async (
    spec: InstanceSpec,
    onLog: OnLog,
    signal: AbortSignal | undefined,
  ): Promise<ImageFacts> => {
    const reference = imageReference(spec.image, spec.release);
    try {
      let info = await inspectImage(reference);
      if (info) await recordPull(spec, info);
      else {
        await pullImage(spec, onLog, signal);
        info = await inspectImage(reference);
      }
      if (!info) throw new CoreError('NOT_FOUND', `The engine has no image ${reference} after pulling it`);
      return imageFacts(info);
    } catch (error) {
      throw fail(error, `inspect of image ${reference}`, { signal });
    }
  };

  // ---- network -------------------------------------------------------------------------------

  const ensureNetwork = async (signal: AbortSignal | undefined, onLog: OnLog) => {
    const found = await orMissing(() => docker.getNetwork(network).inspect());
    if (found) return;
    try {
      await docker.createNetwork({
        Name: network,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: { ...options.labels, [labels.managed]: 'true' },
        ...(signal ? { abortSignal: signal } : {}),
      });
      onLog?.(`created network ${network}`);
      logger.info('created network', { network });
    } catch (error) {
      // Another start created it at the same moment.
      if (statusOf(error) !== 409) throw error;
    }
  };

  // ---- start ---------------------------------------------------------------------------------

  const findByDeploy = async (deployId: string, signal?: AbortSignal) => {
    const [found] = await listManaged({ deployId }, signal);
    return found;
  };

  /** Creates the container under `name`; a name held by the same deploy is that deploy's container. */
  const createNamed = async (
    name: string,
    body: Docker.ContainerCreateOptions,
    deployId: string,
  ): Promise<{ container: Docker.Container; created: boolean } | undefined> => {
    try {
      return { container: await docker.createContainer({ ...body, name }), created: true };
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
      const holder = await orMissing(() => docker.getContainer(name).inspect());
      if (holder?.Config.Labels?.[labels.deployId] === deployId) {
        return { container: docker.getContainer(holder.Id), created: false };
      }
      return undefined;
    }
  };

  const startContainer = async (container: Docker.Container) => {
    try {
      await container.start();
    } catch (error) {
      if (statusOf(error) === 304) return;
      throw error;
    }
  };

  const start = async (
    spec: InstanceSpec,
    onLog: OnLog,
    signal: AbortSignal | undefined,
  ): Promise<Instance> => {
    const name = containerName(spec);
    let action = `start of ${name}`;
    let container: Docker.Container | undefined;
    let created = false;
    try {
      const existing = await findByDeploy(spec.deployId, signal);
      if (existing) {
        container = docker.getContainer(existing.Id);
        if (existing.State !== 'running' && existing.State !== 'restarting') await startContainer(container);
        return fromInspect(await container.inspect());
      }
      const settings = settingsOf(spec);
      const image = await ensureImage(spec, onLog, signal);
      const port = containerPort(spec, image);
      if (spec.port === undefined) {
        onLog?.(
          port === undefined
            ? 'no port: neither the stage nor the image (EXPOSE) names one, so the instance has no endpoint'
            : `port ${port} from the image's EXPOSE`,
        );
      }
      const fileEnv = await readEnvFiles(settings.envFiles);
      throwIfAborted(signal);
      await ensureNetwork(signal, onLog);
      const body = createOptions({
        name,
        spec,
        settings,
        fileEnv,
        port,
        network,
        publishHost: options.publishHost,
        stopTimeoutSeconds: options.stopTimeoutSeconds,
        ...(options.instance === undefined ? {} : { instance: options.instance }),
      });
      throwIfAborted(signal);
      action = `create of ${name}`;
      const create = async () =>
        (await createNamed(name, body, spec.deployId)) ??
        (await createNamed(alternateContainerName(spec), body, spec.deployId));
      const made = await createOnceMore({
        create,
        ensure: async (missing) => {
          if (missing === 'network') await ensureNetwork(signal, onLog);
          else await ensureImage(spec, onLog, signal);
        },
        onLog,
        logger,
        signal,
      });
      if (!made) {
        throw new CoreError(
          'CONFLICT',
          `Containers named ${name} and ${alternateContainerName(spec)} belong to other deploys`,
          { details: { target: id, name } },
        );
      }
      container = made.container;
      created = made.created;
      action = `start of ${name}`;
      await startContainer(container);
      const info = await container.inspect();
      const instance = fromInspect(info);
      const where = instance.endpoint ? ` at ${instance.endpoint.host}:${instance.endpoint.port}` : '';
      onLog?.(`started ${info.Name.replace(/^\//, '')} (${info.Id.slice(0, 12)})${where}`);
      logger.info('started container', { name: info.Name, id: info.Id, deployId: spec.deployId });
      return instance;
    } catch (error) {
      const failure = fail(error, action, { signal, classify: classifyStartFailure });
      // A container that could not start (a host port in use…) is removed, so a retry starts clean.
      if (container && created && failure.code !== 'ABORTED') {
        await container.remove({ force: true, v: true }).catch(() => undefined);
      }
      const reason = engineMessage(failure.cause ?? failure);
      if (failure.code === 'CONFLICT' && hostPortInUse.test(reason)) {
        const { publish } = settingsOf(spec);
        const port = typeof publish === 'number' ? publish : (/:(\d+)/.exec(reason)?.[1] ?? 'its port');
        throw new CoreError(
          'CONFLICT',
          `Host port ${options.publishHost}:${port} is in use, so ${name} cannot publish on it (${reason})`,
          { details: { ...failure.details, hostPort: port }, cause: failure.cause },
        );
      }
      throw failure;
    }
  };

  // ---- engine outages ------------------------------------------------------------------------

  /**
   * A daemon that restarts stops every container; its restart policy brings them back, except when
   * the daemon crashed and took its containerd with it (then they stay `exited`). So on the first
   * call that finds the engine answering again, managed containers with `always`/`unless-stopped`
   * that stopped after the target lost the engine are started again, except `exceptId` (the
   * instance the call is about, e.g. a candidate being stopped) and those this target stopped.
   */
  const recoverFromOutage = async (exceptId?: string) => {
    const since = outageSince;
    if (since === undefined) return;
    try {
      await docker.ping();
    } catch {
      return;
    }
    outageSince = undefined;
    try {
      const stopped = await docker.listContainers({
        all: true,
        filters: { label: [`${labels.managed}=true`], status: ['exited'] },
      });
      for (const { Id, Labels } of stopped) {
        if (Id === exceptId || stoppedByUs.has(Id) || !ownedBy(Labels, options.instance)) continue;
        const info = await orMissing(() => docker.getContainer(Id).inspect());
        const policy = info?.HostConfig.RestartPolicy?.Name;
        if (!info || (policy !== 'always' && policy !== 'unless-stopped')) continue;
        if (Date.parse(info.State.FinishedAt) < since) continue;
        await startContainer(docker.getContainer(Id));
        logger.warn('started a container again that stopped while the engine was unreachable', {
          name: info.Name,
          id: Id,
        });
      }
    } catch (error) {
      logger.warn('could not restart containers after the engine came back', {
        error: engineMessage(error),
      });
    }
  };

  // ---- health --------------------------------------------------------------------------------

  const checkHealth = async (
    instance: Instance,
    health: Parameters<DeployTarget['checkHealth']>[0]['health'],
    signal: AbortSignal | undefined,
  ): Promise<HealthReport> => {
    let info: Docker.ContainerInspectInfo | undefined;
    try {
      info = await orMissing(() =>
        docker.getContainer(instance.id).inspect(signal ? { abortSignal: signal } : {}),
      );
    } catch (error) {
      throw fail(error, `inspect of ${instance.id.slice(0, 12)}`, { signal });
    }
    if (!info) return { status: 'exited', detail: `container ${instance.id.slice(0, 12)} is gone` };
    const byState = stateReport(info);
    if (byState) return byState;
    const restarts = info.RestartCount;
    if (health.path !== undefined) {
      const port = Number(info.Config.Labels?.[labels.port]) || instance.endpoint?.port;
      const address = port ? probeAddress(info, port, network) : undefined;
      if (!address) return { status: 'unhealthy', detail: `no address to probe ${health.path} on` };
      let report: HealthReport;
      try {
        report = await probeHttp({ ...address, path: health.path, timeoutMs: health.timeoutMs, signal });
      } catch (error) {
        throw fail(error, `probe of ${instance.id.slice(0, 12)}`, { signal });
      }
      if (report.status !== 'healthy' && restarts > 0) {
        return {
          status: 'exited',
          detail: `restarted ${restarts} times, it keeps exiting; ${report.detail}`,
        };
      }
      return report;
    }
    const own = dockerHealthReport(info);
    if (own) return own;
    const uptime = Date.now() - Date.parse(info.State.StartedAt);
    if (restarts > 0 && uptime < options.runningGraceMs) {
      return { status: 'exited', detail: `restarted ${restarts} times, it keeps exiting` };
    }
    return uptime >= options.runningGraceMs
      ? { status: 'healthy', detail: `running for ${Math.round(uptime / 1000)} s` }
      : { status: 'starting', detail: `running for ${Math.max(0, uptime)} ms` };
  };

  // ---- stop ----------------------------------------------------------------------------------

  const stop = async (instance: Instance, signal: AbortSignal | undefined) => {
    const container = docker.getContainer(instance.id);
    stoppedByUs.add(instance.id);
    try {
      await container.stop({ t: options.stopTimeoutSeconds, ...(signal ? { abortSignal: signal } : {}) });
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) return;
      if (status !== 304) throw fail(error, `stop of ${instance.id.slice(0, 12)}`, { signal });
    }
    try {
      await container.remove({ force: true, v: true });
      logger.info('removed container', { id: instance.id, deployId: instance.deployId });
    } catch (error) {
      const status = statusOf(error);
      // 409: the engine is removing it already.
      if (status === 404 || status === 409) return;
      throw fail(error, `removal of ${instance.id.slice(0, 12)}`, { signal });
    }
  };

  // ---- watch -------------------------------------------------------------------------------

  /** Reports starts and deaths of this target's containers; after a gap in the stream, every one it has. */
  const watchInstances = async (
    signal: AbortSignal,
    onChange: (change: InstanceChange) => void,
  ): Promise<void> => {
    const report = (id: string, containerLabels: Readonly<Record<string, string>>, running: boolean) => {
      const project = containerLabels[labels.project];
      const stage = containerLabels[labels.stage];
      if (project === undefined || stage === undefined || !ownedBy(containerLabels, options.instance)) return;
      onChange({ id, project, stage, state: running ? 'running' : 'exited' });
    };
    const reportAll = async () => {
      try {
        for (const info of await listManaged({}, signal))
          report(info.Id, info.Labels ?? {}, info.State === 'running');
      } catch (error) {
        if (!signal.aborted)
          logger.warn('could not list containers after the events came back', {
            error: engineMessage(error),
          });
      }
    };
    await followContainerEvents({
      docker,
      actions: ['start', 'restart', 'die'],
      labels: managedFilters({}),
      signal,
      logger,
      onEvent: (event) => report(event.id, event.attributes, event.action !== 'die'),
      onGap: () => void reportAll(),
    });
  };

  // ---- prune ---------------------------------------------------------------------------------

  const prune = async (params: {
    keep: number;
    project?: string | undefined;
    stage?: string | undefined;
    signal?: AbortSignal | undefined;
  }): Promise<PrunedImage[]> => {
    const { keep, signal } = params;
    if (!Number.isInteger(keep) || keep < 0) {
      throw new CoreError('BAD_REQUEST', `prune keeps a whole number of releases, not ${keep}`);
    }
    const images = await docker.listImages(signal ? { abortSignal: signal } : {});
    const containers = await docker.listContainers({ all: true, ...(signal ? { abortSignal: signal } : {}) });
    const inUse = new Set(containers.map((info) => info.ImageID));
    // Images of a stage's own containers keep their marker: a rollback may start them again.
    const usedByStage = new Map<string, Set<string>>();
    for (const info of containers) {
      const project = info.Labels?.[labels.project];
      const stage = info.Labels?.[labels.stage];
      if (info.Labels?.[labels.managed] !== 'true' || project === undefined || stage === undefined) continue;
      const key = markerRepository(project, stage);
      usedByStage.set(key, (usedByStage.get(key) ?? new Set()).add(info.ImageID));
    }
    const byStage = new Map<string, Array<{ marker: string; pulledAt: number; imageId: string }>>();
    for (const image of images) {
      for (const repoTag of image.RepoTags ?? []) {
        if (!repoTag.startsWith(markerPrefix)) continue;
        const colon = repoTag.lastIndexOf(':');
        const parsed = parseMarkerTag(repoTag.slice(colon + 1));
        if (!parsed) continue;
        const repository = repoTag.slice(0, colon);
        const list = byStage.get(repository) ?? [];
        list.push({ marker: repoTag, pulledAt: parsed.pulledAt, imageId: image.Id });
        byStage.set(repository, list);
      }
    }
    const pruned: PrunedImage[] = [];
    for (const [repository, markers] of byStage) {
      const [project = '', stage = ''] = repository.slice(markerPrefix.length).split('/');
      if (params.project !== undefined && project !== nameComponent(params.project)) continue;
      if (params.stage !== undefined && stage !== nameComponent(params.stage)) continue;
      markers.sort((a, b) => b.pulledAt - a.pulledAt);
      const kept = new Set(markers.slice(0, keep).map((marker) => marker.imageId));
      const ownImages = usedByStage.get(repository) ?? new Set<string>();
      for (const marker of markers.slice(keep)) {
        throwIfAborted(signal);
        if (ownImages.has(marker.imageId)) continue;
        await orMissing(() => docker.getImage(marker.marker).remove());
        let deleted = false;
        if (!kept.has(marker.imageId) && !inUse.has(marker.imageId)) {
          const rest = await inspectImage(marker.imageId);
          // Without tags, only the registry references this target pulled hold it: ours to delete.
          // The engine refuses (409) when several repositories still reference it; then it stays.
          if (!rest) deleted = true;
          else if ((rest.RepoTags ?? []).length === 0) {
            deleted = await docker
              .getImage(marker.imageId)
              .remove()
              .then(
                () => true,
                () => false,
              );
          }
        }
        pruned.push({ project, stage, marker: marker.marker, imageId: marker.imageId, deleted });
        logger.info('pruned image', { marker: marker.marker, deleted });
      }
    }
    return pruned;
  };

  // ---- the adapter ---------------------------------------------------------------------------

  return {
    id,
    capabilities: { blueGreen: fixedHostPort(options) === undefined, canary: false },
    docker,

    async pull({ spec, onLog, signal }) {
      guard(signal);
      await recoverFromOutage();
      const reference = imageReference(spec.image, spec.release);
      let present: Docker.ImageInspectInfo | undefined;
      try {
        present = await inspectImage(reference);
      } catch (error) {
        throw fail(error, `inspect of image ${reference}`, { signal });
      }
      if (present) {
        onLog?.(`${spec.image}@${shortDigest(spec.release.digest)} is present, no pull needed`);
        await recordPull(spec, present);
        return;
      }
      await pullImage(spec, onLog, signal);
    },

    async start({ spec, onLog, signal }) {
      guard(signal);
      await recoverFromOutage();
      return start(spec, onLog, signal);
    },

    async checkHealth({ instance, health, signal }) {
      guard(signal);
      await recoverFromOutage(instance.id);
      return checkHealth(instance, health, signal);
    },

    // Side by side: retiring an old release and reverting a failed candidate both remove its container.
    async retire({ instance, signal }) {
      guard(signal);
      await recoverFromOutage(instance.id);
      await stop(instance, signal);
    },

    async revert({ instance, signal }) {
      guard(signal);
      await recoverFromOutage(instance.id);
      await stop(instance, signal);
    },

    async list({ project, stage, signal }) {
      guard(signal);
      await recoverFromOutage();
      try {
        const found = await listManaged({ project, stage }, signal);
        return found.sort((a, b) => a.Created - b.Created || a.Id.localeCompare(b.Id)).map(fromList);
      } catch (error) {
        throw fail(error, 'list of containers', { signal });
      }
    },

    async watchInstances({ signal, onChange }) {
      guard(signal);
      await watchInstances(AbortSignal.any([signal, disposed.signal]), onChange);
    },

    async logs({ instance, tail, signal }) {
      guard(signal);
      await recoverFromOutage(instance.id);
      if (tail <= 0) return [];
      try {
        const output = await docker.getContainer(instance.id).logs({
          stdout: true,
          stderr: true,
          follow: false,
          tail,
          ...(signal ? { abortSignal: signal } : {}),
        });
        return lastLines(demultiplex(output), tail);
      } catch (error) {
        if (statusOf(error) === 404) {
          throw new CoreError('NOT_FOUND', `Container ${instance.id.slice(0, 12)} does not exist`, {
            details: { target: id, instance: instance.id },
          });
        }
        throw fail(error, `logs of ${instance.id.slice(0, 12)}`, { signal });
      }
    },

    async prune({ keep, project, stage, signal }) {
      guard(signal);
      await recoverFromOutage();
      try {
        return await prune({ keep, project, stage, signal });
      } catch (error) {
        throw fail(error, 'prune of images', { signal });
      }
    },

    dispose: lifecycle.dispose,
  };
}

export const dockerTarget = defineDeployTarget({
  name: 'docker',
  options: dockerTargetOptions,
  stageOptions: dockerContainerSettings,
  notSideBySide: (stageOptions) =>
    fixedHostPort(stageOptions as v.InferOutput<typeof dockerContainerSettings>),
  legacyStageOptions: {
    key: 'stages',
    of: (options, ref, own) =>
      legacyStageSettings(
        options as ResolvedDockerTargetOptions,
        ref,
        own as v.InferOutput<typeof dockerContainerSettings> | undefined,
      ),
  },
  secrets: ['password', 'key'],
  create: buildDockerTarget,
});

/**
 * A deploy target on a Docker Engine (or Podman's Docker-compatible API): containers per release,
 * labelled for adoption, on a shared network, health-checked over HTTP, the image's `HEALTHCHECK`,
 * or "still running".
 */
export function createDockerTarget(
  options: DockerTargetOptions = {},
  context: DeployTargetContext = {},
): DockerTarget {
  return instantiate(dockerTarget, options, context);
}
