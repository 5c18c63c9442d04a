import { setTimeout as sleep } from 'node:timers/promises';
import type { DeployTarget, HealthReport, Instance, InstanceSpec } from '../contracts/deploy-target.ts';
import type { Release } from '../contracts/release.ts';
import type { ReverseProxy, Route } from '../contracts/reverse-proxy.ts';
import type { DeployFault, DeployRecord, StateStore } from '../contracts/state-store.ts';
import { CoreError, isCoreError, toCoreError } from '../errors.ts';
import { type EventBus, toEventError } from '../events.ts';
import { type Logger, silentLogger } from '../logger.ts';
import { defaultStepDeadlines, type StageDeploySettings } from './deploy-settings.ts';
import { assertTransition, type DeployState, isFinalDeployState } from './deploy-states.ts';
import type { Leftover } from './leftovers.ts';
import { createProbeSchedule } from './probe-schedule.ts';
import { awaitDecision, closePromotionApproval, openPromotionApproval, refusal } from './promotion.ts';
import { recordSuccess } from './stage-history.ts';
import { withDeadline } from './step-deadline.ts';

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
  /** A candidate the rollback could not remove: the engine removes it once the target answers. */
  leftover?: Leftover;
  /** The approval a candidate waiting for its promotion needs; closed if the deploy ends otherwise. */
  promotionApprovalId?: string;
}

/** 500 ms doubling: the last of six attempts comes about 16 s after the first. */
const rollbackAttempts = 6;

/**
 * Failures that are the release's own: it cannot be pulled or started as built, or its health gate
 * said no. Anything else (an unreachable engine or proxy, a deadline, a cancel) is ours.
 */
const releaseFaults = new WeakSet<CoreError>();
const releaseFault = (error: CoreError): CoreError => {
  releaseFaults.add(error);
  return error;
};
/** An image the target cannot pull (gone from the registry) or start (a bad entrypoint, mount…). */
const asImageFault = (error: unknown, signal: AbortSignal | undefined): CoreError => {
  const failure = toCoreError(error);
  if (!signal?.aborted && (failure.code === 'BAD_REQUEST' || failure.code === 'NOT_FOUND'))
    releaseFault(failure);
  return failure;
};
export const faultOf = (error: CoreError): DeployFault =>
  releaseFaults.has(error) ? 'release' : 'infrastructure';

/**
 * Hides a stage's environment values (a DSN, a key) wherever a deploy writes text: its log lines,
 * its record's error, its events. Values under 8 characters (`1`, `prod`) are left: they hide nothing.
 */
