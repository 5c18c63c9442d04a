import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  ConfigError,
  type ConfigProblem,
  type DeployTarget,
  type DeployTargetDefinition,
  type EngineProject,
  type LogLevel,
  type Registry,
  type RegistryLimits,
  type ReverseProxy,
  type StateStore,
} from '@docker-watcher/core';
import * as v from 'valibot';
import { type AdapterTables, loadAdapters } from '../adapters.ts';
import {
  type AdapterContext,
  type AdapterSpec,
  createResolveContext,
  originMessage,
  type ResolveContext,
} from './context.ts';
import { applyEnvironment } from './environment.ts';
import { node } from './file-form.ts';
import { plainMessage } from './messages.ts';
import { type Environment, keyIndex, type NormalizeContext, normalize } from './normalize.ts';
import { type NotifySettings, resolveNotify } from './notify.ts';
import {
  instanceOfStore,
  namedAdapters,
  resolveProxy,
  resolveRegistries,
  resolveStore,
  resolveTarget,
} from './resolve-adapters.ts';
import { resolveProjects } from './resolve-projects.ts';
import {
  type ApiToken,
  type DashboardUser,
  resolveListen,
  resolveTokens,
  resolveUsers,
  type SessionSettings,
} from './resolve-server.ts';
import { type ConfigFile, type ConfigSchema, configSchemaFor } from './schema.ts';
import { noOpWarnings } from './warnings.ts';
import { parseYaml } from './yaml.ts';

export type { AdapterSpec } from './context.ts';
export type { Environment } from './normalize.ts';
export { repositoryOf } from './resolve-projects.ts';
export { type ApiToken, type DashboardUser, hashToken, type SessionSettings } from './resolve-server.ts';
export { parseYaml } from './yaml.ts';

/** A config file turned into what the server composes: every reference checked, every secret read. */
export interface ResolvedConfig {
  readonly file: ConfigFile;
  /** The config as written, before the environment and defaults: what `GET /api/config` tells from defaults. */
  readonly raw: unknown;
  /** Values that came from elsewhere than the file's text, by path: `DOCKER_WATCHER_*` and `*_env` (env), `*_file` (file). */
  readonly sources: ReadonlyMap<string, 'env' | 'file'>;
  readonly projects: EngineProject[];
  readonly registries: Readonly<Record<string, AdapterSpec<'registry', Registry>>>;
  /** Per registry: requests at once and in a window (`registries.<name>.concurrency`, `.rate_limit`). */
  readonly registryLimits: Readonly<Record<string, RegistryLimits>>;
  /** `global.target`: the target of every stage that names none. */
  readonly target: AdapterSpec<'target', DeployTarget>;
  /** `targets`, by name: the ones stages name. */
  readonly targets: ReadonlyMap<string, AdapterSpec<'target', DeployTarget>>;
  /** The target name of each `project/stage` that names one in `targets`. */
  readonly stageTargets: ReadonlyMap<string, string>;
  /** The options each `project/stage` gives its target (`target: { name, ...options }`), validated by the target's `stageOptions`. */
  readonly stageOptions: ReadonlyMap<string, unknown>;
  readonly proxy?: AdapterSpec<'proxy', ReverseProxy>;
  readonly store: AdapterSpec<'store', StateStore>;
  /** Notification channels (`notify`, and the plan's `global.notification_url`) and the dispatcher's settings. */
  readonly notify: NotifySettings;
  /** `global.server.public_url`: where people reach the server and its dashboard. */
  readonly publicUrl?: string;
  readonly tokens: readonly ApiToken[];
  readonly users: readonly DashboardUser[];
  readonly session: SessionSettings;
  readonly listen: { readonly host: string; readonly port: number };
  readonly logLevel: LogLevel;
  readonly pollIntervalMs: number;
  /** `global.retry_pause_ms`: the engine's first pause before a failure of ours is retried. */
  readonly deployRetryBaseMs: number;
  /** `global.webhook_coalesce_ms`: how long notifications after a look share the next one. */
  readonly webhookCoalesceMs: number;
  readonly webhookBodyLimit: number;
  readonly shutdownTimeoutMs: number;
  /** This server's name in the store's leases; `undefined`: host name and listen port. */
  readonly replicaName?: string;
  /** `global.label_mode` when enabled: labelled containers become stages (see `label-mode/`). */
  readonly labelMode?: LabelModeSettings;
  /** Every secret value read from the environment or files (or written in the file), for redaction. */
  readonly secrets: readonly string[];
  /** Settings that do nothing, deprecated spellings, secrets written in the file: said, not refused. */
  readonly warnings: readonly ConfigProblem[];
}

