import { accessSync, constants } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import {
  ConfigError,
  compileTagPolicy,
  defaultHealthCheck,
  type EngineProject,
  type EngineStage,
  fromRegistryWatcherPin,
  fromTagPattern,
  parseOptions,
  type StepDeadlines,
  stageKey,
  type TagPolicyOptions,
  tagPolicyOptions,
} from '@docker-watcher/core';
import type * as v from 'valibot';
import { fileOptions, type ResolveContext } from './context.ts';
import { fileForm, node, type SchemaNode, snake, toAdapterOptions, toFilePath, unwrap } from './file-form.ts';
import type { ProjectConfig, StageConfig } from './schema.ts';

/** `git.example.com/team/web-app` -> `team/web-app`; `team/web-app` stays. */
export function repositoryOf(image: string): string {
  const [first, ...rest] = image.split('/');
  if (rest.length > 0 && first !== undefined && (/[.:]/.test(first) || first === 'localhost'))
    return rest.join('/');
  return image;
}

export interface ProjectsInput {
  readonly projects: Readonly<Record<string, ProjectConfig>>;
  /** Projects (or stages) with shape problems: not resolved further, so no problem is reported twice. */
  readonly broken: (path: string) => boolean;
  /** Undefined when the `registries` section is missing or not a mapping (a problem of its own). */
  readonly registryNames: readonly string[] | undefined;
  /**
   * The target a stage names (`undefined`: `global.target`), with where it is configured: its
   * type decides which container settings apply; `undefined` when no target has that name.
   */
  readonly targetOf: (name: string | undefined) => StageTarget | undefined;
  /** The names in `targets`, for the message about a name that is none of them. */
  readonly targetNames: readonly string[];
  readonly domain?: string;
  readonly subdomainPattern: string;
}

export interface StageTarget {
  readonly type: string;
  /** `global.target` or `targets.<name>`. */
  readonly path: string;
  /** The schema of the options a stage gives it (`defineDeployTarget({ stageOptions })`), if any. */
  readonly stageOptions?: v.GenericSchema;
  /** Why a stage with these options cannot run two releases at once (`defineDeployTarget({ notSideBySide })`). */
  readonly notSideBySide?: (stageOptions: unknown) => string | undefined;
}

export interface ResolvedProjects {
  readonly projects: EngineProject[];
  /** The target name of each `project/stage` that names one in `targets`; the others run on `global.target`. */
  readonly stageTargets: Map<string, string>;
  /** The options each `project/stage` gives its target (validated, in the target's spelling). */
  readonly stageOptions: Map<string, unknown>;
}

type Health = ProjectConfig['healthcheck'];

const projectKeys = [
  'registry',
  'image',
  'repository',
  'strategy',
  'drain_ms',
  'port',
  'healthcheck',
  'env',
  'env_file',
  'volumes',
];

const healthOf = (health: Health) =>
  health === undefined
    ? undefined
    : typeof health === 'string'
      ? { ...defaultHealthCheck, path: health }
      : {
          intervalMs: health.interval_ms,
          timeoutMs: health.timeout_ms,
          retries: health.retries,
          startPeriodMs: health.start_period_ms,
          ...(health.path ? { path: health.path } : {}),
        };

/** A glob's fixed beginning: `dev-` for `dev-*`. */
const literalPrefixOf = (glob: string) => {
  const index = glob.search(/[*?[\]{}()!+@\\]/);
  return index === -1 ? glob : glob.slice(0, index);
};

const list = (value: string | string[] | undefined) =>
  value === undefined ? undefined : typeof value === 'string' ? [value] : value;

