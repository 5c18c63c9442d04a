// The engine composes the flow observe → decide → deploy → route → notify; each step is a module
// with its own state, and `createEngine` wires them over the store, the leases and the config:
// - observe/: RepositoryLooks (poll cycle, coalesced looks, backoff), WebhookIntake (replay
//   protection), the ObservationInbox of marked repositories and the RegistryView of listings;
// - decide/: StageDecisions (candidate and decide()), StageReconciler (acting on a decision);
// - deploy/: DeployQueue (this replica's deploys, run by deploy-runner.ts);
// - route/: RouteHealing; notify/: StageNotices; commands.ts: what people ask of the stages.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { DeployTarget } from '../contracts/deploy-target.ts';
import type { Notifier } from '../contracts/notifier.ts';
import type { RegistryObservation, WebhookRequest } from '../contracts/registry.ts';
import type { Release, StageRef } from '../contracts/release.ts';
import type { ReverseProxy } from '../contracts/reverse-proxy.ts';
import type {
  Approval,
  DeployRecord,
  StageState,
  StageStateInit,
  StateStore,
} from '../contracts/state-store.ts';
import { CoreError, isCoreError, toCoreError } from '../errors.ts';
import { createEventBus, type EventBus, toEventError } from '../events.ts';
import { type Logger, silentLogger } from '../logger.ts';
import { createMemoryStateStore } from '../memory/memory-state-store.ts';
import type { RegistryLimiter, RegistryLimits } from '../registry-limiter.ts';
import { StageCommands } from './commands.ts';
import { defaultDeployRetryBaseMs, type StageDecision } from './decide/decide.ts';
import { StageReconciler } from './decide/reconciler.ts';
import { StageDecisions } from './decide/stage-decisions.ts';
import { DeployQueue } from './deploy/deploy-queue.ts';
import {
  defaultHealthCheck,
  defaultStepDeadlines,
  type StageDeploySettings,
  type StepDeadlines,
} from './deploy-settings.ts';
import type { EngineProject, EngineRegistries, EngineStage } from './engine-config.ts';
import { type LeftoverStatus, LeftoverSweeper } from './leftovers.ts';
import { StageNotices } from './notify/stage-notices.ts';
import { ObservationInbox, repoKey } from './observe/observation-inbox.ts';
import { RepositoryLooks } from './observe/polling.ts';
import { limitedRegistries, type Watched, watchedRepositories } from './observe/registries.ts';
import { RegistryView } from './observe/registry-view.ts';
import { WebhookIntake } from './observe/webhook-intake.ts';
import { ReplicaLeases } from './replica-leases.ts';
import { RouteHealing } from './route/route-healing.ts';
import { checkStageStrategies, type StageTargets, stageStrategy, stageTargetsOf } from './stage-targets.ts';

