import { setTimeout as sleep } from 'node:timers/promises';
import type { DeployTarget, HealthReport, Instance, InstanceSpec } from '../contracts/deploy-target.ts';
import type { Release } from '../contracts/release.ts';
import type { ReverseProxy, Route } from '../contracts/reverse-proxy.ts';
import type { DeployRecord, StateStore } from '../contracts/state-store.ts';
import { CoreError, isCoreError, toCoreError } from '../errors.ts';
import { type EventBus, toEventError } from '../events.ts';
import { type Logger, silentLogger } from '../logger.ts';
import type { StageDeploySettings } from './deploy-settings.ts';
import { assertTransition, type DeployState, isFinalDeployState } from './deploy-states.ts';
import { recordSuccess } from './stage-history.ts';

export interface DeployRunnerDeps {
  readonly store: StateStore;
  readonly target: DeployTarget;
  readonly proxy?: ReverseProxy;
  readonly bus: EventBus;
  readonly logger?: Logger;
  /** Injected for tests; waits `ms` unless the signal fires. */
  readonly wait?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** What the runner keeps in the deploy record's `data`, so a resumed deploy knows what exists. */
interface RunnerData {
  candidate?: Instance;
  /** The route before the switch, to put back on rollback. */
  previousRoute?: Route | null;
  /** Old instances stopped by a recreate deploy, to start again on rollback. */
  stoppedOld?: Instance[];
}

/** 500 ms doubling: the last of six attempts comes about 16 s after the first. */
const rollbackAttempts = 6;

const defaultWait = (ms: number, signal?: AbortSignal) =>
  sleep(ms, undefined, signal ? { signal } : undefined).then(() => undefined);

/**
 * Runs one deploy from wherever its record says it is to a final state. Every transition is
 * written to the store before the step's side effect runs; after a crash, calling this again on
 * the same record rolls back a deploy that had not reached the traffic switch, and finishes one that
 * had. Resolves with the final record; never throws for a failed deploy (the record says why).
 */
export async function runDeploy(
  deps: DeployRunnerDeps,
  params: {
    readonly deployId: string;
    readonly settings: StageDeploySettings;
    readonly signal?: AbortSignal;
  },
): Promise<DeployRecord> {
  const { store, target, proxy, bus } = deps;
  const wait = deps.wait ?? defaultWait;
  const { settings, signal } = params;
  let record = await store.getDeploy({ id: params.deployId });
  if (!record) throw new CoreError('NOT_FOUND', `No deploy ${params.deployId}`);
  const logger = (deps.logger ?? silentLogger).child({
    deployId: record.id,
    project: record.project,
    stage: record.stage,
  });
  if (record.finished) return record;
  const data = (): RunnerData => record!.data as RunnerData;
  const at = () => new Date().toISOString();
  const base = () => ({ deployId: record!.id, project: record!.project, stage: record!.stage, at: at() });
  /** What a finished deploy tells people besides its state: the release before it and its duration. */
  const outcome = () => ({
    ...(record!.previous ? { previous: record!.previous } : {}),
    durationMs: Math.max(0, Date.now() - Date.parse(record!.createdAt)),
  });
  const switchesTraffic = proxy !== undefined && settings.host !== undefined;

  const log = async (level: 'info' | 'warn' | 'error', line: string) => {
    logger[level](line);
    await store.appendLog({ deployId: record!.id, lines: [{ at: at(), level, line }] });
    bus.emit({ type: 'deploy:log', ...base(), level, line });
  };

  const advance = async (
    to: DeployState,
    extra: { note?: string; data?: RunnerData; error?: CoreError } = {},
  ) => {
    const from = record!.state;
    assertTransition(from, to);
    record = await store.updateDeploy({
      id: record!.id,
      expectedRevision: record!.revision,
      update: {
        state: to,
        finished: isFinalDeployState(to),
        ...(extra.note === undefined ? {} : { note: extra.note }),
        ...(extra.data === undefined ? {} : { data: { ...record!.data, ...extra.data } }),
        ...(extra.error === undefined
          ? {}
          : { error: { code: extra.error.code, message: extra.error.message } }),
      },
    });
    bus.emit({ type: 'deploy:state-changed', ...base(), from, to });
  };

  const spec = (release: Release, deployId: string): InstanceSpec => ({
    project: record!.project,
    stage: record!.stage,
    deployId,
    image: settings.image,
    release,
    ...(settings.port === undefined ? {} : { port: settings.port }),
    ...(settings.env === undefined ? {} : { env: settings.env }),
  });
  const onLog = (line: string) => void log('info', line);

  const othersOfStage = async (exceptId?: string) =>
    (await target.list({ project: record!.project, stage: record!.stage })).filter(
      (instance) => instance.id !== exceptId && instance.deployId !== record!.id,
    );

  /** The gate speaks: each probe as an event and a log line. */
  const probed = async (attempt: number, report: HealthReport, failures: number, deadline: number) => {
    const healthy = report.status === 'healthy';
    bus.emit({
      type: 'deploy:health-checked',
      ...base(),
      attempt,
      healthy,
      ...(report.httpStatus === undefined ? {} : { status: report.httpStatus }),
      ...(healthy || report.detail === undefined ? {} : { error: report.detail }),
      failures,
      deadline: new Date(deadline).toISOString(),
    });
    const detail = report.detail ? `: ${report.detail}` : '';
    if (healthy) await log('info', `health gate passed${detail}`);
    else
      await log(
        report.status === 'starting' ? 'info' : 'warn',
        `health probe ${attempt} ${report.status}${detail} (${failures} failed so far)`,
      );
  };

  const gate = async (instance: Instance) => {
    const health = settings.health;
    const started = Date.now();
    // The gate gives up once the start period and all retries could have passed.
    const deadline =
      started + health.startPeriodMs + (health.retries + 1) * (health.intervalMs + health.timeoutMs);
    let failures = 0;
    for (let attempt = 1; ; attempt++) {
      const report = await target.checkHealth({ instance, health, ...(signal ? { signal } : {}) });
      const inStartPeriod = Date.now() - started < health.startPeriodMs;
      if (report.status === 'unhealthy' && !inStartPeriod) failures += 1;
      await probed(attempt, report, failures, deadline);
      if (report.status === 'healthy') return;
      if (report.status === 'exited') {
        throw new CoreError(
          'UNAVAILABLE',
          `The candidate exited${report.detail ? `: ${report.detail}` : ''}`,
        );
      }
      if (failures > health.retries) {
        throw new CoreError(
          'UNAVAILABLE',
          `The candidate failed its health check ${failures} times${report.detail ? `: ${report.detail}` : ''}`,
        );
      }
      if (Date.now() >= deadline) {
        throw new CoreError(
          'TIMEOUT',
          `The candidate did not become healthy within ${deadline - started} ms`,
        );
      }
      await wait(health.intervalMs, signal);
    }
  };

  const commit = async () => {
    await recordSuccess(store, record!, record!.release);
  };

  /**
   * Rollback steps outlast passing faults (an engine or proxy restarting): retryable failures are
   * tried again with backoff for about half a minute before the rollback gives up.
   */
  const persist = async <T>(step: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await step();
      } catch (error) {
        const failure = toCoreError(error);
        if (!failure.retryable || attempt >= rollbackAttempts) throw failure;
        await log('warn', `rollback step failed (${failure.message}); trying again`);
        await wait(Math.max(failure.retryAfterMs ?? 0, 500 * 2 ** (attempt - 1)));
      }
    }
  };

  const rollBack = async (cause: CoreError) => {
    if (record!.state !== 'rolling-back')
      await advance('rolling-back', { note: cause.message, error: cause });
    await log('error', `rolling back: ${cause.message}`);
    const candidate =
      data().candidate ??
      // The engine may be restarting right now (that may be why this rolls back): outlast it.
      (await persist(() => target.list({ project: record!.project, stage: record!.stage }))).find(
        (i) => i.deployId === record!.id,
      );
    if (candidate) {
      if (target.logs) {
        const lines = await target.logs({ instance: candidate, tail: 20 }).catch(() => []);
        for (const line of lines) await log('warn', `candidate: ${line}`);
      }
      await persist(() => target.stop({ instance: candidate }));
    }
    let serving = true;
    const stoppedOld = data().stoppedOld ?? [];
    let restoredEndpoint: Instance['endpoint'];
    for (const old of stoppedOld) {
      try {
        const restored = await persist(() => target.start({ spec: spec(old.release, old.deployId), onLog }));
        await gate(restored);
        restoredEndpoint = restored.endpoint;
        await log('info', `restarted ${old.release.tag}`);
      } catch (error) {
        serving = false;
        await log('error', `could not restart ${old.release.tag}: ${toCoreError(error).message}`);
      }
    }
    const previousRoute = data().previousRoute;
    if (switchesTraffic && restoredEndpoint) {
      // A recreated old release listens somewhere new: the route follows it.
      await persist(() =>
        proxy!.ensureRoute({ route: { host: settings.host!, upstream: restoredEndpoint } }),
      );
    } else if (switchesTraffic) {
      // The switch may have happened before the failure: point the route back, at where the old
      // release listens now (an engine restart may have given it a new address).
      const previous = record!.previous;
      const old = previous
        ? await persist(async () => {
            const instances = (await target.list({ project: record!.project, stage: record!.stage })).filter(
              (i) => i.deployId !== record!.id && i.release.digest === previous.digest,
            );
            const running = instances.find((i) => i.state === 'running' && i.endpoint !== undefined);
            // Its engine may be bringing it back (a restarted daemon): give it the rollback's patience.
            if (!running && instances.length > 0)
              throw new CoreError('UNAVAILABLE', `${previous.tag} is not running yet`, { retryable: true });
            return running;
          }).catch(() => undefined)
        : undefined;
      const route = old?.endpoint
        ? {
            ...previousRoute,
            host: settings.host!,
            upstream: { ...previousRoute?.upstream, ...old.endpoint },
          }
        : previousRoute;
      if (route) await persist(() => proxy!.ensureRoute({ route }));
    }
    if (!serving) throw cause;
    const restored = record!.previous;
    await advance('rolled-back', {
      note: restored ? `${restored.tag} keeps serving` : 'nothing was serving before',
    });
    bus.emit({
      type: 'deploy:rolled-back',
      ...base(),
      release: record!.release,
      ...(restored ? { restored } : {}),
      durationMs: outcome().durationMs,
      reason: cause.message,
    });
  };

  try {
    if (signal?.aborted && record.state === 'pending') {
      await advance('cancelled', { note: 'cancelled before it started' });
      return record;
    }
    const state = record.state as DeployState;
    if (['pulling', 'stopping-old', 'starting', 'health-checking'].includes(state)) {
      throw new CoreError('ABORTED', `The engine stopped while the deploy was ${state}`);
    }
    if (state === 'pending') {
      await advance('pulling');
      bus.emit({
        type: 'deploy:started',
        ...base(),
        release: record.release,
        ...(record.previous ? { previous: record.previous } : {}),
        trigger: record.trigger,
        ...(record.by === undefined ? {} : { by: record.by }),
      });
      await log('info', `deploying ${record.release.tag} (${record.release.digest})`);
      await target.pull?.({ spec: spec(record.release, record.id), onLog, ...(signal ? { signal } : {}) });
      if (settings.strategy === 'recreate') {
        const old = await othersOfStage();
        await advance('stopping-old', { data: { stoppedOld: old } });
        for (const instance of old) await target.stop({ instance });
      }
      await advance('starting');
      const candidate = await target.start({
        spec: spec(record.release, record.id),
        onLog,
        ...(signal ? { signal } : {}),
      });
      await advance('health-checking', { data: { candidate } });
      await gate(candidate);
      const previousRoute = switchesTraffic
        ? ((await proxy!.getRoute({ host: settings.host! })) ?? null)
        : null;
      await advance('switching-traffic', { data: { previousRoute } });
    }
    if (record.state === 'switching-traffic') {
      const candidate = data().candidate;
      if (!candidate) throw new CoreError('INTERNAL', 'The deploy record lost its candidate');
      if (switchesTraffic) {
        if (!candidate.endpoint)
          throw new CoreError('UNSUPPORTED', `${target.id} gave the candidate no endpoint to route to`);
        await proxy!.ensureRoute({ route: { host: settings.host!, upstream: candidate.endpoint } });
        await log(
          'info',
          `${settings.host} now routes to ${candidate.endpoint.host}:${candidate.endpoint.port}`,
        );
      }
      await commit();
      await advance(settings.strategy === 'blue-green' ? 'retiring-old' : 'succeeded');
    }
    if (record.state === 'retiring-old') {
      // Past the commit point: a failure here leaves an extra container, never a broken stage.
      for (const old of await othersOfStage(data().candidate?.id)) {
        await target
          .stop({ instance: old })
          .catch((error: unknown) =>
            log('warn', `could not retire ${old.id}: ${toCoreError(error).message}`),
          );
      }
      await advance('succeeded');
    }
    if (record.state === 'succeeded') {
      await log('info', `${record.release.tag} is live`);
      bus.emit({ type: 'deploy:succeeded', ...base(), release: record.release, ...outcome() });
    }
    return record;
  } catch (error) {
    const cause =
      signal?.aborted && !isCoreError(error, 'ABORTED')
        ? new CoreError('ABORTED', 'The deploy was cancelled')
        : toCoreError(error);
    try {
      await rollBack(cause);
    } catch (rollbackError) {
      const failure = toCoreError(rollbackError);
      await log('error', `rollback failed: ${failure.message}`).catch(() => undefined);
      if (!record.finished && record.state === 'rolling-back') {
        await advance('failed', { note: failure.message, error: failure });
        bus.emit({
          type: 'deploy:failed',
          ...base(),
          release: record.release,
          ...outcome(),
          error: toEventError(failure),
        });
      }
    }
    return record;
  }
}