export function resolveProjects(ctx: ResolveContext, input: ProjectsInput): ResolvedProjects {
  const projects: EngineProject[] = [];
  const stageTargets: ResolvedProjects['stageTargets'] = new Map();
  const stageOptions: ResolvedProjects['stageOptions'] = new Map();
  const hosts = new Map<string, string>();
  for (const [id, project] of Object.entries(input.projects)) {
    const path = `projects.${id}`;
    if (input.broken(path) && (!project || typeof project !== 'object' || !project.stages)) continue;
    // Without a `registries` section (a problem of its own) every reference would be a second one.
    const known = input.registryNames;
    if (known && typeof project.registry === 'string' && !known.includes(project.registry)) {
      ctx.problem(
        `${path}.registry`,
        `no registry named "${project.registry}"${known.length > 0 ? `; known: ${known.join(', ')}` : ''}`,
      );
    }
    const stages: Record<string, EngineStage> = Object.create(null);
    /** Stages whose target options rule out two releases at once: they recreate. */
    const recreate = new Set<string>();
    let valid = !input.broken(path);
    // A project-level setting of the wrong shape: its stages' own checks still run.
    const projectFieldsBroken = projectKeys.some((key) => input.broken(`${path}.${key}`));
    for (const [name, stage] of Object.entries(project.stages ?? {})) {
      const stagePath = `${path}.stages.${name}`;
      if (input.broken(stagePath)) continue;
      checkPromotion(ctx, project, name, stagePath, id);
      const policy = stagePolicy(ctx, stage, stagePath);
      if (!policy) {
        valid = false;
        continue;
      }
      const host = hostOf(input, id, name, stage);
      if (host !== undefined) {
        const other = hosts.get(host);
        if (other)
          ctx.problem(
            `${stagePath}${stage.subdomain ? '.subdomain' : ''}`,
            `the host ${host} is ${other}'s already; each stage needs its own`,
          );
        else hosts.set(host, stagePath);
      }
      const { name: targetName, options: given } = bindingOf(stage.target);
      const target = input.targetOf(targetName);
      if (!target) {
        const known = input.targetNames;
        ctx.problem(
          `${stagePath}.target${typeof stage.target === 'string' ? '' : '.name'}`,
          `no target named "${targetName}"${known.length > 0 ? `; known: ${known.join(', ')}` : ' (the file has no targets)'}`,
        );
        valid = false;
        continue;
      }
      if (targetName !== undefined) stageTargets.set(stageKey({ project: id, stage: name }), targetName);
      if (given) {
        const options = targetOptions(ctx, target, given, `${stagePath}.target`);
        if (!options) {
          valid = false;
          continue;
        }
        stageOptions.set(stageKey({ project: id, stage: name }), options);
        const alone = target.notSideBySide?.(options);
        if (alone && project.strategy === 'blue-green') {
          ctx.problem(
            `${stagePath}.target`,
            `blue-green runs two releases at once, but this stage ${alone}: use strategy recreate`,
          );
          valid = false;
          continue;
        }
        if (alone) recreate.add(name);
      }
      if (!projectFieldsBroken)
        containerSettings(ctx, target, project, stage, stagePath, `${id}/${name}`, stageOptions);
      const env = { ...(project.env ?? {}), ...(stage.env ?? {}) };
      const port = stage.port ?? project.port;
      const health = healthOf(stage.healthcheck ?? project.healthcheck);
      stages[name] = {
        policy,
        autoDeploy: stage.auto_deploy,
        ...(stage.confirm ? { confirm: true } : {}),
        ...(stage.promote_from ? { promoteFrom: stage.promote_from } : {}),
        ...(stage.pinned_tag?.trim() ? { pin: stage.pinned_tag.trim() } : {}),
        ...(project.retry_pause_ms !== undefined ? { deployRetryBaseMs: project.retry_pause_ms } : {}),
        deploy: {
          image: project.image,
          ...(port ? { port } : {}),
          ...(Object.keys(env).length > 0 ? { env } : {}),
          ...(project.strategy || recreate.has(name)
            ? { strategy: project.strategy ?? ('recreate' as const) }
            : {}),
          ...(health ? { health } : {}),
          ...(host ? { host } : {}),
          ...(project.deadlines ? { deadlines: deadlinesOf(project.deadlines) } : {}),
          ...(project.drain_ms === undefined ? {} : { drainMs: project.drain_ms }),
        },
      };
    }
    if (valid && typeof project.image === 'string')
      projects.push({
        id,
        registry: project.registry,
        repository: project.repository ?? repositoryOf(project.image),
        stages,
      });
  }
  return { projects, stageTargets, stageOptions };
}

