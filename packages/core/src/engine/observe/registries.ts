import type { Registry } from '../../contracts/registry.ts';
import type { StageRef } from '../../contracts/release.ts';
import { CoreError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import {
  defaultRegistryConcurrency,
  limitRegistry,
  RegistryLimiter,
  type RegistryLimits,
} from '../../registry-limiter.ts';
import type { EngineProject, EngineRegistries, EngineStage } from '../engine-config.ts';
import { repoKey } from './observation-inbox.ts';

/** A repository the engine watches, once however many projects deploy from it, with their stages. */
export interface Watched {
  readonly registry: string;
  readonly repository: string;
  readonly stages: Array<StageRef & { readonly config: EngineStage }>;
}

/** The watched repositories by `repoKey`; a project naming no known registry is a config error. */
export function watchedRepositories(
  projects: readonly EngineProject[],
  registries: Readonly<Record<string, Registry>>,
): Map<string, Watched> {
  const watched = new Map<string, Watched>();
  for (const project of projects) {
    if (!registries[project.registry]) {
      throw new CoreError(
        'CONFIG_INVALID',
        `projects.${project.id}.registry: no registry named ${project.registry}`,
      );
    }
    const key = repoKey(project.registry, project.repository);
    const entry = watched.get(key) ?? {
      registry: project.registry,
      repository: project.repository,
      stages: [],
    };
    for (const [stage, config] of Object.entries(project.stages))
      entry.stages.push({ project: project.id, stage, config });
    watched.set(key, entry);
  }
  return watched;
}

export interface RegistryLimitOptions {
  readonly registries: EngineRegistries;
  readonly registryConcurrency?: number;
  readonly registryLimits?: Readonly<Record<string, RegistryLimits | RegistryLimiter>>;
}

/** The engine's registries, each behind its limiter (the one given, or one of the given or default limits). */
export function limitedRegistries(options: RegistryLimitOptions, logger: Logger) {
  const registries: Record<string, Registry> = Object.create(null);
  const limiters = new Map<string, RegistryLimiter>();
  const given = options.registryLimits ?? {};
  for (const [name, registry] of Object.entries(options.registries)) {
    const limits = Object.hasOwn(given, name) ? given[name] : undefined;
    const limiter =
      limits instanceof RegistryLimiter
        ? limits
        : new RegistryLimiter(
            { concurrency: options.registryConcurrency ?? defaultRegistryConcurrency, ...limits },
            { logger: logger.child({ registry: name }), path: `registryLimits.${name}` },
          );
    limiters.set(name, limiter);
    registries[name] = limitRegistry(registry, limiter);
  }
  return { registries, limiters };
}
