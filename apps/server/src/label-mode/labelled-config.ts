import type { Logger } from '@docker-watcher/core';
import { ociRegistry } from '@docker-watcher/registry-oci';
import { type LabelDiscovery, type LabelledStage, labelledProjects } from '@docker-watcher/target-docker';
import type { AdapterSpec, ResolvedConfig } from '../config/load.ts';

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

/**
 * The config file's projects and registries plus the labelled stages: what the server composes
 * while label mode is on. A labelled project whose id the file uses already is left out (logged).
 */
export function withLabelledStages(
  config: ResolvedConfig,
  discovery: LabelDiscovery,
  logger: Logger,
): { readonly config: ResolvedConfig; readonly stages: readonly LabelledStage[] } {
  const own = new Set(config.projects.map((project) => project.id));
  const stages = discovery.stages.filter((stage) => {
    if (!own.has(stage.project)) return true;
    logger.warn(
      `container ${stage.container.name} is left alone: the config file has a project ${stage.project}`,
    );
    return false;
  });
  const extra: Record<string, AdapterSpec<'registry', never>> = Object.create(null);
  const projects = labelledProjects(stages, (stage) => registryFor(stage, config, extra), labelledHealth);
  return {
    config: {
      ...config,
      projects: [...config.projects, ...projects],
      registries: { ...config.registries, ...extra },
    },
    stages,
  };
}