/** The config's `deadlines` (snake_case) as the engine's step deadlines; unset steps keep its defaults. */
function deadlinesOf(input: NonNullable<ProjectConfig['deadlines']>): Partial<StepDeadlines> {
  const out: { -readonly [K in keyof StepDeadlines]?: number } = {};
  if (input.pull_ms !== undefined) out.pullMs = input.pull_ms;
  if (input.start_ms !== undefined) out.startMs = input.start_ms;
  if (input.probe_ms !== undefined) out.probeMs = input.probe_ms;
  if (input.switch_ms !== undefined) out.switchMs = input.switch_ms;
  if (input.stop_ms !== undefined) out.stopMs = input.stop_ms;
  if (input.rollback_ms !== undefined) out.rollbackMs = input.rollback_ms;
  if (input.promotion_ms !== undefined) out.promotionMs = input.promotion_ms;
  return out;
}

function hostOf(
  input: ProjectsInput,
  project: string,
  stage: string,
  config: StageConfig,
): string | undefined {
  if (!input.domain) return undefined;
  const sub =
    config.subdomain ?? input.subdomainPattern.replaceAll('{stage}', stage).replaceAll('{project}', project);
  return `${sub}.${input.domain}`.toLowerCase();
}

function checkPromotion(ctx: ResolveContext, project: ProjectConfig, name: string, path: string, id: string) {
  const from = project.stages[name]?.promote_from;
  if (from === undefined) return;
  if (from === name) ctx.problem(`${path}.promote_from`, 'a stage cannot promote from itself');
  else if (!Object.hasOwn(project.stages, from)) {
    const known = Object.keys(project.stages).filter((s) => s !== name);
    ctx.problem(
      `${path}.promote_from`,
      `no stage "${from}" in project ${id}${known.length ? `; its stages: ${known.join(', ')}` : ''}`,
    );
  } else if (promotionLoops(project, name))
    ctx.problem(`${path}.promote_from`, 'promotions must not go round in a circle');
  else {
    const source = project.stages[from]!;
    const mine = project.stages[name]!;
    // Two globs whose fixed beginnings differ never match the same tag.
    if (typeof source.tag_pattern === 'string' && typeof mine.tag_pattern === 'string') {
      const a = literalPrefixOf(source.tag_pattern);
      const b = literalPrefixOf(mine.tag_pattern);
      if (!a.startsWith(b) && !b.startsWith(a))
        ctx.warn(
          `${path}.tag_pattern`,
          `nothing can be deployed here: ${from} takes ${source.tag_pattern} tags, which ${mine.tag_pattern} never allows`,
        );
    }
    if (mine.pinned_tag !== undefined)
      ctx.warn(`${path}.pinned_tag`, `does nothing on a stage that promotes from ${from}`);
  }
}

function promotionLoops(project: ProjectConfig, start: string): boolean {
  const seen = new Set<string>([start]);
  let current = project.stages[start]?.promote_from;
  while (current !== undefined) {
    if (seen.has(current)) return true;
    seen.add(current);
    current = Object.hasOwn(project.stages, current) ? project.stages[current]?.promote_from : undefined;
  }
  return false;
}

function stagePolicy(
  ctx: ResolveContext,
  stage: StageConfig,
  path: string,
): EngineStage['policy'] | undefined {
  if (stage.tag_pattern !== undefined && stage.policy !== undefined) {
    ctx.problem(`${path}.policy`, 'set tag_pattern or policy, not both');
    return undefined;
  }
  const [options, policyPath]: [TagPolicyOptions, string] =
    stage.policy !== undefined
      ? [toAdapterOptions(stage.policy, tagPolicyOptions) as TagPolicyOptions, `${path}.policy`]
      : stage.tag_pattern !== undefined
        ? [fromTagPattern(stage.tag_pattern), `${path}.tag_pattern`]
        : // registrywatcher's default, also what its `pinned_tag: ""` means: the newest vX.Y.Z.
          [fromRegistryWatcherPin(''), path];
  try {
    return compileTagPolicy(options, {});
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const p of error.problems) {
      // `fromTagPattern` puts the glob under `pattern`: the user wrote `tag_pattern`.
      const segments = p.path === '' ? [] : p.path.split('.');
      const where =
        stage.policy !== undefined
          ? [policyPath, ...toFilePath(segments, tagPolicyOptions as v.GenericSchema)].join('.')
          : policyPath;
      ctx.problem(where, p.message);
    }
    return undefined;
  }
}