export interface EngineOptions {
  readonly projects: readonly EngineProject[];
  readonly registries: EngineRegistries;
  /** Where stages deploy: one target for all, or a resolver that names each stage's (`dev` on Docker, `prod` on Nomad). */
  readonly target: DeployTarget | StageTargets;
  readonly proxy?: ReverseProxy;
  /** Told about succeeded, failed and rolled-back deploys and waiting confirmations; never blocks a deploy. */
  readonly notifiers?: readonly Notifier[];
  /** Where state lives; an in-memory store (forgets on exit) when absent. */
  readonly store?: StateStore;
  readonly bus?: EventBus;
  readonly logger?: Logger;
  /**
   * Poll cycle period, a fixed rate: cycles start one period apart however long each takes, and a
   * cycle that runs past the next start skips the starts it missed. 0 turns polling off (webhooks
   * only). Default 60 s.
   */
  readonly pollIntervalMs?: number;
  /**
   * The second cycle comes up to this fraction of the period late, at random (once: the rate stays
   * fixed), so that servers started together do not poll a registry at the same moments. Default 0.1.
   */
  readonly jitter?: number;
  /**
   * Requests each registry gets at once, polling and on-demand looks together, where
   * `registryLimits` does not say. Default 4.
   */
  readonly registryConcurrency?: number;
  /**
   * Per registry name: its concurrency and rate limit, or a limiter shared with other callers of the
   * registry (the server's API); every request the engine makes to it waits its turn there.
   */
  readonly registryLimits?: Readonly<Record<string, RegistryLimits | RegistryLimiter>>;
  /** Deploys running at once across all stages. Default 2. */
  readonly deployConcurrency?: number;
  /**
   * A notification that arrives alone is looked at at once; the ones that follow a look within this
   * window cost one more listing at its end, however many. Default 250 ms.
   */
  readonly coalesceMs?: number;
  /**
   * How long webhook event ids are remembered for replay protection, and how old a notification may
   * be (by the time its body names): an older one is dropped, since its id may be forgotten. Default 24 h.
   */
  readonly eventTtlMs?: number;
  /**
   * Point idle stages' routes back at the instance that runs their release when they drifted (a
   * restarted container's new address, a hand edit), every `healIntervalMs`, polling or not, and at
   * once for a stage whose instance the target reports restarted (`watchInstances`). Default true.
   */
  readonly healRoutes?: boolean;
  /** How often the leader checks the routes (`healRoutes`), on its own timer; 0 turns the timer off. Default 30 s. */
  readonly healIntervalMs?: number;
  /** First pause after a repository's listing fails; doubles with each failure in a row (max 30 min). Default: the poll period, or 5 s without polling. */
  readonly backoffBaseMs?: number;
  /**
   * First pause before a release whose deploy failed for reasons of ours (engine, proxy or store
   * faults, a restart, a cancel) is tried again; doubles with each such failure in a row (max 30 min).
   * A stage's own `deployRetryBaseMs` wins. Default 30 s.
   */
  readonly deployRetryBaseMs?: number;
  /**
   * First pause before the engine tries again to remove a candidate a failed rollback left behind
   * (its target did not answer); doubles with each failure in a row (max 1 min). Default 2 s.
   */
  readonly leftoverRetryBaseMs?: number;
  /** Deadlines of deploy steps for stages that set none; `defaultStepDeadlines` for the rest. */
  readonly deadlines?: Partial<StepDeadlines>;
  /**
   * Several replicas on one store (its leases reach other processes): each stage is worked on by
   * one replica at a time, one push makes one deploy, and one replica (the leader) polls.
   */
  readonly replica?: {
    /** This replica's name in the store's leases. Default: host name, process id and a random part. */
    readonly holder?: string;
    /** How long a silent replica keeps its stages and leadership. Default 30 s. */
    readonly leaseTtlMs?: number;
  };
}

export interface Engine {
  readonly bus: EventBus;
  /** Resumes or rolls back unfinished deploys, reconciles every stage, starts polling. */
  start(): Promise<void>;
  /**
   * Stops polling and intake; running deploys are cancelled to a safe state (or, with `drain`, run
   * to their end). Queued deploys, and deploys asked for from now on, stay pending in the store for
   * the next start: work queued under one config runs under the next one. Resolves when all work ended.
   */
  stop(options?: { readonly drain?: boolean }): Promise<void>;
  /** One poll cycle over every watched repository (what the timer runs). */
  pollOnce(): Promise<void>;
  /** One pass of route healing now (what its timer runs; the leader only). */
  healRoutesOnce(): Promise<void>;
  /** Verifies a webhook through the registry adapter and acts on what it reports. */
  ingestWebhook(params: {
    readonly registry: string;
    readonly request: WebhookRequest;
  }): Promise<RegistryObservation[]>;
  /** What each stage would do now, and why, without doing it. */
  plan(ref?: Partial<StageRef>): Promise<Array<StageRef & { readonly decision: StageDecision }>>;
  /**
   * Deploys a tag the stage's policy allows (or its pin), whatever auto-deploy says. A release that is
   * queued or deploying in the stage already is not queued twice: that deploy is the answer.
   * `by` names the person (user or token) who asked, for the record and its events.
   */
  deploy(params: StageRef & { readonly tag?: string; readonly by?: string }): Promise<DeployRecord>;
  /** Deploys to a `promoteFrom` stage exactly the digest that succeeded in its source stage. */
  promote(params: StageRef & { readonly digest?: string; readonly by?: string }): Promise<DeployRecord>;
  /** Deploys the previous successful release of the stage and pauses auto-deploy there. */
  rollback(params: StageRef & { readonly by?: string }): Promise<DeployRecord>;
  /** Cancels a deploy: a queued one never starts; a running one stops and rolls back to the old release. */
  cancel(params: { readonly id: string; readonly by: string }): Promise<DeployRecord>;
  /** Confirms a waiting release and deploys it; the approval records who, why and the deploy. */
  approve(params: {
    readonly id: string;
    readonly by: string;
    readonly comment?: string;
  }): Promise<DeployRecord>;
  reject(params: { readonly id: string; readonly by: string; readonly comment?: string }): Promise<Approval>;
  setAutoDeploy(params: StageRef & { readonly enabled: boolean; readonly by?: string }): Promise<StageState>;
  pin(params: StageRef & { readonly tag: string | undefined; readonly by?: string }): Promise<StageState>;
  /**
   * Looks at the registry now for one stage's repository, or every repository of a project, whatever
   * the poll cycle or its backoff says, and acts on what it finds; answers each stage's decision.
   */
  refresh(params: {
    readonly project: string;
    readonly stage?: string;
  }): Promise<Array<StageRef & { readonly decision: StageDecision }>>;
  /** Waits until no deploy runs or waits. */
  idle(): Promise<void>;
  /** Whether this replica polls (always, on a store of one process); its name in the store's leases. */
  leadership(): { readonly leader: boolean; readonly holder: string };
  /** Candidates failed rollbacks left behind that the leader has not removed yet, and why. */
  leftovers(): LeftoverStatus[];
}

