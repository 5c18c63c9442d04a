import { type TagPolicyOptions, tagPolicyOptions } from '@docker-watcher/core';
import * as v from 'valibot';
import { parseStandInName } from '../adopt/aside-name.ts';
import type { Replacement } from '../adopt/replacement.ts';
import { type ImageName, parseImageName } from './image-name.ts';
import { foreignLabels, managedLabel, watchLabels } from './label-names.ts';
import { type LabelledStageSettings, stageSettingsOf } from './stage-settings.ts';

/** What label mode needs to know of a container: from `docker inspect` or the container list. */
export interface ContainerFacts {
  readonly id: string;
  /** Without Docker's leading `/`. */
  readonly name: string;
  /** `Config.Image`: the reference the container was created from, e.g. `nginx:1.25`. */
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface LabelModeOptions {
  /** Watch every container unless it is labelled `docker-watcher.enable=false`. Default false. */
  readonly watchAll?: boolean;
  /**
   * Watch only containers labelled `docker-watcher.scope=<scope>`, so that several servers (or test
   * runs) on one engine each keep to their own containers. Default: every container.
   */
  readonly scope?: string;
}

/** Which labels opted the container in. */
export type LabelSource = 'docker-watcher' | 'watchtower' | 'wud' | 'watch-all';

/** A container that label mode watches, as the project-stage it becomes. */
export interface LabelledStage extends LabelledStageSettings {
  readonly project: string;
  readonly stage: string;
  readonly container: { readonly id: string; readonly name: string };
  readonly image: ImageName;
  readonly policy: TagPolicyOptions;
  readonly autoDeploy: boolean;
  /** An HTTP probe for images without a `HEALTHCHECK`. */
  readonly health: { readonly path?: string; readonly port?: number };
  readonly source: LabelSource;
  /** How an update replaces the container: known once discovery inspected it (`replacementOf`). */
  readonly replacement?: Replacement;
}

/** One label that cannot be used, and why. */
export interface LabelProblem {
  readonly label: string;
  readonly message: string;
}

export type LabelVerdict =
  | { readonly kind: 'ignored'; readonly container: ContainerFacts }
  | { readonly kind: 'stage'; readonly stage: LabelledStage }
  | {
      readonly kind: 'invalid';
      readonly container: { readonly id: string; readonly name: string };
      readonly problems: readonly LabelProblem[];
    };

const namePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** `true`/`false` (any case); anything else is a problem. */
function flag(labels: ContainerFacts['labels'], label: string, problems: LabelProblem[]) {
  const value = labels[label];
  if (value === undefined) return undefined;
  const lower = value.trim().toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  problems.push({ label, message: `expected true or false, not ${JSON.stringify(value.slice(0, 40))}` });
  return undefined;
}

function optedIn(
  facts: ContainerFacts,
  options: LabelModeOptions,
  problems: LabelProblem[],
): LabelSource | undefined {
  const own = flag(facts.labels, watchLabels.enable, problems);
  if (own !== undefined) return own ? 'docker-watcher' : undefined;
  const watchtower = flag(facts.labels, foreignLabels.watchtowerEnable, problems);
  if (watchtower !== undefined) return watchtower ? 'watchtower' : undefined;
  const wud = flag(facts.labels, foreignLabels.wudWatch, problems);
  if (wud !== undefined) return wud ? 'wud' : undefined;
  return options.watchAll ? 'watch-all' : undefined;
}

/** The policy labels ask for, with the label each policy key came from (for problems). */
function policyOf(
  labels: ContainerFacts['labels'],
  image: ImageName | undefined,
  problems: LabelProblem[],
): { policy: Record<string, unknown>; origin: Record<string, string> } {
  const include = labels[watchLabels.tagInclude] ?? labels[foreignLabels.wudTagInclude];
  const exclude = labels[watchLabels.tagExclude] ?? labels[foreignLabels.wudTagExclude];
  const semver = labels[watchLabels.semver];
  const origin: Record<string, string> = {
    pin: 'the image reference (Config.Image)',
    include:
      labels[watchLabels.tagInclude] !== undefined ? watchLabels.tagInclude : foreignLabels.wudTagInclude,
    exclude:
      labels[watchLabels.tagExclude] !== undefined ? watchLabels.tagExclude : foreignLabels.wudTagExclude,
    semver: watchLabels.semver,
  };
  const wudDigest = flag(labels, foreignLabels.wudWatchDigest, problems);
  const policy: Record<string, unknown> = {};
  if (semver !== undefined) policy.semver = semver;
  // What's Up Docker follows newer semver tags unless told to watch the digest.
  else if (include !== undefined && labels[foreignLabels.wudTagInclude] === include && wudDigest !== true)
    policy.semver = '*';
  if (include !== undefined) policy.include = include;
  if (exclude !== undefined) policy.exclude = exclude;
  if (Object.keys(policy).length === 0 || (wudDigest === true && semver === undefined)) {
    // Watchtower's way: the running tag, redeployed when its digest changes.
    if (image?.tag === undefined) {
      problems.push({
        label: watchLabels.semver,
        message: 'the container runs an image by digest, so there is no tag to watch; name a policy by label',
      });
      return { policy: {}, origin };
    }
    return { policy: { pin: image.tag }, origin };
  }
  return { policy, origin };
}

function healthOf(labels: ContainerFacts['labels'], problems: LabelProblem[]) {
  const path = labels[watchLabels.healthPath];
  const portText = labels[watchLabels.healthPort];
  const port = portText === undefined ? undefined : Number(portText);
  if (path !== undefined && !/^\/[\x21-\x7e]*$/.test(path))
    problems.push({ label: watchLabels.healthPath, message: 'expected an HTTP path starting with /' });
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65_535))
    problems.push({ label: watchLabels.healthPort, message: 'expected a port number from 1 to 65535' });
  if (path !== undefined && port === undefined)
    problems.push({ label: watchLabels.healthPort, message: `needed with ${watchLabels.healthPath}` });
  return { ...(path === undefined ? {} : { path }), ...(port === undefined ? {} : { port }) };
}