/** Everything `check` says about a file: the config when it is valid, every problem and warning. */
export interface LabelModeSettings {
  readonly watchAll: boolean;
  readonly scope?: string;
  readonly resyncMs: number;
  readonly insecureRegistries: readonly string[];
  /** How long the previous image of an in-place update stays: ms, or `'never'` removed. */
  readonly keepPreviousImage: number | 'never';
}

export interface ConfigReport {
  readonly config?: ResolvedConfig;
  readonly problems: readonly ConfigProblem[];
  readonly warnings: readonly ConfigProblem[];
}

export interface LoadOptions {
  /** Where relative `*_file` keys, env files and volume sources are found (the config file's folder). */
  readonly baseDir?: string;
}

const indexes = new WeakMap<ConfigSchema, Map<string, string[]>>();
/** Where each key belongs, for "unknown key" messages: once per schema. */
function indexOf(schema: ConfigSchema) {
  let index = indexes.get(schema);
  if (!index) {
    index = keyIndex(node(schema));
    indexes.set(schema, index);
  }
  return index;
}

const noAdapters: AdapterTables = {
  registry: new Map(),
  target: new Map(),
  proxy: new Map(),
  store: new Map(),
};

/** A fresh context for one normalizing pass: nothing found yet. */
const normalizeContext = (env: Environment, baseDir: string): NormalizeContext => ({
  env,
  baseDir,
  problems: [],
  warnings: [],
  secrets: [],
  origins: new Map(),
  secretPaths: new Set(),
  broken: new Set(),
});

/**
 * Loads the adapters a file names. Which they are is read from the file normalized without any
 * adapter's schema (so a store URL from `store_env` counts too); its problems are not kept here:
 * the real pass, with the adapters, says them.
 */
async function adaptersNamed(input: Record<string, unknown>, base: NormalizeContext) {
  const scratch = normalizeContext(base.env, base.baseDir);
  const schema = configSchemaFor(noAdapters);
  return loadAdapters(namedAdapters(normalize(node(schema), input, '', scratch, indexOf(schema))));
}
const isMapping = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** `registries.<name>.options` of earlier versions: its keys move onto the registry itself. */
function liftRegistryOptions(raw: Record<string, unknown>, ctx: ResolveContext) {
  if (!isMapping(raw.registries)) return;
  for (const [name, registry] of Object.entries(raw.registries)) {
    if (!isMapping(registry) || !isMapping(registry.options)) continue;
    ctx.warn(
      `registries.${name}.options`,
      'is deprecated: write its keys on the registry itself, in snake_case',
    );
    for (const [key, value] of Object.entries(registry.options)) {
      if (Object.hasOwn(registry, key))
        ctx.problem(`registries.${name}.options.${key}`, `${key} is set on the registry too: keep one`);
      else registry[key] = value;
    }
    delete registry.options;
  }
}

/** Each problem once, in the order found (stages inherit their project's settings, and its problems). */
const unique = (problems: readonly ConfigProblem[]) => {
  const seen = new Set<string>();
  return problems.filter((p) => !seen.has(`${p.path}\0${p.message}`) && seen.add(`${p.path}\0${p.message}`));
};

function issueProblem(issue: v.BaseIssue<unknown>, ctx: ResolveContext): ConfigProblem {
  const path = (issue.path ?? []).map((item) => String(item.key)).join('.');
  const secret = [...ctx.secretPaths].some((p) => path === p || path.startsWith(`${p}.`));
  const message = plainMessage(issue, secret);
  const origin = ctx.origins.get(path);
  return origin ? { path: origin.path, message: originMessage(origin, message) } : { path, message };
}

/**
 * Validates a parsed config and resolves it, collecting every problem and warning. Loads the
 * adapters it names, and only those.
 */
