import {
  compileTagPolicy,
  defaultHealthCheck,
  type EngineProject,
  type EngineStage,
  type HealthCheckSettings,
  type Release,
  type StateStore,
} from '@docker-watcher/core';
import type { LabelledStage } from './parse-labels.ts';

/** The tag a stage watches by digest, when its policy is a pin (the default). */
export function pinnedTagOf(stage: LabelledStage): string | undefined {
  return 'pin' in stage.policy ? stage.policy.pin : undefined;
}

/**
 * Labelled stages as the engine's projects: one project per `project`, its repository on the
 * registry `registryOf` names. Deploys use the runner's blue-green order, which the in-place
 * target (`createAdoptedContainerTarget`) turns into set aside, replace, then retire or restore.
 */
export function labelledProjects(
  stages: readonly LabelledStage[],
  registryOf: (stage: LabelledStage) => string,
  health: Partial<HealthCheckSettings> = {},
): EngineProject[] {
  const projects = new Map<
    string,
    { registry: string; repository: string; stages: Record<string, EngineStage> }
  >();
  for (const stage of stages) {
    const pin = pinnedTagOf(stage);
    const engineStage: EngineStage = {
      policy: compileTagPolicy(stage.policy),
      autoDeploy: stage.autoDeploy,
      ...(pin === undefined ? {} : { pin }),
      ...(stage.updateWindow ? { updateWindow: stage.updateWindow } : {}),
      deploy: {
        image: stage.image.repository,
        strategy: 'blue-green',
        health: {
          ...defaultHealthCheck,
          ...health,
          ...(stage.health.path ? { path: stage.health.path } : {}),
        },
      },
    };
    const project = projects.get(stage.project) ?? {
      registry: registryOf(stage),
      repository: stage.image.path,
      stages: Object.create(null) as Record<string, EngineStage>,
    };
    project.stages[stage.stage] = engineStage;
    projects.set(stage.project, project);
  }
  return [...projects].map(([id, project]) => ({ id, ...project, stages: { ...project.stages } }));
}

/**
 * What runs in a labelled container is the stage's actual release until a deploy says otherwise:
 * without it, the engine would "deploy" the running release once more. The pin is stored too, as
 * the stage's first state would have it.
 */
export async function seedLabelledStage(
  store: StateStore,
  stage: LabelledStage,
  running: Release,
  signal?: AbortSignal,
): Promise<void> {
  const ref = { project: stage.project, stage: stage.stage };
  const state = await store.getStage({ ...ref, ...(signal ? { signal } : {}) });
  if (state?.actual || running.digest === '') return;
  const pin = state ? state.pin : pinnedTagOf(stage);
  await store.putStage({
    state: {
      ...ref,
      autoDeploy: state?.autoDeploy ?? stage.autoDeploy,
      ...(pin === undefined ? {} : { pin }),
      actual: running,
      history: [running, ...(state?.history ?? [])],
    },
    expectedRevision: state?.revision ?? 0,
    ...(signal ? { signal } : {}),
  });
}
