import type { LabelledContainersView } from '../api/labels.ts';

type Container = LabelledContainersView['containers'][number];

/** Control characters (a terminal escape in a label value) shown as `\uXXXX`, never sent to the terminal. */
export function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The containers label mode leaves alone, and why. */
export function leftAlone(view: LabelledContainersView): Container[] {
  return view.containers.filter((container) => !container.watched);
}

/** For `plan`: one line per problem of each container left alone; empty when there is none. */
export function leftAloneText(containers: readonly Container[]): string {
  if (containers.length === 0) return '';
  const lines = ['left alone (labels):'];
  for (const container of containers)
    for (const problem of container.problems)
      lines.push(
        `  ${printable(container.name)}: ${printable(problem.label)}: ${printable(problem.message)}`,
      );
  return lines.join('\n');
}

/** For `plan`: how an update replaces each watched container, and why in place; empty when none is watched. */
export function updatesText(view: LabelledContainersView): string {
  const lines: string[] = [];
  for (const { name, watched, update } of view.containers) {
    if (!watched || !update) continue;
    const how = update.mode === 'in-place' ? `in place (${printable(update.reason ?? '')})` : 'side by side';
    lines.push(`  ${printable(name)}: ${how}`);
  }
  return lines.length === 0 ? '' : ['updates of labelled containers:', ...lines].join('\n');
}