export function envMasker(env: Readonly<Record<string, string>> | undefined) {
  const values = [...new Set(Object.values(env ?? {}))]
    .filter((value) => value.length >= 8)
    .sort((a, b) => b.length - a.length);
  const text = (line: string): string =>
    values.reduce((out, value) => out.replaceAll(value, '[redacted]'), line);
  const error = (failure: CoreError): CoreError => {
    if (!values.some((value) => failure.message.includes(value))) return failure;
    const masked = new CoreError(failure.code, text(failure.message), {
      retryable: failure.retryable,
      details: failure.details,
      ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
    });
    if (releaseFaults.has(failure)) releaseFaults.add(masked);
    return masked;
  };
  return { text, error };
}

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
  const deadlines = { ...defaultStepDeadlines, ...settings.deadlines };
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
  const inPlace = target.capabilities.replacement === 'in-place';
  const mask = envMasker(settings.env);

  const log = async (level: 'info' | 'warn' | 'error', text: string) => {
    const line = mask.text(text);
    logger[level](line);
    await store.appendLog({ deployId: record!.id, lines: [{ at: at(), level, line }] });
    bus.emit({ type: 'deploy:log', ...base(), level, line });
  };

  const advance = async (
    to: DeployState,
    extra: { note?: string; data?: RunnerData; error?: CoreError; fault?: DeployFault } = {},
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
          : {
              error: {
                code: extra.error.code,
                message: extra.error.message,
                fault: extra.fault ?? faultOf(extra.error),
              },
            }),
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

  /** One call to the target or proxy, bounded by its step's deadline (and the cancel, when `cancellable`). */
  const bounded = <T>(
    step: string,
    ms: number,
    run: (signal: AbortSignal) => Promise<T>,
    cancellable = true,
  ) => withDeadline(step, ms, run, cancellable ? signal : undefined);

  /** The gate speaks: each probe as an event and a log line. */
  const probed = async (
    attempt: number,
    report: HealthReport,
    failures: number,
    deadline: number,
    counted: boolean,
  ) => {
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
        counted ? 'warn' : 'info',
        `health probe ${attempt} ${report.status}${detail} (${failures} failed so far${report.status === 'unhealthy' && !counted ? ', this one not counted' : ''})`,
      );
  };

  const othersOfStage = async (exceptId?: string, cancellable = true) =>
    (
      await bounded(
        'listing the stage',
        deadlines.stopMs,
        (s) => target.list({ project: record!.project, stage: record!.stage, signal: s }),
        cancellable,
      )
    ).filter((instance) => instance.id !== exceptId && instance.deployId !== record!.id);

  /** The health gate; a rollback's gate (of a restarted old release) does not listen to the cancel. */
  const gate = async (instance: Instance, cancellable = true) => {
    const health = settings.health;
    const started = Date.now();
    // The gate gives up once the start period and all retries could have passed.
    const deadline =
      started + health.startPeriodMs + (health.retries + 1) * (health.intervalMs + health.timeoutMs);
    // Right after the start, then backing off up to the interval; see createProbeSchedule for
    // which failures count toward the retries.
    const schedule = createProbeSchedule(health);
    let failures = 0;
    for (let attempt = 1; ; attempt++) {
      schedule.probing();
      const report = await bounded(
        'a health probe',
        deadlines.probeMs,
        (s) => target.checkHealth({ instance, health, signal: s }),
        cancellable,
      );
      const inStartPeriod = Date.now() - started < health.startPeriodMs;
      const counted = report.status === 'unhealthy' && !inStartPeriod && schedule.countFailure();
      if (counted) failures += 1;
      await probed(attempt, report, failures, deadline, counted);
      if (report.status === 'healthy') return;
      if (report.status === 'exited') {
        throw releaseFault(
          new CoreError('UNAVAILABLE', `The candidate exited${report.detail ? `: ${report.detail}` : ''}`),
        );
      }
      if (failures > health.retries) {
        throw releaseFault(
          new CoreError(
            'UNAVAILABLE',
            `The candidate failed its health check ${failures} times${report.detail ? `: ${report.detail}` : ''}`,
          ),
        );
      }
      if (Date.now() >= deadline) {
        // What the probes said, too: on a busy machine the deadline can come before the last retry.
        const said = failures > 0 ? `failed its health check ${failures} times and ` : '';
        throw releaseFault(
          new CoreError(
            'TIMEOUT',
            `The candidate ${said}did not become healthy within ${deadline - started} ms`,
          ),
        );
      }
      await wait(schedule.nextPause(), cancellable ? signal : undefined);
    }
  };

  const commit = async () => {
    await recordSuccess(store, record!, record!.release);
  };

  /**
   * Rollback steps outlast passing faults (an engine or proxy restarting): retryable failures (a
   * step past its deadline too) are tried again with backoff, within the rollback's own deadline.
   * They never listen to the cancel: a cancelled deploy still rolls back.
   */
  let rollbackEnds = Number.POSITIVE_INFINITY;
  const persist = async <T>(
    step: string,
    ms: number,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      const left = rollbackEnds - Date.now();
      try {
        if (left <= 0)
          throw new CoreError('TIMEOUT', `the rollback did not finish within ${deadlines.rollbackMs} ms`, {
            retryable: false,
          });
        return await withDeadline(step, Math.min(ms, left), run);
      } catch (error) {
        const failure = toCoreError(error);
        if (!failure.retryable || attempt >= rollbackAttempts || Date.now() >= rollbackEnds) throw failure;
        await log('warn', `rollback step failed (${failure.message}); trying again`);
        await wait(Math.max(failure.retryAfterMs ?? 0, 500 * 2 ** (attempt - 1)));
      }
    }
  };
  const listStage = (s: AbortSignal) =>
    target.list({ project: record!.project, stage: record!.stage, signal: s });

  /** Where the release before this deploy listens now (an engine restart may have moved it). */
  const previousInstance = async (previous: Release) =>
    persist('listing the stage', deadlines.stopMs, async (s) => {
      const instances = (await listStage(s)).filter(
        (i) => i.deployId !== record!.id && i.release.digest === previous.digest,
      );
      const running = instances.find((i) => i.state === 'running' && i.endpoint !== undefined);
      // Its engine may be bringing it back (a restarted daemon): give it the rollback's patience.
      if (!running && instances.length > 0)
        throw new CoreError('UNAVAILABLE', `${previous.tag} is not running yet`, { retryable: true });
      return running;
    }).catch(() => undefined);

  /** Starts again what a recreate deploy stopped: where it listens, and whether all of it serves again. */
  const restartStoppedOld = async (): Promise<{ endpoint: Instance['endpoint']; serving: boolean }> => {
    let serving = true;
    let endpoint: Instance['endpoint'];
    for (const old of data().stoppedOld ?? []) {
      try {
        const restored = await persist(`restarting ${old.release.tag}`, deadlines.startMs, (s) =>
          target.start({ spec: spec(old.release, old.deployId), onLog, signal: s }),
        );
        await gate(restored, false);
        endpoint = restored.endpoint;
        await log('info', `restarted ${old.release.tag}`);
      } catch (error) {
        serving = false;
        await log('error', `could not restart ${old.release.tag}: ${toCoreError(error).message}`);
      }
    }
    return { endpoint, serving };
  };

  /**
   * The rollback could not remove the candidate (its target does not answer): the record says so
   * before the deploy ends, so that the engine removes it later, across restarts, whatever later
   * deploys do. Rethrows the failure: the rollback did not finish.
   */
  const leaveCandidate = async (error: unknown, started: boolean, instanceId?: string): Promise<never> => {
    const failure = toCoreError(error);
    if (!started) throw failure;
    const leftover: Leftover = {
      ...(instanceId === undefined ? {} : { instanceId }),
      since: at(),
      reason: mask.text(failure.message),
    };
    const note = `could not remove the candidate (${leftover.reason}); it is removed once ${target.id} answers`;
    try {
      record = await store.updateDeploy({
        id: record!.id,
        expectedRevision: record!.revision,
        update: { data: { ...record!.data, leftover }, note },
      });
      await log('warn', note);
    } catch (storeError) {
      // The deploy stays unfinished then: the next start rolls it back again and meets its candidate.
      await log(
        'error',
        `could not record the candidate left behind: ${toCoreError(storeError).message}`,
      ).catch(() => undefined);
    }
    throw failure;
  };

  const rollBack = async (cause: CoreError, fault: DeployFault) => {
    rollbackEnds = Date.now() + deadlines.rollbackMs;
    if (record!.state !== 'rolling-back')
      await advance('rolling-back', { note: cause.message, error: cause, fault });
    await log('error', `rolling back: ${cause.message}`);
    const promotion = data().promotionApprovalId;
    if (promotion)
      await closePromotionApproval(store, promotion, `the deploy rolled back: ${cause.message}`).catch(
        (error: unknown) =>
          log('warn', `could not close approval ${promotion}: ${toCoreError(error).message}`),
      );
    const candidate =
      data().candidate ??
      // The engine may be restarting right now (that may be why this rolls back): outlast it.
      (
        await persist('listing the stage', deadlines.stopMs, listStage).catch((error: unknown) =>
          // Past `starting`, a candidate may exist that nobody knows of: it is left to remove.
          leaveCandidate(
            error,
            record!.journal.some((entry) => entry.state === 'starting'),
          ),
        )
      ).find((i) => i.deployId === record!.id);
    if (candidate) {
      if (target.logs) {
        const lines = await withDeadline('reading the candidate log', deadlines.probeMs, (s) =>
          target.logs!({ instance: candidate, tail: 20, signal: s }),
        ).catch(() => []);
        for (const line of lines) await log('warn', `candidate: ${line}`);
      }
      // Before the commit point: the candidate is undone (an in-place target rolls back to the
      // release before it).
      await persist('reverting the candidate', deadlines.stopMs, (s) =>
        target.revert({ instance: candidate, signal: s }),
      ).catch((error: unknown) => leaveCandidate(error, true, candidate.id));
    }
    const { endpoint: restoredEndpoint, serving } = await restartStoppedOld();
    const previousRoute = data().previousRoute;
    const ensure = (route: Route) =>
      persist('switching the route back', deadlines.switchMs, (s) =>
        proxy!.ensureRoute({ route, signal: s }),
      );
    if (switchesTraffic && restoredEndpoint) {
      // A recreated old release listens somewhere new: the route follows it.
      await ensure({ host: settings.host!, upstream: restoredEndpoint });
    } else if (switchesTraffic) {
      // The switch may have happened before the failure: point the route back, at where the old
      // release listens now.
      const old = record!.previous ? await previousInstance(record!.previous) : undefined;
      const route = old?.endpoint
        ? {
            ...previousRoute,
            host: settings.host!,
            upstream: { ...previousRoute?.upstream, ...old.endpoint },
          }
        : previousRoute;
      if (route) await ensure(route);
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

  /** Writes runner data without a transition (what a later rollback must know). */
  const remember = async (extra: RunnerData) => {
    record = await store.updateDeploy({
      id: record!.id,
      expectedRevision: record!.revision,
      update: { data: { ...record!.data, ...extra } },
    });
  };

  /**
   * A candidate whose canaries passed the gate and wait: an approval opens, and once a person approves
   * it the target promotes them; a rejection (or no decision in time) fails the deploy before the
   * commit point, so it is reverted.
   */
  const promoted = async (candidate: Instance): Promise<Instance> => {
    if (!target.promote)
      throw new CoreError(
        'UNSUPPORTED',
        `${target.id} has a candidate waiting for promotion but no promote()`,
      );
    const approval = await openPromotionApproval(store, bus, record!);
    await remember({ promotionApprovalId: approval.id });
    await log(
      'info',
      `${record!.release.tag} passed its gate and waits for its promotion: approval ${approval.id}`,
    );
    const ends = Date.now() + deadlines.promotionMs;
    const decided = await awaitDecision({
      store,
      bus,
      approvalId: approval.id,
      ms: deadlines.promotionMs,
      ...(signal ? { signal } : {}),
    });
    if (decided.status !== 'approved') throw releaseFault(refusal(decided, record!.release));
    await log(
      'info',
      `${decided.decidedBy ?? 'someone'} approved the promotion: promoting ${record!.release.tag}`,
    );
    return bounded('promoting the candidate', Math.max(1, ends - Date.now()), (s) =>
      target.promote!({ instance: candidate, signal: s }),
    );
  };

  /** From pending to the traffic switch: everything before the commit point, each step bounded. */
  const prepare = async () => {
    await advance('pulling');
    bus.emit({
      type: 'deploy:started',
      ...base(),
      release: record!.release,
      ...(record!.previous ? { previous: record!.previous } : {}),
      trigger: record!.trigger,
      ...(record!.by === undefined ? {} : { by: record!.by }),
    });
    await log('info', `deploying ${record!.release.tag} (${record!.release.digest})`);
    if (target.pull) {
      await bounded('pulling the image', deadlines.pullMs, (s) =>
        target.pull!({ spec: spec(record!.release, record!.id), onLog, signal: s }),
      ).catch((error: unknown) => {
        throw asImageFault(error, signal);
      });
    }
    // An in-place target replaces the old release itself when the candidate starts.
    if (settings.strategy === 'recreate' && !inPlace) {
      const old = await othersOfStage();
      await advance('stopping-old', { data: { stoppedOld: old } });
      for (const instance of old)
        await bounded(`stopping ${instance.release.tag}`, deadlines.stopMs, (s) =>
          target.retire({ instance, signal: s }),
        );
    }
    await advance('starting');
    const candidate = await bounded('starting the candidate', deadlines.startMs, (s) =>
      target.start({ spec: spec(record!.release, record!.id), onLog, signal: s }),
    ).catch((error: unknown) => {
      throw asImageFault(error, signal);
    });
    await advance('health-checking', { data: { candidate } });
    await gate(candidate);
    const live = candidate.awaitingPromotion ? await promoted(candidate) : candidate;
    const previousRoute = switchesTraffic
      ? ((await bounded('reading the route', deadlines.switchMs, (s) =>
          proxy!.getRoute({ host: settings.host!, signal: s }),
        )) ?? null)
      : null;
    await advance('switching-traffic', { data: { previousRoute, candidate: live } });
  };

  const switchTraffic = async () => {
    const candidate = data().candidate;
    if (!candidate) throw new CoreError('INTERNAL', 'The deploy record lost its candidate');
    if (switchesTraffic) {
      if (!candidate.endpoint)
        throw new CoreError('UNSUPPORTED', `${target.id} gave the candidate no endpoint to route to`);
      await bounded('switching the route', deadlines.switchMs, (s) =>
        proxy!.ensureRoute({ route: { host: settings.host!, upstream: candidate.endpoint! }, signal: s }),
      );
      await log(
        'info',
        `${settings.host} now routes to ${candidate.endpoint.host}:${candidate.endpoint.port}`,
      );
    }
    await commit();
    // Nothing old is left to retire on an in-place target: the target replaced it.
    await advance(settings.strategy === 'blue-green' && !inPlace ? 'retiring-old' : 'succeeded');
  };

  /** Past the commit point: a failure here leaves an extra container, never a broken stage; a cancel is too late. */
  const retireOld = async () => {
    const others = await othersOfStage(data().candidate?.id, false).catch(async (error: unknown) => {
      await log('warn', `could not list the old instances: ${toCoreError(error).message}`);
      return [];
    });
    for (const old of others) {
      await withDeadline(`retiring ${old.release.tag}`, deadlines.stopMs, (s) =>
        target.retire({ instance: old, signal: s }),
      ).catch((error: unknown) => log('warn', `could not retire ${old.id}: ${toCoreError(error).message}`));
    }
    await advance('succeeded');
  };

  try {
    if (signal?.aborted && record.state === 'pending') {
      await advance('cancelled', { note: 'cancelled before it started' });
      return record;
    }
    const state = record.state;
    if (['pulling', 'stopping-old', 'starting', 'health-checking', 'rolling-back'].includes(state)) {
      // Taken up again after a restart, or after this very engine could not write its record (a
      // store that stopped writing): which one, the record cannot say.
      throw new CoreError(
        'ABORTED',
        `The deploy was interrupted while ${state} (the engine stopped, or could not write to the store)`,
      );
    }
    if (state === 'pending') await prepare();
    if (record.state === 'switching-traffic') await switchTraffic();
    if (record.state === 'retiring-old') await retireOld();
    if (record.state === 'succeeded') {
      await log('info', `${record.release.tag} is live`);
      bus.emit({ type: 'deploy:succeeded', ...base(), release: record.release, ...outcome() });
    }
    return record;
  } catch (error) {
    const cause = mask.error(
      signal?.aborted && !isCoreError(error, 'ABORTED')
        ? new CoreError('ABORTED', 'The deploy was cancelled')
        : toCoreError(error),
    );
    // A cancel or a stop during the gate is ours, whatever the gate was about to say; a rollback
    // resumed after a crash keeps the fault of the failure that started it.
    const fault: DeployFault =
      record.state === 'rolling-back'
        ? (record.error?.fault ?? 'infrastructure')
        : signal?.aborted
          ? 'infrastructure'
          : faultOf(cause);
    try {
      await rollBack(cause, fault);
    } catch (rollbackError) {
      const failure = mask.error(toCoreError(rollbackError));
      await log('error', `rollback failed: ${failure.message}`).catch(() => undefined);
      if (!record.finished && record.state === 'rolling-back') {
        await advance('failed', { note: failure.message, error: failure, fault });
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
