import type { LabelDiscovery } from '@docker-watcher/target-docker';
import type { LabelledContainersView } from '../api/labels.ts';

/**
 * What `GET /api/labels` shows of a discovery: every container label mode found, as the stage it
 * became or with the problems for which it is left alone. A container whose project the config
 * file has already is left alone too (`withLabelledStages`), and says so.
 */
export function labelledContainersView(
  discovery: LabelDiscovery,
  fileProjects: ReadonlySet<string>,
): LabelledContainersView {
  const containers: LabelledContainersView['containers'][number][] = [];
  for (const stage of discovery.stages) {
    const taken = fileProjects.has(stage.project);
    containers.push({
      name: stage.container.name,
      id: stage.container.id,
      watched: !taken,
      project: stage.project,
      stage: stage.stage,
      source: stage.source,
      problems: taken
        ? [{ label: 'docker-watcher.project', message: `the config file has a project ${stage.project}` }]
        : [],
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