export async function inspectConfig(
  raw: unknown,
  env: Environment,
  options: LoadOptions = {},
): Promise<ConfigReport> {
  const base = normalizeContext(env, options.baseDir ?? process.cwd());
  const ctx = createResolveContext(base);
  const input = raw ?? Object.create(null);
  if (!isMapping(input))
    return {
      problems: [{ path: '', message: 'must be a mapping with global, registries and projects' }],
      warnings: [],
    };
  const written = structuredClone(input);
  applyEnvironment(input, env, ctx.origins, ctx.problems);
  liftRegistryOptions(input, ctx);
  const adapters = await adaptersNamed(input, base);
  const configSchema = configSchemaFor(adapters);
  const normalized = normalize(node(configSchema), input, '', ctx, indexOf(configSchema));
  const parsed = v.safeParse(configSchema, normalized);
  const issuePaths: string[] = [...ctx.broken];
  for (const issue of parsed.issues ?? []) {
    const problem = issueProblem(issue, ctx);
    ctx.problems.push(problem);
    issuePaths.push((issue.path ?? []).map((item) => String(item.key)).join('.'));
  }
  const broken = (prefix: string) =>
    issuePaths.some(
      (p) => p === prefix || p.startsWith(`${prefix}.`) || prefix.startsWith(`${p}.`) || p === '',
    );
  const file = parsed.output as ConfigFile;
  const rawGlobal = isMapping(input.global) ? input.global : {};
  const rawTargets = isMapping(input.targets) ? input.targets : {};
  const setsNetwork = (name: string | undefined) => {
    const section = name === undefined ? rawGlobal.target : rawTargets[name];
    return isMapping(section) && section.network !== undefined;
  };
  const resolved = resolveAll({ ...ctx, adapters }, file, broken, setsNetwork);
  const sources = new Map(
    [...ctx.origins].map(
      ([path, origin]) => [path, origin.what.startsWith('the content of') ? 'file' : 'env'] as const,
    ),
  );
  noOpWarnings(ctx, file, input);
  const warnings = unique(ctx.warnings);
  if (ctx.problems.length > 0 || !resolved) return { problems: unique(ctx.problems), warnings };
  return { config: { ...resolved, raw: written, sources, warnings }, problems: [], warnings };
}

function labelModeOf(
  ctx: AdapterContext,
  section: ConfigFile['global']['label_mode'],
  targetType: string,
): { labelMode?: LabelModeSettings } {
  if (!section?.enabled) return {};
  if (targetType !== 'docker') {
    ctx.problem('global.label_mode.enabled', `needs the docker target (global.target.type is ${targetType})`);
    return {};
  }
  return {
    labelMode: {
      watchAll: section.watch_all,
      ...(section.scope === undefined ? {} : { scope: section.scope }),
      resyncMs: section.resync_seconds * 1000,
      insecureRegistries: section.insecure_registries,
      keepPreviousImage:
        typeof section.keep_previous_image === 'number' ? section.keep_previous_image * 1000 : 'never',
    },
  };
}