const isOptional = (entry: SchemaNode) => ['optional', 'exact_optional', 'nullish'].includes(entry.type);

/** A stage's `target`: a name, or `{ name, ...options }`; options only when it gives some. */
function bindingOf(target: StageConfig['target']): { name?: string; options?: Record<string, unknown> } {
  if (target === undefined || typeof target === 'string') return target === undefined ? {} : { name: target };
  const { name, ...options } = target as { name?: string } & Record<string, unknown>;
  return {
    ...(name === undefined ? {} : { name }),
    ...(Object.keys(options).length > 0 ? { options } : {}),
  };
}

/** The options a stage gives its target, checked once by the target's `stageOptions` schema, at the stage's path. */
function targetOptions(
  ctx: ResolveContext,
  target: StageTarget,
  given: Record<string, unknown>,
  path: string,
): unknown {
  if (!target.stageOptions) {
    for (const key of Object.keys(given))
      ctx.problem(`${path}.${key}`, `unknown key; the ${target.type} target takes no stage options`);
    return undefined;
  }
  // Keys first, in the file's spelling: an unknown or missing one said as for any other section.
  const entries = (unwrap(node(fileForm(target.stageOptions, []))).entries ?? {}) as Record<
    string,
    SchemaNode
  >;
  const known = Object.keys(entries);
  let keysValid = true;
  for (const key of Object.keys(given).filter((key) => !Object.hasOwn(entries, key))) {
    ctx.problem(
      `${path}.${key}`,
      `unknown key; the ${target.type} target's stage options are: ${known.join(', ')}`,
    );
    keysValid = false;
  }
  for (const key of known.filter((key) => !Object.hasOwn(given, key) && !isOptional(entries[key]!))) {
    ctx.problem(`${path}.${key}`, 'is required');
    keysValid = false;
  }
  if (!keysValid) return undefined;
  const options = fileOptions(ctx, target.stageOptions, [], given, path);
  return options && parseOptions(target.stageOptions, options);
}

/** `env_file` and `volumes` of a stage (else its project's), relative to the config file. */
function containerSettings(
  ctx: ResolveContext,
  target: StageTarget,
  project: ProjectConfig,
  stage: StageConfig,
  path: string,
  key: string,
  out: ResolvedProjects['stageOptions'],
) {
  const envFiles = list(stage.env_file ?? project.env_file);
  const volumes = stage.volumes ?? project.volumes;
  if (envFiles === undefined && volumes === undefined) return;
  const from =
    stage.env_file !== undefined || stage.volumes !== undefined ? path : path.replace(/\.stages\..*$/, '');
  if (target.type !== 'docker') {
    const keys = [envFiles ? 'env_file' : undefined, volumes ? 'volumes' : undefined]
      .filter(Boolean)
      .join(' and ');
    if (target.type === 'memory') ctx.warn(from, `${keys} do nothing with the memory target`);
    else ctx.problem(from, `${keys} need the docker target (${target.path}.type is ${target.type})`);
    return;
  }
  const absolute = (file: string) => (isAbsolute(file) ? file : resolve(ctx.baseDir, file));
  const files = envFiles?.map(absolute);
  for (const file of files ?? []) {
    try {
      accessSync(file, constants.R_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      ctx.warn(
        `${from}.env_file`,
        `cannot read ${file}${code ? ` (${code})` : ''}: deploys of ${key} fail until it can be read`,
      );
    }
  }
  // Relative bind sources are relative to the config file, as in a compose file.
  const mounts = volumes?.map((volume) => (/^\.\.?\//.test(volume) ? absolute(volume) : volume));
  // Into the stage's docker options, where its own `target:` options could set them too.
  const own = { ...((out.get(key) as Record<string, unknown> | undefined) ?? {}) };
  for (const [field, fileKey, value] of [
    ['envFiles', 'env_file', files],
    ['volumes', 'volumes', mounts],
  ] as const) {
    if (value === undefined) continue;
    if (own[field] === undefined) own[field] = value;
    else ctx.problem(`${from}.${fileKey}`, `${path}.target.${snake(field)} sets it too: keep one`);
  }
  out.set(key, own);
}
