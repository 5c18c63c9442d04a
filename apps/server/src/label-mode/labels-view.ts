import type { InvalidLabelledContainer, LabelDiscovery } from '@docker-watcher/target-docker';
import type { LabelledContainersView } from '../api/labels.ts';

/**
 * What `GET /api/labels` shows of a discovery: every container label mode found, as the stage it
 * became or with the problems for which it is left alone. A stage the server refused
 * (`withLabelledStages`: its project is the config file's, a channel it names is not configured)
 * is left alone too, and says why.
 */
export function labelledContainersView(
  discovery: LabelDiscovery,
  refused: readonly InvalidLabelledContainer[],
): LabelledContainersView {
  const refusals = new Map(refused.map((r) => [r.container.id, r.problems]));
  const containers: LabelledContainersView['containers'][number][] = [];
  for (const stage of discovery.stages) {
    const problems = refusals.get(stage.container.id) ?? [];
    containers.push({
      name: stage.container.name,
      id: stage.container.id,
      watched: problems.length === 0,
      project: stage.project,
      stage: stage.stage,
      source: stage.source,
      ...(stage.replacement ? { update: stage.replacement } : {}),
      problems,
    });
  }
  for (const bad of discovery.invalid)
    containers.push({
      name: bad.container.name,
      id: bad.container.id,
      watched: false,
      problems: bad.problems,
    });
  containers.sort((a, b) => a.name.localeCompare(b.name));
  return { enabled: true, containers };
}