/**
 * Reads a container's labels: not watched, a watched project-stage, or the problems that keep it
 * from being one (then it is left alone). Label values are data: never evaluated beyond the
 * tag policy's own validation (safe regular expressions only).
 */
export function parseContainerLabels(facts: ContainerFacts, options: LabelModeOptions = {}): LabelVerdict {
  const container = { id: facts.id, name: facts.name };
  const labels = facts.labels;
  if (labels[managedLabel] === 'true' || parseStandInName(facts.name))
    return { kind: 'ignored', container: facts };
  if (options.scope !== undefined && labels[watchLabels.scope] !== options.scope)
    return { kind: 'ignored', container: facts };
  const problems: LabelProblem[] = [];
  const source = optedIn(facts, options, problems);
  if (!source)
    return problems.length > 0
      ? { kind: 'invalid', container, problems }
      : { kind: 'ignored', container: facts };
  const image = parseImageName(facts.image);
  if (!image)
    problems.push({
      label: 'image',
      message: `the container's image ${JSON.stringify(facts.image.slice(0, 80))} names no repository to watch`,
    });
  const project = labels[watchLabels.project] ?? facts.name;
  const stage = labels[watchLabels.stage] ?? 'live';
  if (!namePattern.test(project))
    problems.push({ label: watchLabels.project, message: 'expected letters, digits, _ . - (at most 63)' });
  if (!namePattern.test(stage))
    problems.push({ label: watchLabels.stage, message: 'expected letters, digits, _ . - (at most 63)' });
  const monitorOnly = flag(labels, foreignLabels.watchtowerMonitorOnly, problems);
  const autoDeploy = flag(labels, watchLabels.autoDeploy, problems) ?? !monitorOnly;
  const health = healthOf(labels, problems);
  const settings = stageSettingsOf(labels, problems);
  const { policy, origin } = policyOf(labels, image, problems);
  const parsed = v.safeParse(tagPolicyOptions, policy);
  if (!parsed.success && Object.keys(policy).length > 0) {
    for (const issue of parsed.issues) {
      const key = String(issue.path?.[0]?.key ?? '');
      problems.push({ label: origin[key] ?? 'policy', message: issue.message });
    }
  }
  if (problems.length > 0 || !image || !parsed.success) return { kind: 'invalid', container, problems };
  return {
    kind: 'stage',
    stage: {
      project,
      stage,
      container,
      image,
      policy: parsed.output,
      autoDeploy,
      health,
      source,
      ...settings,
    },
  };
}
