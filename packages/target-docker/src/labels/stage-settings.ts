import { parseUpdateWindow, type UpdateWindow } from '@docker-watcher/core';
import { watchLabels } from './label-names.ts';

/** A label that cannot be used, and why (as `parse-labels.ts` reports it). */
interface Problem {
  readonly label: string;
  readonly message: string;
}

type Labels = Readonly<Record<string, string>>;

/** The longest stop timeout a label may ask for: an hour. */
const maxStopSeconds = 3_600;

/** Channel names as the server's `notify` config spells them. */
const channelPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;

const quoted = (value: string) => JSON.stringify(value.slice(0, 40));

/**
 * `docker-watcher.stop-timeout`: whole seconds from 0 to 3600, or a problem. Also read by the
 * in-place target when it stops the old container, so the label counts at the moment of the update.
 */
export function stopTimeoutOf(labels: Labels, problems?: Problem[]): number | undefined {
  const text = labels[watchLabels.stopTimeout];
  if (text === undefined) return undefined;
  const seconds = /^\s*\d{1,5}\s*$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isInteger(seconds) && seconds <= maxStopSeconds) return seconds;
  problems?.push({
    label: watchLabels.stopTimeout,
    message: `expected whole seconds from 0 to ${maxStopSeconds}, not ${quoted(text)}`,
  });
  return undefined;
}

/** How `docker-watcher.update` asks a container to be replaced (see `adopt/replacement.ts`). */
export type UpdateMode = 'in-place' | 'side-by-side';

/** `docker-watcher.update`: `in-place` or `side-by-side`, or a problem. Read again by the target at each update. */
export function updateModeOf(labels: Labels, problems?: Problem[]): UpdateMode | undefined {
  const text = labels[watchLabels.update];
  if (text === undefined) return undefined;
  const mode = text.trim().toLowerCase();
  if (mode === 'in-place' || mode === 'side-by-side') return mode;
  problems?.push({
    label: watchLabels.update,
    message: `expected in-place or side-by-side, not ${quoted(text)}`,
  });
  return undefined;
}

function updateWindowOf(labels: Labels, problems: Problem[]): UpdateWindow | undefined {
  const text = labels[watchLabels.schedule];
  if (text === undefined) return undefined;
  const parsed = parseUpdateWindow(text);
  if ('window' in parsed) return parsed.window;
  problems.push({ label: watchLabels.schedule, message: `${parsed.problem}, not ${quoted(text)}` });
  return undefined;
}

function notifyOf(labels: Labels, problems: Problem[]): readonly string[] {
  const text = labels[watchLabels.notify];
  if (text === undefined) return [];
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const bad = names.filter((name) => !channelPattern.test(name));
  if (names.length === 0 || bad.length > 0)
    problems.push({
      label: watchLabels.notify,
      message: `expected channel names (lower-case letters, digits, - and _) separated by commas, not ${quoted(text)}`,
    });
  return bad.length > 0 ? [] : [...new Set(names)];
}

/** What the labels say of a stage beyond its policy and health check: stop timeout, update window, channels. */
export interface LabelledStageSettings {
  /** Seconds the old container gets to stop; its own stop timeout (or the target's default) when absent. */
  readonly stopTimeoutSeconds?: number;
  /** New releases are deployed on their own only within these hours. */
  readonly updateWindow?: UpdateWindow;
  /** Names of notification channels told about this stage's deploys (the server checks they exist). */
  readonly notify: readonly string[];
}

export function stageSettingsOf(labels: Labels, problems: Problem[]): LabelledStageSettings {
  const stopTimeoutSeconds = stopTimeoutOf(labels, problems);
  // Only checked here: the target reads it from the container at each update (`replacementOf`).
  updateModeOf(labels, problems);
  const updateWindow = updateWindowOf(labels, problems);
  return {
    ...(stopTimeoutSeconds === undefined ? {} : { stopTimeoutSeconds }),
    ...(updateWindow === undefined ? {} : { updateWindow }),
    notify: notifyOf(labels, problems),
  };
}
