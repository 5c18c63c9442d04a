import type { DeployTarget, Endpoint, Instance, InstanceChange } from '../../contracts/deploy-target.ts';
import { type Release, type StageRef, stageKey } from '../../contracts/release.ts';
import type { ReverseProxy } from '../../contracts/reverse-proxy.ts';
import { isCoreError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { loopBreaker } from '../loop-breaker.ts';
import { listAllInstances, type StageTargets } from '../stage-targets.ts';

export interface RouteHealingOptions {
  /** The engine's targets: every one is listed and watched, each for the stages it runs. */
  readonly targets: StageTargets;
  readonly proxy: ReverseProxy;
  readonly logger: Logger;
  /** How often every route is checked; 0 turns the timer off (reported restarts still heal). */
  readonly intervalMs: number;
  /** Whether this replica heals now (the leader does). */
  readonly active: () => boolean;
  /** The host name of a stage's route, when it has one. */
  readonly hostOf: (ref: StageRef) => string | undefined;
  /** The release the stage runs, by the store. */
  readonly actualOf: (ref: StageRef) => Promise<Release | undefined>;
  /** Whether a deploy runs or waits in the stage: its switch sets the route then. */
  readonly busy: (key: string) => boolean;
  /** The stage's lease (one replica acts on a stage at a time). */
  readonly enter: (key: string) => Promise<boolean>;
  readonly exit: (key: string) => Promise<void>;
  /** Keeps the engine's stop waiting for a pass. */
  readonly track: <T>(work: Promise<T>) => Promise<T>;
  readonly onError: (adapterId: string, operation: string, error: unknown) => void;
}

const sameEndpoint = (a: Endpoint | undefined, b: Endpoint) => a?.host === b.host && a.port === b.port;

/**
 * Points each idle stage's route back at the instance that runs its release when they drifted apart
 * (a restarted container's new address, a hand edit of the proxy): every `intervalMs`, polling or
 * not, and at once for a stage whose instance the target reports restarted (`watchInstances`).
 */
export class RouteHealing {
  readonly #options: RouteHealingOptions;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Stages a reported change asks to heal, and whether a drain of them runs. */
  readonly #reported = new Map<string, StageRef>();
  #draining = false;

  constructor(options: RouteHealingOptions) {
    this.#options = options;
  }

  /** Starts the timer and, for each target that can report restarts, its watch; all end with `signal`. */
  start(signal: AbortSignal): void {
    this.#schedule(signal);
    this.#watch(signal);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  /** One pass over every stage (what the timer runs); the leader only. One `list` for all stages. */
  async healAll(signal: AbortSignal): Promise<void> {
    if (!this.#options.active()) return;
    const running = await this.#running({ signal });
    if (!running) return;
    const pause = loopBreaker();
    for (const instances of running.values()) {
      await pause();
      if (signal.aborted) return;
      await this.#healStage(instances, signal);
    }
  }

  #schedule(signal: AbortSignal): void {
    const { intervalMs, track } = this.#options;
    if (intervalMs <= 0 || this.#stopped) return;
    this.#timer = setTimeout(() => {
      void track(this.healAll(signal)).finally(() => this.#schedule(signal));
    }, intervalMs);
    this.#timer.unref();
  }

  #watch(signal: AbortSignal): void {
    for (const target of this.#options.targets.all) this.#watchTarget(target, signal);
  }

  #watchTarget(target: DeployTarget, signal: AbortSignal): void {
    const { targets, track, onError } = this.#options;
    if (!target.watchInstances) return;
    const onChange = (change: InstanceChange) => {
      if (change.state !== 'running' || this.#stopped || targets.of(change) !== target) return;
      this.#reported.set(stageKey(change), { project: change.project, stage: change.stage });
      void track(this.#drain(signal));
    };
    target.watchInstances({ signal, onChange }).catch((error: unknown) => {
      if (!signal.aborted && !(isCoreError(error) && error.code === 'ABORTED'))
        onError(target.id, 'watchInstances', error);
    });
  }

  /** Heals the reported stages one after another; a stage reported again meanwhile is healed again. */
  async #drain(signal: AbortSignal): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (const [key, ref] of this.#reported) {
        this.#reported.delete(key);
        if (signal.aborted || !this.#options.active()) continue;
        const instances = (await this.#running({ ...ref, signal }))?.get(key);
        if (instances) await this.#healStage(instances, signal);
      }
    } finally {
      this.#draining = false;
    }
  }

  /**
   * Running instances with an endpoint, by stage: of one stage (from its target; undefined when it
   * did not answer), or of every stage on every target (a target that does not answer is reported).
   */
  async #running(params: {
    project?: string;
    stage?: string;
    signal: AbortSignal;
  }): Promise<Map<string, Instance[]> | undefined> {
    const { targets, onError } = this.#options;
    let listed: Instance[];
    if (params.project !== undefined && params.stage !== undefined) {
      const target = targets.of({ project: params.project, stage: params.stage });
      try {
        listed = await target.list(params);
      } catch (error) {
        onError(target.id, 'list', error);
        return undefined;
      }
    } else {
      listed = await listAllInstances(targets, {
        signal: params.signal,
        onError: (target, error) => onError(target.id, 'list', error),
      });
    }
    const running = new Map<string, Instance[]>();
    for (const instance of listed) {
      if (instance.state !== 'running' || !instance.endpoint) continue;
      const key = stageKey(instance);
      const instances = running.get(key);
      if (instances) instances.push(instance);
      else running.set(key, [instance]);
    }
    return running;
  }

  /** Re-points one idle stage's route at the instance that runs its release, when it points elsewhere. */
  async #healStage(instances: readonly Instance[], signal: AbortSignal): Promise<void> {
    const { proxy, logger, hostOf, actualOf, busy, enter, exit, onError } = this.#options;
    // The instances of one stage: the first names it.
    const { project, stage } = instances[0]!;
    const key = stageKey({ project, stage });
    const host = hostOf({ project, stage });
    if (signal.aborted || !host || busy(key)) return;
    if (!(await enter(key).catch(() => false))) return;
    try {
      const actual = await actualOf({ project, stage });
      const serving = instances.find((i) => i.release.digest === actual?.digest)?.endpoint;
      if (!actual || !serving) return;
      const route = await proxy.getRoute({ host, signal });
      if (sameEndpoint(route?.upstream, serving)) return;
      await proxy.ensureRoute({ route: { host, upstream: { ...route?.upstream, ...serving } }, signal });
      const was = route ? `${route.upstream.host}:${route.upstream.port}` : 'nothing';
      logger.warn(`${host} pointed at ${was}; re-pointed to ${actual.tag}`, { project, stage });
    } catch (error) {
      onError(proxy.id, 'healRoute', error);
    } finally {
      await exit(key);
    }
  }
}
