import type { EventBus, Logger, StageRef, StateStore } from '@docker-watcher/core';
import { stageKey } from '@docker-watcher/core';
import {
  type AdoptedTargetOptions,
  adoptedDeployId,
  createAdoptedContainerTarget,
  type InvalidLabelledContainer,
  type LabelDiscovery,
  type LabelledStage,
  type LabelWatcher,
  seedLabelledStage,
  watchLabelledContainers,
} from '@docker-watcher/target-docker';
import type { LabelledContainersView } from '../api/labels.ts';
import type { ComposeOptions } from '../compose.ts';
import type { ResolvedConfig } from '../config/load.ts';
import { withLabelledStages } from './labelled-config.ts';
import { labelledContainersView } from './labels-view.ts';

/** Label mode in a running server: the watcher, the in-place target, and what they add to each composition. */
export interface ServerLabelMode {
  /** The config to compose (the file's plus the labelled stages) and the compose option that routes them. */
  compose(config: ResolvedConfig): {
    readonly config: ResolvedConfig;
    readonly option: Pick<ComposeOptions, 'labelled'>;
    /** Before the engine starts: what each labelled container runs is its stage's actual release. */
    readonly seed: (store: StateStore) => Promise<void>;
    /** Once the engine runs: tells the notifiers of containers left alone for problems not told yet. */
    readonly announce: (bus: EventBus) => void;
  };
  /** The containers found now, as `GET /api/labels` shows them. */
  view(): LabelledContainersView;
  close(): Promise<void>;
}

/**
 * Starts watching the engine of the config's Docker target; `onChange` is called with each change
 * of the labelled stages (after the first discovery, which this awaits).
 */
export async function startLabelMode(params: {
  readonly config: ResolvedConfig;
  readonly logger: Logger;
  readonly onChange: () => void;
}): Promise<ServerLabelMode | undefined> {
  const settings = params.config.labelMode;
  if (!settings) return undefined;
  const logger = params.logger.child({ component: 'label-mode' });
  const adopted = createAdoptedContainerTarget(
    {
      docker: params.config.target.options as AdoptedTargetOptions['docker'],
      watchAll: settings.watchAll,
      ...(settings.scope === undefined ? {} : { scope: settings.scope }),
      keepPreviousImage: settings.keepPreviousImage,
    },
    { logger },
  );
  let discovery: LabelDiscovery = { stages: [], invalid: [] };
  let ready = false;
  /** Stages the last composition left alone (see `withLabelledStages`). */
  let refused: readonly InvalidLabelledContainer[] = [];
  /** The problems last told per container: a resync or reload with the same ones says nothing again. */
  const told = new Map<string, string>();
  const announce = (leftAlone: readonly InvalidLabelledContainer[]) => (bus: EventBus) => {
    const now = new Map(leftAlone.map((bad) => [bad.container.name, bad.problems] as const));
    for (const name of told.keys()) if (!now.has(name)) told.delete(name);
    for (const [container, problems] of now) {
      const print = JSON.stringify(problems);
      if (told.get(container) === print) continue;
      told.set(container, print);
      bus.emit({ type: 'labels:invalid', at: new Date().toISOString(), container, problems });
    }
  };
  const watcher: LabelWatcher = watchLabelledContainers({
    docker: adopted.docker,
    watchAll: settings.watchAll,
    ...(settings.scope === undefined ? {} : { scope: settings.scope }),
    resyncMs: settings.resyncMs,
    logger,
    onChange: (found) => {
      discovery = found;
      logger.info('labelled containers changed', {
        stages: found.stages.map((s) => stageKey(s)),
        invalid: found.invalid.map((i) => i.container.name),
      });
      if (ready) params.onChange();
    },
  });
  await watcher.ready;
  ready = true;
  const seed = (stages: readonly LabelledStage[]) => async (store: StateStore) => {
    for (const stage of stages) {
      const instances = await adopted.list({ project: stage.project, stage: stage.stage });
      const running = instances.find((instance) => instance.deployId === adoptedDeployId);
      if (running) await seedLabelledStage(store, stage, running.release);
    }
  };
  return {
    compose(config) {
      const merged = withLabelledStages(config, discovery, logger);
      refused = merged.refused;
      const projects = new Set(merged.stages.map((stage) => stage.project));
      const containers = new Map(merged.stages.map((stage) => [stageKey(stage), stage.container.name]));
      const containerOf = (ref: StageRef) => containers.get(stageKey(ref));
      return {
        config: merged.config,
        option: { labelled: { target: adopted, projects, containerOf } },
        seed: seed(merged.stages),
        announce: announce([...discovery.invalid, ...merged.refused]),
      };
    },
    view: () => labelledContainersView(discovery, refused),
    async close() {
      watcher.close();
      await adopted.dispose();
    },
  };
}