function resolveAll(
  ctx: AdapterContext,
  file: ConfigFile,
  broken: (prefix: string) => boolean,
  setsNetwork: (target: string | undefined) => boolean,
): Omit<ResolvedConfig, 'warnings' | 'raw' | 'sources'> | undefined {
  const global = (isMapping(file.global) ? file.global : {}) as ConfigFile['global'];
  const registriesFile = isMapping(file.registries) ? file.registries : {};
  const okRegistries = Object.fromEntries(
    Object.entries(registriesFile).filter(([name]) => !broken(`registries.${name}`)),
  );
  const { registries, registryLimits, credentials } = resolveRegistries(
    ctx,
    okRegistries as Record<string, Record<string, unknown>>,
  );
  const target = isMapping(global.target) ? (global.target as Record<string, unknown>) : { type: 'docker' };
  const namedTargets = (isMapping(file.targets) ? file.targets : {}) as Record<
    string,
    Record<string, unknown>
  >;
  const targetNames = Object.keys(namedTargets);
  const stageTargetOf = (type: unknown, path: string) => {
    const loaded = ctx.adapters.target.get(String(type));
    const definition = loaded?.definition as DeployTargetDefinition | undefined;
    return {
      type: String(type),
      path,
      ...(definition?.stageOptions ? { stageOptions: definition.stageOptions } : {}),
      ...(definition?.notSideBySide ? { notSideBySide: definition.notSideBySide } : {}),
    };
  };
  const { projects, stageTargets, stageOptions } = resolveProjects(ctx, {
    projects: isMapping(file.projects) ? file.projects : {},
    broken,
    registryNames: isMapping(file.registries) ? Object.keys(registriesFile) : undefined,
    targetOf: (name) =>
      name === undefined
        ? stageTargetOf(target.type, 'global.target')
        : Object.hasOwn(namedTargets, name)
          ? stageTargetOf(namedTargets[name]!.type, `targets.${name}`)
          : undefined,
    targetNames,
    ...(typeof global.domain === 'string' ? { domain: global.domain } : {}),
    subdomainPattern:
      typeof global.subdomain_pattern === 'string' ? global.subdomain_pattern : 'stage-{stage}-{project}',
  });
  const targetSpecOf = (name: string | undefined, section: Record<string, unknown>) => {
    const path = name === undefined ? 'global.target' : `targets.${name}`;
    if (broken(path)) return undefined;
    return resolveTarget(ctx, {
      target: { ...section },
      path,
      ...(typeof global.network === 'string' ? { network: global.network } : {}),
      targetSetsNetwork: setsNetwork(name),
      instance:
        typeof global.instance === 'string'
          ? global.instance
          : instanceOfStore(global.store as string | Record<string, unknown> | undefined),
      credentials,
    });
  };
  const targetSpec = targetSpecOf(undefined, target);
  const targets = new Map<string, AdapterSpec<'target', DeployTarget>>();
  for (const [name, section] of Object.entries(namedTargets)) {
    const spec = targetSpecOf(name, section);
    if (spec) targets.set(name, spec);
  }
  const proxy =
    broken('global.proxy') || broken('global.npm')
      ? undefined
      : resolveProxy(
          ctx,
          global.proxy as Record<string, unknown> | undefined,
          global.npm as Record<string, unknown> | undefined,
        );
  const store = broken('global.store')
    ? undefined
    : resolveStore(ctx, global.store as string | Record<string, unknown> | undefined, 'global.store');
  const server = global.server;
  const tokens = broken('global.server.tokens') ? [] : resolveTokens(ctx, server.tokens);
  const users = broken('global.server.users')
    ? []
    : resolveUsers(ctx, server.users, new Set((server.tokens ?? []).map((t) => t.name)));
  const listen = broken('global.server.listen')
    ? { host: '', port: 0 }
    : resolveListen(
        ctx,
        server.listen,
        ctx.origins.get('global.server.listen')?.path ?? 'global.server.listen',
      );
  const notify = resolveNotify(
    isMapping(file.notify) || Array.isArray(file.notify) ? file.notify : undefined,
    {
      ...ctx,
      broken,
      publicUrl: broken('global.server.public_url') ? undefined : server.public_url,
      legacyWebhook:
        global.notification_url && !broken('global.notification_url') && !broken('global.notification_secret')
          ? { url: global.notification_url, secret: global.notification_secret }
          : undefined,
    },
  );
  if (!targetSpec || !store || broken('global')) return undefined;
  return {
    file,
    projects,
    registries,
    registryLimits,
    target: targetSpec,
    targets,
    stageTargets,
    stageOptions,
    ...(proxy ? { proxy } : {}),
    store,
    notify,
    ...(server.public_url ? { publicUrl: server.public_url } : {}),
    tokens,
    users,
    session: {
      idleTimeoutMs: server.session.idle_timeout_seconds * 1000,
      maxAgeMs: server.session.max_age_seconds * 1000,
      secureCookie: server.session.secure_cookie,
      trustedProxies: server.session.trusted_proxies,
      loginMaxFailures: server.session.login_max_failures,
      loginWindowMs: server.session.login_window_seconds * 1000,
    },
    listen,
    logLevel: server.log_level,
    pollIntervalMs: global.poll_interval_seconds * 1000,
    ...labelModeOf(ctx, global.label_mode, String(target.type)),
    deployRetryBaseMs: global.retry_pause_ms,
    webhookCoalesceMs: global.webhook_coalesce_ms,
    webhookBodyLimit: server.webhook_body_limit,
    shutdownTimeoutMs: server.shutdown_timeout_ms,
    ...(server.replica_name ? { replicaName: server.replica_name } : {}),
    secrets: ctx.secrets,
  };
}

/** Parses and inspects YAML text; YAML syntax errors are problems too. */
export async function inspectConfigText(
  text: string,
  env: Environment = process.env,
  options: LoadOptions = {},
): Promise<ConfigReport> {
  const { value, problems } = parseYaml(text);
  if (problems.length > 0 && value === undefined) return { problems, warnings: [] };
  const report = await inspectConfig(value, env, options);
  return problems.length > 0
    ? { problems: [...problems, ...report.problems], warnings: report.warnings }
    : report;
}

/** Reads and inspects a config file; relative paths in it are relative to its folder. */
export async function inspectConfigFile(file: string, env: Environment = process.env): Promise<ConfigReport> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      problems: [{ path: '', message: `cannot read ${file}${code ? ` (${code})` : ''}` }],
      warnings: [],
    };
  }
  return inspectConfigText(text, env, { baseDir: dirname(resolve(file)) });
}

const orThrow = async (pending: Promise<ConfigReport>): Promise<ResolvedConfig> => {
  const report = await pending;
  if (report.config) return report.config;
  throw new ConfigError([...report.problems]);
};

/**
 * Parses and resolves YAML text. Throws one `ConfigError` with every problem as a `path: message`
 * line; secret values never appear in it.
 */
export const loadConfigText = (text: string, env: Environment = process.env, options: LoadOptions = {}) =>
  orThrow(inspectConfigText(text, env, options));

/** Reads, parses and resolves a config file. A missing file is a `ConfigError` naming it. */
export const loadConfigFile = (file: string, env: Environment = process.env) =>
  orThrow(inspectConfigFile(file, env));

/** Validates an already parsed config (e.g. from JSON) and resolves it. */
export function resolveConfig(
  raw: unknown,
  env: Environment,
  options: LoadOptions = {},
): Promise<ResolvedConfig> {
  return orThrow(inspectConfig(raw, env, options));
}
