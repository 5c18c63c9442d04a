import * as v from 'valibot';
import { type AdapterContext, adapterId, instantiate, onceDisposer } from '../contracts/adapter.ts';
import {
  type DeployTarget,
  defineDeployTarget,
  type HealthReport,
  type Instance,
  type InstanceChange,
  type InstanceSpec,
} from '../contracts/deploy-target.ts';
import { imageReference, stageKey } from '../contracts/release.ts';
import { CoreError } from '../errors.ts';
import { FaultInjector, type Faults } from './faults.ts';

export const memoryDeployTargetOptions = v.strictObject({
  host: v.optional(
    v.pipe(v.string(), v.minLength(1), v.description('Host of every instance endpoint.')),
    '127.0.0.1',
  ),
  basePort: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.maxValue(65_000),
      v.description('Port of the first instance; each next one gets the next port.'),
    ),
    30_000,
  ),
  blueGreen: v.optional(
    v.pipe(
      v.boolean(),
      v.description(
        "Whether two instances of one stage run side by side; without it `start` replaces the stage's instances.",
      ),
    ),
    true,
  ),
  replacement: v.optional(
    v.pipe(
      v.picklist(['side-by-side', 'in-place']),
      v.description(
        "`in-place`: `start` replaces the stage's release (no blue-green) and `revert` of the current instance brings back the release before it, the way a Nomad job reverts.",
      ),
    ),
    'side-by-side',
  ),
  promotion: v.optional(
    v.pipe(
      v.boolean(),
      v.description(
        'A canary target that asks for a confirmation: `start` returns candidates `awaitingPromotion`, and `promote` rolls them out.',
      ),
    ),
    false,
  ),
  startingProbes: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(0),
      v.description('Health probes of a new instance that answer `starting` first.'),
    ),
    0,
  ),
});

export type MemoryDeployTargetOptions = v.InferInput<typeof memoryDeployTargetOptions>;

export type MemoryDeployTargetOperation =
  | 'pull'
  | 'start'
  | 'checkHealth'
  | 'retire'
  | 'revert'
  | 'promote'
  | 'list'
  | 'logs'
  | 'watchInstances';

/**
 * How instances of a release behave: `healthy` passes probes; `unhealthy` keeps running but fails
 * them; `crashing` starts, then exits at once.
 */
export type MemoryReleaseBehaviour = 'healthy' | 'unhealthy' | 'crashing';

export interface MemoryDeployTarget extends DeployTarget {
  readonly faults: Faults<MemoryDeployTargetOperation>;
  /** Instances the target holds now (running or exited), oldest first. */
  readonly instances: readonly Instance[];
  /** Image references (`image@digest`) pulled so far, in order. */
  readonly pulled: readonly string[];
  /** Ids of the instances `retire` and `revert` were called with, in order. */
  readonly retired: readonly string[];
  readonly reverted: readonly string[];
  /** Ids of the instances promoted, in order. */
  readonly promoted: readonly string[];
  /** How instances of the release with this digest behave from now on, running ones included. Healthy by default. */
  simulate(digest: string, behaviour: MemoryReleaseBehaviour): void;
  /** Makes one instance exit, as if it crashed after starting well; watchers hear of it. */
  crash(instanceId: string): void;
  /**
   * Starts one instance again, as a backend's restart policy does; watchers hear of it. It keeps
   * its endpoint, unless `moveEndpoint` gives it a new port (as a container that comes back on a
   * new address does).
   */
  restart(instanceId: string, options?: { readonly moveEndpoint?: boolean }): void;
  watchInstances(params: Parameters<NonNullable<DeployTarget['watchInstances']>>[0]): Promise<void>;
  pull(params: Parameters<NonNullable<DeployTarget['pull']>>[0]): Promise<void>;
  logs(params: Parameters<NonNullable<DeployTarget['logs']>>[0]): Promise<string[]>;
}

interface Held {
  instance: Instance;
  probes: number;
  readonly lines: string[];
}

