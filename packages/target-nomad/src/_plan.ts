import { placementFailures } from './_deployment.ts';
import { clip } from './_errors.ts';
import { isFieldDiff, type NomadObjectDiff, type NomadPlanResponse } from './_nomad-types.ts';

/** Changes shown per plan; a job rewritten from scratch would flood the deploy log. */
const maxChanges = 40;

// Values of environment variables and of fields named like secrets are not shown, only that they changed.
const secretName = /token|secret|password|passwd|private|credential/i;

const show = (value: string | null | undefined) => JSON.stringify(clip(value ?? '', 200));

function fieldLines(path: string, fields: readonly unknown[] | null | undefined, masked: boolean): string[] {
  const lines: string[] = [];
  for (const field of fields ?? []) {
    // Doc samples shorten lists to "..." strings; anything that is not a field diff is skipped.
    if (!isFieldDiff(field) || !field.Name || field.Type === 'None') continue;
    const name = `${path}.${field.Name}`;
    if (masked || secretName.test(field.Name))
      lines.push(`${name}: ${(field.Type ?? 'edited').toLowerCase()}`);
    else if (field.Type === 'Added') lines.push(`${name}: + ${show(field.New)}`);
    else if (field.Type === 'Deleted') lines.push(`${name}: - ${show(field.Old)}`);
    else lines.push(`${name}: ${show(field.Old)} → ${show(field.New)}`);
  }
  return lines;
}

const isObjectDiff = (value: unknown): value is NomadObjectDiff =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function objectLines(
  path: string,
  objects: readonly unknown[] | null | undefined,
  masked: boolean,
): string[] {
  const lines: string[] = [];
  for (const object of objects ?? []) {
    if (!isObjectDiff(object) || object.Type === 'None') continue;
    const name = `${path}.${object.Name ?? '?'}`;
    const hide = masked || object.Name === 'Env' || secretName.test(object.Name ?? '');
    const inner = [...fieldLines(name, object.Fields, hide), ...objectLines(name, object.Objects, hide)];
    lines.push(...(inner.length > 0 ? inner : [`${name}: ${(object.Type ?? 'edited').toLowerCase()}`]));
  }
  return lines;
}

function changeLines(plan: NomadPlanResponse): string[] {
  const diff = plan.Diff;
  if (!diff) return [];
  const lines = [...fieldLines('job', diff.Fields, false), ...objectLines('job', diff.Objects, false)];
  for (const group of diff.TaskGroups ?? []) {
    if (group.Type === 'None') continue;
    const groupPath = `group ${group.Name ?? '?'}`;
    lines.push(
      ...fieldLines(groupPath, group.Fields, false),
      ...objectLines(groupPath, group.Objects, false),
    );
    for (const task of group.Tasks ?? []) {
      if (!isObjectDiff(task) || task.Type === 'None') continue;
      const taskPath = `${groupPath} task ${task.Name ?? '?'}`;
      const inner = [
        ...fieldLines(taskPath, task.Fields, false),
        ...objectLines(taskPath, task.Objects, false),
      ];
      const annotations = (task as { Annotations?: unknown }).Annotations;
      const notes = Array.isArray(annotations) ? annotations.filter((note) => typeof note === 'string') : [];
      lines.push(...inner);
      if (notes.length > 0) lines.push(`${taskPath}: ${notes.join(', ')}`);
    }
  }
  return lines;
}

function updateLines(plan: NomadPlanResponse): string[] {
  const updates = plan.Annotations?.DesiredTGUpdates ?? {};
  const words: Record<string, string> = {
    Place: 'place',
    Stop: 'stop',
    Migrate: 'migrate',
    InPlaceUpdate: 'in-place update',
    DestructiveUpdate: 'destructive update',
    Canary: 'canary',
    Ignore: 'ignore',
    Preemptions: 'preemption',
    Reconnect: 'reconnect',
  };
  return Object.entries(updates)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([group, counts]) => {
      const parts = Object.entries(counts)
        .filter(([key, value]) => value > 0 && key !== 'Ignore')
        .map(([key, value]) => `${value} ${words[key] ?? key}`);
      return `group ${group}: ${parts.length > 0 ? parts.join(', ') : 'nothing to do'}`;
    });
}

/** The plan as deploy-log lines: what changes in the job, what the scheduler will do, and its warnings. */
export function planLines(plan: NomadPlanResponse): string[] {
  const changes = changeLines(plan);
  const lines =
    !plan.Diff || plan.Diff.Type === 'None' || changes.length === 0
      ? ['plan: the job does not change']
      : changes.slice(0, maxChanges).map((line) => `plan: ${line}`);
  if (changes.length > maxChanges) lines.push(`plan: … and ${changes.length - maxChanges} more changes`);
  lines.push(...updateLines(plan).map((line) => `plan: ${line}`));
  lines.push(...placementFailures(plan.FailedTGAllocs ?? {}).map((line) => `plan: warning: ${line}`));
  if (plan.Warnings) lines.push(`plan: warning: ${clip(plan.Warnings)}`);
  return lines;
}
