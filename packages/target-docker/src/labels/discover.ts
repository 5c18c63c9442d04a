import { setTimeout as sleep } from 'node:timers/promises';
import { type Logger, silentLogger, stageKey } from '@docker-watcher/core';
import type Docker from 'dockerode';
import { followContainerEvents } from '../_events.ts';
import { candidateContainers } from './container-facts.ts';
import {
  type LabelledStage,
  type LabelModeOptions,
  type LabelProblem,
  parseContainerLabels,
} from './parse-labels.ts';

/** A container that asked to be watched but cannot be, and why. */
export interface InvalidLabelledContainer {
  readonly container: { readonly id: string; readonly name: string };
  readonly problems: readonly LabelProblem[];
}

/** What label mode sees on an engine at one moment. */
export interface LabelDiscovery {
  readonly stages: readonly LabelledStage[];
  readonly invalid: readonly InvalidLabelledContainer[];
}

/** The engine's labelled containers as stages; two containers claiming one project-stage are both invalid. */
export async function discoverLabelledContainers(params: {
  readonly docker: Docker;
  readonly options?: LabelModeOptions;
  readonly signal?: AbortSignal;
}): Promise<LabelDiscovery> {
  const stages = new Map<string, LabelledStage[]>();
  const invalid: InvalidLabelledContainer[] = [];
  const candidates = await candidateContainers(params.docker, params.options ?? {}, params.signal);
  const holders = new Set(candidates.filter((c) => !c.standIn).map((c) => c.facts.name));
  const asides = new Set(candidates.filter((c) => c.standIn?.role === 'aside').map((c) => c.facts.name));
  for (const { facts, standIn, replacement } of candidates) {
    // A container set aside during an update stands for its stage only while no container holds
    // the name, and one tried beside it only while neither exists, so that an update in progress
    // does not make the stage disappear (or appear twice).
    if (standIn && holders.has(facts.name)) continue;
    if (standIn?.role === 'next' && asides.has(facts.name)) continue;
    const verdict = parseContainerLabels(facts, params.options);
    if (verdict.kind === 'invalid')
      invalid.push({ container: verdict.container, problems: verdict.problems });
    if (verdict.kind !== 'stage') continue;
    const key = stageKey(verdict.stage);
    stages.set(key, [...(stages.get(key) ?? []), { ...verdict.stage, replacement }]);
  }
  const unique: LabelledStage[] = [];
  for (const [key, claims] of stages) {
    if (claims.length === 1) {
      unique.push(claims[0]!);
      continue;
    }
    const names = claims.map((c) => c.container.name).join(', ');
    for (const claim of claims)
      invalid.push({
        container: claim.container,
        problems: [
          { label: 'docker-watcher.project', message: `${key} is claimed by several containers (${names})` },
        ],
      });
  }
  const byName = (a: { container: { name: string } }, b: { container: { name: string } }) =>
    a.container.name.localeCompare(b.container.name);
  return { stages: unique.sort(byName), invalid: invalid.sort(byName) };
}

/** What a change is measured by: container ids change with every update and do not count. */
export function discoveryFingerprint(discovery: LabelDiscovery): string {
  return JSON.stringify({
    stages: discovery.stages.map(({ container, ...stage }) => ({ ...stage, name: container.name })),
    invalid: discovery.invalid.map(({ container, problems }) => ({ name: container.name, problems })),
  });
}

export interface LabelWatcher {
  /** The last discovery (after `ready`). */
  current(): LabelDiscovery;
  /** Resolves after the first discovery. */
  readonly ready: Promise<void>;
  /** Looks again now (also what the events stream and the resync timer do). */
  resync(): Promise<void>;
  close(): void;
}

export interface WatchLabelledContainersOptions extends LabelModeOptions {
  readonly docker: Docker;
  /** Called with each discovery that differs from the one before; calls never overlap. */
  readonly onChange: (discovery: LabelDiscovery) => void | Promise<void>;
  /** Looks again this often whatever the events say (missed events, a reconnect). Default 60 s. */
  readonly resyncMs?: number;
  /** Quiet time after a container event before looking. Default 500 ms. */
  readonly debounceMs?: number;
  /** How long the first look waits for the events stream to open. Default 5 s. */
  readonly followWaitMs?: number;
  readonly logger?: Logger;
}

/**
 * Follows the engine's container events plus a periodic resync, and reports each change of the
 * labelled stages. A broken events stream is opened again with backoff, and looked past at once.
 */
export function watchLabelledContainers(options: WatchLabelledContainersOptions): LabelWatcher {
  const { docker } = options;
  const logger = options.logger ?? silentLogger;
  const lifetime = new AbortController();
  let last: LabelDiscovery = { stages: [], invalid: [] };
  let lastPrint: string | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let debounce: NodeJS.Timeout | undefined;

  const look = async () => {
    const found = await discoverLabelledContainers({
      docker,
      options: {
        watchAll: options.watchAll ?? false,
        ...(options.scope === undefined ? {} : { scope: options.scope }),
      },
      signal: lifetime.signal,
    });
    const print = discoveryFingerprint(found);
    last = found;
    if (print === lastPrint) return;
    lastPrint = print;
    for (const bad of found.invalid)
      logger.warn(`container ${bad.container.name} is labelled for docker-watcher but left alone`, {
        problems: bad.problems.map((p) => `${p.label}: ${p.message}`),
      });
    await options.onChange(found);
  };
  const resync = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = look()
      .catch((error: unknown) => {
        if (!lifetime.signal.aborted)
          logger.warn('could not list containers for label mode', { error: String(error) });
      })
      .finally(() => {
        running = undefined;
        if (again && !lifetime.signal.aborted) {
          again = false;
          void resync();
        }
      });
    return running;
  };
  const lookSoon = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void resync(), options.debounceMs ?? 500);
  };
  // The one follower of the engine's events (it reconnects after a break, and a gap means
  // missed events: look again). The first look waits for the stream, so that nothing between
  // the listing and the stream's start is missed, but not for an engine that does not answer.
  const following = followContainerEvents({
    docker,
    actions: ['create', 'destroy', 'start', 'die', 'rename', 'update'],
    labels: [],
    signal: lifetime.signal,
    logger,
    onEvent: lookSoon,
    onGap: lookSoon,
  }).then(
    () => true,
    () => false,
  );
  const timer = setInterval(() => void resync(), options.resyncMs ?? 60_000);
  timer.unref();
  const ready = Promise.race([following, sleep(options.followWaitMs ?? 5_000, false, { ref: false })]).then(
    async (open) => {
      // Opened late: look once more, for what happened before it.
      if (!open)
        void following.then(async (late) => {
          if (late && !lifetime.signal.aborted) await resync();
        });
      await resync();
    },
  );
  return {
    current: () => last,
    ready,
    resync,
    close() {
      lifetime.abort();
      clearInterval(timer);
      clearTimeout(debounce);
    },
  };
}
