import { CoreError, type EngineProject, type Registry, type StageState } from '@docker-watcher/core';

export interface StageTags {
  readonly project: string;
  readonly stage: string;
  readonly repository: string;
  /** Every tag the registry lists. */
  readonly tags: readonly string[];
  /** The tags the stage's policy allows, in the registry's order. */
  readonly allowed: readonly string[];
  /** What the policy selects now (the pin when pinned), and why. */
  readonly selected?: string;
  readonly reason: string;
}

/** What a stage's policy makes of its repository's tags right now. */
export async function stageTags(params: {
  readonly projects: readonly EngineProject[];
  readonly registries: Readonly<Record<string, Registry>>;
  readonly project: string;
  readonly stage: string;
  readonly state?: StageState;
  readonly signal?: AbortSignal;
}): Promise<StageTags> {
  const project = params.projects.find((p) => p.id === params.project);
  if (!project) throw new CoreError('NOT_FOUND', `No project ${params.project}`);
  const stage = Object.hasOwn(project.stages, params.stage) ? project.stages[params.stage] : undefined;
  if (!stage) throw new CoreError('NOT_FOUND', `No stage ${params.stage} in project ${params.project}`);
  const registry = params.registries[project.registry]!;
  const tags = await registry.listTags({
    repository: project.repository,
    ...(params.signal ? { signal: params.signal } : {}),
  });
  const allowed = tags.filter((tag) => stage.policy.allows(tag));
  const pin = params.state ? params.state.pin : stage.pin;
  const base = { project: project.id, stage: params.stage, repository: project.repository, tags, allowed };
  if (pin) {
    return tags.includes(pin)
      ? { ...base, selected: pin, reason: `pinned to ${pin}` }
      : { ...base, reason: `pinned to ${pin}, which the registry does not list` };
  }
  const current = params.state?.actual?.tag;
  const candidate = stage.policy.select({ tags, ...(current ? { current } : {}) });
  return candidate
    ? { ...base, selected: candidate.tag, reason: `newest tag the ${stage.policy.kind} policy allows` }
    : { ...base, reason: 'no tag fits the policy' };
}