function buildMemoryDeployTarget(
  options: v.InferOutput<typeof memoryDeployTargetOptions>,
  context: AdapterContext,
): MemoryDeployTarget {
  const id = adapterId('target', 'memory', context.instance);
  const held = new Map<string, Held>();
  const behaviours = new Map<string, MemoryReleaseBehaviour>();
  const pulled: string[] = [];
  const retired: string[] = [];
  const reverted: string[] = [];
  const promoted: string[] = [];
  const inPlace = options.replacement === 'in-place';
  const blueGreen = options.blueGreen && !inPlace;
  /** In-place: per stage, the instances each start replaced, newest last (what `revert` brings back). */
  const replaced = new Map<string, Instance[]>();
  let started = 0;
  const watchers = new Set<(change: InstanceChange) => void>();
  const report = (instance: Instance) => {
    const change: InstanceChange = {
      id: instance.id,
      project: instance.project,
      stage: instance.stage,
      state: instance.state === 'running' ? 'running' : 'exited',
    };
    for (const watcher of watchers) watcher(change);
  };
  const lifecycle = onceDisposer(async () => {
    held.clear();
    watchers.clear();
  });
  const faults = new FaultInjector<MemoryDeployTargetOperation>(id, lifecycle.disposed);

  const behaviourOf = (instance: Instance): MemoryReleaseBehaviour =>
    behaviours.get(instance.release.digest) ?? 'healthy';

  const exit = (entry: Held, line: string): void => {
    if (entry.instance.state !== 'running') return;
    entry.instance = { ...entry.instance, state: 'exited' };
    entry.lines.push(line);
  };

  const snapshot = (entry: Held): Instance => structuredClone(entry.instance);

  const add = (
    spec: Pick<Instance, 'project' | 'stage' | 'deployId' | 'release'>,
    what: string,
    onLog?: (line: string) => void,
  ): Instance => {
    const n = started++;
    const instance: Instance = {
      id: `memory-${n + 1}`,
      project: spec.project,
      stage: spec.stage,
      deployId: spec.deployId,
      release: { tag: spec.release.tag, digest: spec.release.digest },
      state: 'running',
      endpoint: { host: options.host, port: options.basePort + n },
    };
    const lines = [`started ${what} as ${instance.id}`];
    onLog?.(lines[0] ?? '');
    const entry: Held = { instance, probes: 0, lines };
    held.set(instance.id, entry);
    const result = snapshot(entry);
    if (behaviourOf(instance) === 'crashing') exit(entry, 'exited with code 1');
    return result;
  };

  const launch = (spec: InstanceSpec, onLog: ((line: string) => void) | undefined): Instance => {
    for (const entry of held.values()) {
      if (entry.instance.deployId === spec.deployId) return snapshot(entry);
    }
    if (!blueGreen) {
      for (const [key, entry] of held) {
        if (entry.instance.project !== spec.project || entry.instance.stage !== spec.stage) continue;
        held.delete(key);
        if (inPlace) replaced.set(stageKey(spec), [...(replaced.get(stageKey(spec)) ?? []), entry.instance]);
      }
    }
    const made = add(spec, imageReference(spec.image, spec.release), onLog);
    const entry = held.get(made.id);
    // A new candidate waits for its promotion; a release a revert brought back does not.
    if (!options.promotion || !entry) return made;
    entry.instance = { ...entry.instance, awaitingPromotion: true };
    return { ...made, awaitingPromotion: true };
  };

  const probe = (instance: Instance, path: string | undefined): HealthReport => {
    const entry = held.get(instance.id);
    if (!entry) return { status: 'exited', detail: `instance ${instance.id} is gone` };
    const behaviour = behaviourOf(entry.instance);
    if (behaviour === 'crashing') exit(entry, 'exited with code 1');
    if (entry.instance.state !== 'running') return { status: 'exited', detail: 'exited with code 1' };
    entry.probes += 1;
    if (entry.probes <= options.startingProbes) return { status: 'starting' };
    if (behaviour === 'unhealthy') {
      return path
        ? { status: 'unhealthy', detail: `GET ${path} -> 503`, httpStatus: 503 }
        : { status: 'unhealthy', detail: 'health check failed' };
    }
    return path
      ? { status: 'healthy', detail: `GET ${path} -> 200`, httpStatus: 200 }
      : { status: 'healthy' };
  };

  return {
    id,
    capabilities: { blueGreen, canary: options.promotion, replacement: options.replacement },
    faults,
    get instances() {
      return [...held.values()].map(snapshot);
    },
    get pulled() {
      return [...pulled];
    },
    get retired() {
      return [...retired];
    },
    get reverted() {
      return [...reverted];
    },
    get promoted() {
      return [...promoted];
    },
    simulate(digest, behaviour) {
      behaviours.set(digest, behaviour);
    },
    crash(instanceId) {
      const entry = held.get(instanceId);
      if (!entry) return;
      exit(entry, 'killed');
      report(entry.instance);
    },
    restart(instanceId, { moveEndpoint = false } = {}) {
      const entry = held.get(instanceId);
      if (!entry) return;
      const endpoint =
        moveEndpoint || !entry.instance.endpoint
          ? { host: options.host, port: options.basePort + started++ }
          : entry.instance.endpoint;
      entry.instance = { ...entry.instance, state: 'running', endpoint };
      entry.lines.push('restarted');
      report(entry.instance);
    },

    watchInstances: ({ signal, onChange }) =>
      faults.run('watchInstances', signal, () => {
        const watcher = (change: InstanceChange) => onChange(structuredClone(change));
        watchers.add(watcher);
        signal.addEventListener('abort', () => watchers.delete(watcher), { once: true });
      }),

    pull: ({ spec, onLog, signal }) =>
      faults.run('pull', signal, () => {
        const reference = imageReference(spec.image, spec.release);
        pulled.push(reference);
        onLog?.(`pulled ${reference}`);
      }),

    start: ({ spec, onLog, signal }) => faults.run('start', signal, () => launch(spec, onLog)),

    checkHealth: ({ instance, health, signal }) =>
      faults.run('checkHealth', signal, () => probe(instance, health.path)),

    retire: ({ instance, signal }) =>
      faults.run('retire', signal, () => {
        retired.push(instance.id);
        held.delete(instance.id);
      }),

    revert: ({ instance, signal }) =>
      faults.run('revert', signal, () => {
        reverted.push(instance.id);
        if (!held.delete(instance.id) || !inPlace) return;
        // The target's own rollback: the release the candidate replaced runs again.
        const before = replaced.get(stageKey(instance))?.pop();
        if (before) add(before, `${before.release.tag} again (reverted)`);
      }),

    ...(options.promotion
      ? {
          promote: ({ instance, signal }: { instance: Instance; signal?: AbortSignal }) =>
            faults.run('promote', signal, () => {
              const entry = held.get(instance.id);
              if (entry?.instance.state !== 'running') {
                throw new CoreError(
                  'CONFLICT',
                  `Instance ${instance.id} is not running: nothing to promote`,
                  {
                    details: { target: id, instance: instance.id },
                  },
                );
              }
              const { awaitingPromotion: _promoted, ...rest } = entry.instance;
              if (entry.instance.awaitingPromotion) promoted.push(instance.id);
              entry.instance = rest;
              entry.lines.push('promoted');
              return snapshot(entry);
            }),
        }
      : {}),

    list: ({ project, stage, signal }) =>
      faults.run('list', signal, () =>
        [...held.values()]
          .filter(
            (entry) =>
              (project === undefined || entry.instance.project === project) &&
              (stage === undefined || entry.instance.stage === stage),
          )
          .map(snapshot),
      ),

    logs: ({ instance, tail, signal }) =>
      faults.run('logs', signal, () => {
        const entry = held.get(instance.id);
        if (!entry) {
          throw new CoreError('NOT_FOUND', `Instance ${instance.id} does not exist`, {
            details: { target: id, instance: instance.id },
          });
        }
        return tail > 0 ? entry.lines.slice(-tail) : [];
      }),

    dispose: lifecycle.dispose,
  };
}

export const memoryDeployTarget = defineDeployTarget({
  name: 'memory',
  options: memoryDeployTargetOptions,
  secrets: [],
  create: buildMemoryDeployTarget,
});

/**
 * A simulated target for SDK scripts and engine tests: instances with endpoints and health, releases
 * made unhealthy or crashing with `simulate`, and injected faults.
 */
export function createMemoryDeployTarget(
  options: MemoryDeployTargetOptions = {},
  context: AdapterContext = {},
): MemoryDeployTarget {
  return instantiate(memoryDeployTarget, options, context);
}