export function createEngine(options: EngineOptions): Engine {
  const { proxy } = options;
  const targets = stageTargetsOf(options.target);
  const store = options.store ?? createMemoryStateStore();
  const logger = (options.logger ?? silentLogger).child({ component: 'engine' });
  const bus = options.bus ?? createEventBus({ logger });
  const pollIntervalMs = options.pollIntervalMs ?? 60_000;
  const jitter = options.jitter ?? 0.1;
  const { registries, limiters } = limitedRegistries(options, logger);
  const coalesceMs = options.coalesceMs ?? 250;
  const eventTtlMs = options.eventTtlMs ?? 24 * 60 * 60 * 1000;
  const healRoutes = options.healRoutes ?? true;
  const healIntervalMs = options.healIntervalMs ?? 30_000;
  const backoffBaseMs = options.backoffBaseMs ?? (pollIntervalMs > 0 ? pollIntervalMs : 5_000);
  const deployRetryBaseMs =
    pauseOf('deployRetryBaseMs', options.deployRetryBaseMs) ?? defaultDeployRetryBaseMs;
  const lifetime = new AbortController();
  const notices = new StageNotices({
    bus,
    logger,
    ...(options.notifiers ? { notifiers: options.notifiers } : {}),
  });
  const at = () => new Date().toISOString();

  const projects = new Map(options.projects.map((p) => [p.id, p]));
  checkStageStrategies(options.projects, targets);
  const watched = watchedRepositories(options.projects, registries);
  for (const project of options.projects)
    for (const [stage, config] of Object.entries(project.stages))
      pauseOf(`projects.${project.id}.stages.${stage}.deployRetryBaseMs`, config.deployRetryBaseMs);
  const view = new RegistryView();
  /** Repositories webhooks reported changed, durable until acted on; their tags' digests are resolved anew. */
  const inbox = new ObservationInbox({ store, logger });
  const inFlight = new Set<Promise<unknown>>();
  let started = false;
  const leases = new ReplicaLeases({
    store,
    holder: options.replica?.holder ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
    ttlMs: options.replica?.leaseTtlMs ?? 30_000,
    logger,
    onLost: (key) => deploys.lost(key),
    onLeadership: (leader) => {
      bus.emit({ type: 'engine:leadership', at: at(), holder: leases.holder, leader });
      // A new leader sweeps what the last one's rollbacks left behind.
      if (leader && recovered && !stopping) void track(loadLeftovers());
    },
    // Replicas that died leave unfinished deploys: looked for on every renewal, polling or not.
    onTick: async () => {
      if (started && !stopping)
        await track(
          Promise.all([
            adoptOrphans(),
            lookAtOthersMarks(),
            leftovers.loaded || !leases.leader || !recovered ? undefined : loadLeftovers(),
          ]),
        );
    },
  });
  let stopping = false;
  /** Start-up recovery is done: from now on a new leader (or a tick) reads the leftovers itself. */
  let recovered = false;
  const leftovers = new LeftoverSweeper({
    store,
    targetOf: (ref) => targets.of(ref),
    logger,
    stopMs: (ref) => {
      const config = stageConfig(ref.project, ref.stage);
      return (
        (config ? settingsOf(ref, config).deadlines?.stopMs : options.deadlines?.stopMs) ??
        defaultStepDeadlines.stopMs
      );
    },
    active: () => leases.leader,
    serving: async (ref, instance) => {
      const host = stageConfig(ref.project, ref.stage)?.deploy.host;
      if (!proxy || !host || !instance.endpoint) return false;
      const route = await proxy.getRoute({ host });
      return (
        route?.upstream.host === instance.endpoint.host && route.upstream.port === instance.endpoint.port
      );
    },
    baseMs: pauseOf('leftoverRetryBaseMs', options.leftoverRetryBaseMs) ?? 2_000,
    maxMs: 60_000,
  });
  /** Reads the store for what failed rollbacks left behind; the next lease tick tries again on failure. */
  const loadLeftovers = () =>
    leftovers.load().catch((error: unknown) => adapterError(store.id, 'listDeploys', error));

  const track = <T>(promise: Promise<T>): Promise<T> => {
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise)).catch(() => undefined);
    return promise;
  };

  const settingsOf = (ref: StageRef, config: EngineStage): StageDeploySettings => ({
    ...config.deploy,
    strategy: stageStrategy(targets.of(ref), ref, config.deploy.strategy),
    health: config.deploy.health ?? defaultHealthCheck,
    deadlines: { ...options.deadlines, ...config.deploy.deadlines },
  });

  /** Own keys only: a name from outside (a URL, a container's label) such as `constructor` finds no stage. */
  const stageConfig = (project: string, stage: string) => {
    const stages = projects.get(project)?.stages;
    return stages && Object.hasOwn(stages, stage) ? stages[stage] : undefined;
  };
  const stageOf = (ref: StageRef) => {
    const config = stageConfig(ref.project, ref.stage);
    if (!config) throw new CoreError('NOT_FOUND', `No stage ${ref.stage} in project ${ref.project}`);
    return config;
  };
  const projectOf = (ref: StageRef) => projects.get(ref.project)!;

  const adapterError = (adapterId: string, operation: string, error: unknown) => {
    const failure = toCoreError(error);
    logger.warn(`${adapterId} ${operation} failed: ${failure.message}`, { code: failure.code });
    bus.emit({ type: 'adapter:error', at: at(), adapterId, operation, error: toEventError(failure) });
  };

  /** The stored state, or the config's initial one. */
  const readState = async (ref: StageRef): Promise<StageState | undefined> => store.getStage(ref);
  const updateState = async (
    ref: StageRef,
    change: (state: StageStateInit) => StageStateInit,
  ): Promise<StageState> => {
    for (let attempt = 0; ; attempt++) {
      const current = await readState(ref);
      const config = stageOf(ref);
      const base: StageStateInit = current ?? {
        project: ref.project,
        stage: ref.stage,
        autoDeploy: config.autoDeploy,
        ...(config.pin === undefined ? {} : { pin: config.pin }),
        history: [],
      };
      try {
        return await store.putStage({ state: change(base), expectedRevision: current?.revision ?? 0 });
      } catch (error) {
        if (!isCoreError(error, 'CONFLICT') || attempt >= 4) throw error;
      }
    }
  };

  const decisions = new StageDecisions({
    store,
    registries,
    view,
    inbox,
    stageOf,
    projectOf,
    retryBaseMs: deployRetryBaseMs,
    onError: adapterError,
  });

  const deploys = new DeployQueue({
    store,
    bus,
    logger,
    notices,
    leases,
    targetOf: (ref) => targets.of(ref),
    ...(proxy ? { proxy } : {}),
    concurrency: options.deployConcurrency ?? 2,
    settingsOf: (ref) => settingsOf(ref, stageOf(ref)),
    knows: (ref) => stageConfig(ref.project, ref.stage) !== undefined,
    readState,
    updateState,
    onFinished: (record) => afterDeploy(record),
    stopping: () => stopping,
    track,
    signal: lifetime.signal,
  });

  /** What a deploy that ran here leads to: its leftovers swept, a retry, approvals closed, promoted stages decided. */
  const afterDeploy = async (finished: DeployRecord) => {
    const { project, stage } = finished;
    // A candidate its rollback could not remove is removed once the target answers, retry or not.
    leftovers.add(finished);
    // A release that failed for reasons of ours is tried again later: the decision says when.
    if (finished.finished && finished.error?.fault === 'infrastructure' && !stopping) {
      await reconcile({ project, stage }).catch((error: unknown) =>
        adapterError('engine', 'reconcile', error),
      );
    }
    if (finished.state === 'succeeded') {
      await closeApprovals({ project, stage }, finished.release, `deployed by deploy ${finished.id}`).catch(
        (error: unknown) => adapterError(store.id, 'putApproval', error),
      );
    }
    if (finished.state === 'succeeded' && !stopping) {
      // A stage promoted from this one may now have something to do.
      for (const [name, other] of Object.entries(projectOf({ project, stage }).stages)) {
        if (other.promoteFrom !== stage) continue;
        await reconcile({ project, stage: name }).catch((error: unknown) =>
          adapterError('engine', 'reconcile', error),
        );
      }
    }
  };

  const reconciler = new StageReconciler({
    store,
    decisions,
    deploys,
    notices,
    leases,
    stageOf,
    updateState,
    track,
    onError: adapterError,
    signal: lifetime.signal,
  });
  const reconcile = (ref: StageRef, signal?: AbortSignal) => reconciler.reconcile(ref, signal);

  /** The leader looks at repositories other replicas marked and did not clear (they may have died). */
  const lookAtOthersMarks = async () => {
    if (!store.capabilities.sharedLeases || !leases.leader) return;
    try {
      for (const key of await inbox.load((k) => watched.has(k))) observe(watched.get(key)!);
    } catch (error) {
      adapterError(store.id, 'listRepositoryMarks', error);
    }
  };

  const adoptOrphans = async () => {
    if (!store.capabilities.sharedLeases) return;
    await deploys
      .adopt((await store.listDeploys({ unfinished: true, limit: 1000 })).reverse())
      .catch((error: unknown) => adapterError(store.id, 'listDeploys', error));
  };

  const looks = new RepositoryLooks({
    registries,
    limiters,
    watched,
    view,
    inbox,
    logger,
    intervalMs: pollIntervalMs,
    jitter,
    coalesceMs,
    backoffBaseMs,
    active: () => leases.leader,
    reconcile: (ref, signal) => reconciler.reconcileStage(ref, signal, true),
    track,
    onError: adapterError,
    signal: lifetime.signal,
  });
  const observe = (entry: Watched) => looks.observe(entry);
  const intake = new WebhookIntake({ registries, watched, inbox, store, bus, logger, eventTtlMs, observe });

  /** Route healing on its own timer and on restarts the target reports: webhook-only servers heal too. */
  const healing = proxy
    ? new RouteHealing({
        targets,
        proxy,
        logger,
        intervalMs: healIntervalMs,
        active: () => leases.leader,
        hostOf: (ref) => stageConfig(ref.project, ref.stage)?.deploy.host,
        actualOf: async (ref) => (await readState(ref))?.actual,
        busy: (key) => deploys.busy(key),
        enter: (key) => leases.enter(key),
        exit: (key) => leases.exit(key),
        track,
        onError: adapterError,
      })
    : undefined;

  /** Pending approvals of a release close once it is deployed by another route, or runs already. */
  const closeApprovals = async (ref: StageRef, release: Release, reason: string) => {
    for (const approval of await store.listApprovals({ ...ref, status: 'pending' })) {
      if (approval.release.digest !== release.digest) continue;
      await store.putApproval({ approval: { ...approval, status: 'closed', decidedAt: at(), reason } });
    }
  };

  const commands = new StageCommands({
    store,
    bus,
    notices,
    stageOf,
    projectOf,
    readState,
    updateState,
    listNow: (project) => decisions.listNow(project),
    resolveDigest: (ref, tag) => decisions.resolveDigest(ref, tag),
    candidateOf: (ref, state) => decisions.candidateOf(ref, state),
    reconcile: (ref) => reconcile(ref),
    enqueue: (...args) => deploys.enqueue(...args),
    enqueueOnce: (...args) => deploys.enqueueOnce(...args),
    inFlightFor: (ref, release) => deploys.inFlightFor(ref, release),
    closeApprovals,
    dequeue: (key, id) => deploys.dequeue(key, id),
    cancellerOf: (id) => deploys.cancellerOf(id),
    cancelPending: (id, note) => deploys.cancelPending(id, note),
    enter: (key) => leases.enter(key),
    exit: (key) => leases.exit(key),
    onError: adapterError,
  });

  /** What each stage would do now; tracked like a refresh (its decisions may ask the registry). */
  const planStages = async (
    ref: Partial<StageRef>,
  ): Promise<Array<StageRef & { readonly decision: StageDecision }>> => {
    const out: Array<StageRef & { decision: StageDecision }> = [];
    for (const project of options.projects) {
      if (ref.project && ref.project !== project.id) continue;
      for (const [stage, config] of Object.entries(project.stages)) {
        if (ref.stage && ref.stage !== stage) continue;
        // Promoted stages wait for their source stage, not for the registry.
        const waiting = config.promoteFrom ? undefined : looks.waitingFor(project);
        const { decision } = waiting
          ? { decision: waiting }
          : await decisions.decide({ project: project.id, stage });
        if (decision) out.push({ project: project.id, stage, decision });
      }
    }
    return out;
  };

  /** A person's refresh: tracked, so that a draining stop (a reload) lets it answer. */
  const refreshStages = async (
    params: Parameters<Engine['refresh']>[0],
  ): Promise<Array<StageRef & { decision: StageDecision }>> => {
    const project = projects.get(params.project);
    if (!project) throw new CoreError('NOT_FOUND', `No project ${params.project}`);
    if (params.stage !== undefined) stageOf({ project: params.project, stage: params.stage });
    const entry = watched.get(repoKey(project.registry, project.repository))!;
    const key = repoKey(entry.registry, entry.repository);
    // A person asked: now, whatever the backoff says; a failed listing is the answer's error.
    looks.forgetBackoff(key);
    await decisions.listNow(project, lifetime.signal).catch((error: unknown) => {
      adapterError(registries[project.registry]!.id, 'listTags', error);
      throw error;
    });
    const stages = Object.entries(project.stages).filter(
      ([stage]) => params.stage === undefined || stage === params.stage,
    );
    const out: Array<StageRef & { decision: StageDecision }> = [];
    for (const [stage, config] of stages) {
      const ref = { project: project.id, stage };
      // Promoted stages follow their source stage, not the registry: they are only asked.
      const decision = config.promoteFrom
        ? (await decisions.decide(ref)).decision
        : await reconcile(ref, lifetime.signal);
      if (decision) out.push({ ...ref, decision });
    }
    return out;
  };

  return {
    bus,
    async start() {
      if (started) return;
      started = true;
      await leases.start();
      // Unfinished deploys first: resume or roll back what a crash interrupted (those of replicas
      // still at work stay theirs).
      await deploys.adopt((await store.listDeploys({ unfinished: true, limit: 1000 })).reverse());
      await deploys.idle();
      if (leases.leader) await loadLeftovers();
      recovered = true;
      // Webhooks accepted before a crash or restart (here or at a replica that died) are looked at
      // now: by the first cycle, or on their own when this replica does not poll.
      const marked = await inbox.load((key) => watched.has(key));
      await looks.start();
      if (!leases.leader) for (const key of marked) observe(watched.get(key)!);
      for (const project of options.projects) {
        for (const [stage, config] of Object.entries(project.stages)) {
          if (config.promoteFrom)
            await reconcile({ project: project.id, stage }).catch((e: unknown) =>
              adapterError('engine', 'reconcile', e),
            );
        }
      }
      looks.schedule();
      if (healRoutes) healing?.start(lifetime.signal);
    },
    async stop({ drain = false } = {}) {
      if (stopping) return;
      stopping = true;
      looks.stop();
      healing?.stop();
      inbox.stop();
      leftovers.stop();
      reconciler.stop();
      await deploys.clear();
      if (drain) {
        // Running deploys and what people asked (a refresh) finish before the lifetime ends.
        await deploys.idle();
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      }
      lifetime.abort(new CoreError('ABORTED', 'The engine is stopping'));
      await deploys.idle();
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      await notices.close();
      await leases.close();
    },
    pollOnce: () => track(looks.pollOnce()),
    healRoutesOnce: () => track(healing?.healAll(lifetime.signal) ?? Promise.resolve()),
    ingestWebhook: (params) => intake.ingest(params),
    plan: (ref = {}) => track(planStages(ref)),
    deploy: (params) => commands.deploy(params),
    promote: (params) => commands.promote(params),
    rollback: (params) => commands.rollback(params),
    cancel: (params) => commands.cancel(params),
    approve: (params) => commands.approve(params),
    reject: (params) => commands.reject(params),
    setAutoDeploy: (params) => commands.setAutoDeploy(params),
    pin: (params) => commands.pin(params),
    refresh: (params) => track(refreshStages(params)),
    idle: () => deploys.idle(),
    leadership: () => ({ leader: leases.leader, holder: leases.holder }),
    leftovers: () => leftovers.list(),
  };
}

/** A retry pause as given, refused when it is not a duration (a negative or non-finite one would retry in a loop, or never). */
function pauseOf(path: string, value: number | undefined): number | undefined {
  if (value === undefined || (Number.isFinite(value) && value >= 0)) return value;
  throw new CoreError(
    'CONFIG_INVALID',
    `${path}: must be a number of milliseconds, 0 or more (got ${value})`,
  );
}
