import type { Logger, NotifiableEventName } from '@docker-watcher/core';
import { ociRegistry } from '@docker-watcher/registry-oci';
import {
  type InvalidLabelledContainer,
  type LabelDiscovery,
  type LabelledStage,
  labelledProjects,
  watchLabels,
} from '@docker-watcher/target-docker';
import type { AdapterSpec, ResolvedConfig } from '../config/load.ts';
import type { NotifySettings } from '../config/notify.ts';

/**
 * The gate of a labelled stage: long enough for an image `HEALTHCHECK` at Docker's usual 30 s
 * interval to report once; a release that Docker calls unhealthy fails after eleven probes.
 */
export const labelledHealth = { intervalMs: 2_000, timeoutMs: 10_000, retries: 10, startPeriodMs: 0 };

const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/;

/** The registry a labelled image comes from: a configured one by host (with its credentials), else an anonymous one. */
function registryFor(
  stage: LabelledStage,
  config: ResolvedConfig,
  extra: Record<string, AdapterSpec<'registry', never>>,
): string {
  const host = stage.image.host;
  for (const [name, spec] of Object.entries(config.registries)) {
    const url = typeof spec.options.url === 'string' ? URL.parse(spec.options.url) : null;
    const configured = url?.host === 'registry-1.docker.io' ? 'docker.io' : url?.host;
    if (configured === host) return name;
  }
  const name = `label:${host}`;
  if (!extra[name]) {
    const insecure = loopback.test(host) || (config.labelMode?.insecureRegistries ?? []).includes(host);
    const url =
      host === 'docker.io' ? 'https://registry-1.docker.io' : `${insecure ? 'http' : 'https'}://${host}`;
    extra[name] = {
      type: 'oci',
      definition: ociRegistry as never,
      options: { url },
      path: 'global.label_mode',
    };
  }
  return name;
}

/** What the channels a container names by `docker-watcher.notify` hear of its stage: its deploys and releases. */
export const labelNotifyEvents: readonly NotifiableEventName[] = Object.freeze([
  'deploy:started',
  'deploy:succeeded',
  'deploy:failed',
  'deploy:rolled-back',
  'deploy:awaiting-confirmation',
  'release:available',
]);

/** Why the server leaves a labelled stage alone that its labels alone would allow, if it does. */
function refusalOf(
  stage: LabelledStage,
  config: ResolvedConfig,
  channels: ReadonlySet<string>,
): InvalidLabelledContainer['problems'] {
  const problems: Array<InvalidLabelledContainer['problems'][number]> = [];
  if (config.projects.some((project) => project.id === stage.project))
    problems.push({ label: watchLabels.project, message: `the config file has a project ${stage.project}` });
  const unknown = stage.notify.filter((name) => !channels.has(name));
  if (unknown.length > 0) {
    const known = channels.size > 0 ? `configured: ${[...channels].join(', ')}` : 'none is configured';
    problems.push({
      label: watchLabels.notify,
      message: `no notification channel named ${unknown.join(', ')} (${known})`,
    });
  }
  return problems;
}

/** Each channel a stage names also hears that stage's deploys (on top of its own routes). */
function withStageChannels(notify: NotifySettings, stages: readonly LabelledStage[]): NotifySettings {
  return {
    ...notify,
    channels: notify.channels.map((channel) => {
      // Project and stage names hold letters, digits, _ . - only: as globs they match themselves.
      const extra = stages
        .filter((stage) => stage.notify.includes(channel.name))
        .map((stage) => ({
          events: [...labelNotifyEvents],
          projects: [stage.project],
          stages: [stage.stage],
        }));
      return extra.length === 0 ? channel : { ...channel, routes: [...channel.routes, ...extra] };
    }),
  };
}

/**
 * The config file's projects and registries plus the labelled stages: what the server composes
 * while label mode is on. A labelled stage the server cannot take (its project id is one of the
 * file's, it names a notification channel the config does not have) is left alone and `refused`.
 */
export function withLabelledStages(
  config: ResolvedConfig,
  discovery: LabelDiscovery,
  logger: Logger,
): {
  readonly config: ResolvedConfig;
  readonly stages: readonly LabelledStage[];
  readonly refused: readonly InvalidLabelledContainer[];
} {
  const channels = new Set(config.notify.channels.map((channel) => channel.name));
  const refused: InvalidLabelledContainer[] = [];
  const stages = discovery.stages.filter((stage) => {
    const problems = refusalOf(stage, config, channels);
    if (problems.length === 0) return true;
    logger.warn(`container ${stage.container.name} is labelled for docker-watcher but left alone`, {
      problems: problems.map((p) => `${p.label}: ${p.message}`),
    });
    refused.push({ container: stage.container, problems });
    return false;
  });
  const extra: Record<string, AdapterSpec<'registry', never>> = Object.create(null);
  const projects = labelledProjects(stages, (stage) => registryFor(stage, config, extra), labelledHealth);
  return {
    config: {
      ...config,
      projects: [...config.projects, ...projects],
      registries: { ...config.registries, ...extra },
      notify: withStageChannels(config.notify, stages),
    },
    stages,
    refused,
  };
}
