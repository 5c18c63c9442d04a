import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  type Adapter,
  type AdapterKind,
  ConfigError,
  type ConfigProblem,
  compileTagPolicy,
  type DeployTarget,
  defaultHealthCheck,
  type EngineProject,
  type EngineStage,
  fromRegistryWatcherPin,
  fromTagPattern,
  isCoreError,
  parseOptions,
  type Registry,
  type ReverseProxy,
  type StateStore,
  type TagPolicyOptions,
} from '@docker-watcher/core';
import { dockerHubUrl } from '@docker-watcher/registry-oci';
import * as v from 'valibot';
import { parseDocument } from 'yaml';
import {
  type AnyDefinition,
  proxyAdapters,
  registryAdapters,
  storeAdapters,
  targetAdapters,
} from '../adapters.ts';
import {
  bcryptHashPattern,
  type ConfigFile,
  configSchema,
  type ProjectConfig,
  type TokenScope,
} from './schema.ts';

/** An adapter to create: its definition, validated options and config path. */
export interface AdapterSpec<K extends AdapterKind, A extends Adapter> {
  readonly type: string;
  readonly definition: AnyDefinition<K, A>;
  readonly options: Record<string, unknown>;
  readonly path: string;
}

export interface ApiToken {
  readonly name: string;
  /** SHA-256 of the token: the value itself is not kept. */
  readonly hash: Buffer;
  readonly scopes: readonly TokenScope[];
}

/** A dashboard user: the bcrypt hash of the password, never the password. */
export interface DashboardUser {
  readonly name: string;
  readonly passwordHash: string;
  readonly scopes: readonly TokenScope[];
}

/** Dashboard sessions and the login's rate limit (`global.server.session`). */
export interface SessionSettings {
  readonly idleTimeoutMs: number;
  readonly maxAgeMs: number;
  readonly secureCookie: boolean | 'auto';
  readonly trustedProxies: readonly string[];
  readonly loginMaxFailures: number;
  readonly loginWindowMs: number;
}

/** A config file turned into what the server composes: every reference checked, every secret read. */
export interface ResolvedConfig {
  readonly file: ConfigFile;
  /** The config as given, before defaults: what `GET /api/config` tells from defaults. */
  readonly raw: unknown;
  readonly projects: EngineProject[];
  readonly registries: Readonly<Record<string, AdapterSpec<'registry', Registry>>>;
  readonly target: AdapterSpec<'target', DeployTarget>;
  readonly proxy?: AdapterSpec<'proxy', ReverseProxy>;
  readonly store: AdapterSpec<'store', StateStore>;
  readonly notifier?: { readonly url: string; readonly secret?: string };
  readonly tokens: readonly ApiToken[];
  readonly users: readonly DashboardUser[];
  readonly session: SessionSettings;
  readonly listen: { readonly host: string; readonly port: number };
  readonly pollIntervalMs: number;
  readonly webhookBodyLimit: number;
  readonly shutdownTimeoutMs: number;
  /** This server's name in the store's leases; `undefined`: host name and listen port. */
  readonly replicaName?: string;
  /** Every secret value read from the environment, for redaction. */
  readonly secrets: readonly string[];
}

export type Environment = Readonly<Record<string, string | undefined>>;

export const hashToken = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** `git.example.com/team/web-app` -> `team/web-app`; `team/web-app` stays. */
export function repositoryOf(image: string): string {
  const [first, ...rest] = image.split('/');
  if (rest.length > 0 && first !== undefined && (/[.:]/.test(first) || first === 'localhost'))
    return rest.join('/');
  return image;
}

const camel = (key: string) => key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

function issuePath(issue: v.BaseIssue<unknown>): string {
  return (issue.path ?? []).map((item) => String(item.key)).join('.');
}

/** Parses YAML text; syntax errors become problems with their line and column. */
export function parseYaml(text: string): { value: unknown; problems: ConfigProblem[] } {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const problems = document.errors.map((error) => {
    const at = error.linePos?.[0];
    const where = at ? `line ${at.line}, column ${at.col}` : 'YAML';
    return { path: '', message: `${where}: ${error.message.split('\n')[0]}` };
  });
  return { value: problems.length > 0 ? undefined : document.toJS(), problems };
}

/**
 * Validates a parsed config and resolves it. Throws one `ConfigError` with every problem as a
 * `path: message` line; secret values never appear in it.
 */
export function resolveConfig(raw: unknown, env: Environment): ResolvedConfig {
  const parsed = v.safeParse(configSchema, raw ?? {});
  if (!parsed.success) {
    throw new ConfigError(parsed.issues.map((issue) => ({ path: issuePath(issue), message: issue.message })));
  }
  const file = parsed.output;
  const problems: ConfigProblem[] = [];
  const problem = (path: string, message: string) => problems.push({ path, message });
  const secrets: string[] = [];
  const readEnv = (path: string, variable: string): string | undefined => {
    const value = env[variable];
    if (value === undefined || value === '') {
      problem(path, `environment variable ${variable} is not set`);
      return undefined;
    }
    secrets.push(value);
    return value;
  };

  /** Validates adapter options against the definition's schema, without creating the adapter. */
  const adapterSpec = <K extends AdapterKind, A extends Adapter>(
    table: Readonly<Record<string, AnyDefinition<K, A>>>,
    type: string,
    options: Record<string, unknown>,
    path: string,
    typePath = `${path}.type`,
  ): AdapterSpec<K, A> | undefined => {
    const definition = table[type];
    if (!definition) {
      problem(typePath, `unknown type "${type}"; one of: ${Object.keys(table).join(', ')}`);
      return undefined;
    }
    try {
      parseOptions(definition.options, options, { path, secrets: definition.secrets });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
    return { type, definition, options, path };
  };

  /** `{ type, password_env: X, ... }` -> `{ password: <value of X>, ... }` without `type`. */
  const withEnv = (raw: Record<string, unknown>, path: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
      if (key === 'type') continue;
      if (key.endsWith('_env') && typeof value === 'string') {
        const resolved = readEnv(`${path}.${key}`, value);
        if (resolved !== undefined) out[camel(key.slice(0, -4))] = resolved;
      } else out[camel(key)] = value;
    }
    return out;
  };

  // Registries.
  const registries: Record<string, AdapterSpec<'registry', Registry>> = {};
  for (const [name, registry] of Object.entries(file.registries)) {
    const path = `registries.${name}`;
    if (registry.token_env && registry.password_env)
      problem(`${path}.password_env`, 'set token_env or password_env, not both');
    const password = registry.token_env
      ? readEnv(`${path}.token_env`, registry.token_env)
      : registry.password_env
        ? readEnv(`${path}.password_env`, registry.password_env)
        : undefined;
    const webhookSecret = registry.webhook_secret_env
      ? readEnv(`${path}.webhook_secret_env`, registry.webhook_secret_env)
      : undefined;
    // Gitea and GHCR adapters name their secrets `token` and `webhookSecret`; the OCI base, `password` and `webhook.secret`.
    const forgeLike = registry.type === 'gitea' || registry.type === 'ghcr';
    const options: Record<string, unknown> =
      registry.type === 'memory'
        ? { ...(webhookSecret ? { webhookSecret } : {}) }
        : {
            ...(registry.type === 'ghcr'
              ? registry.url
                ? { registryUrl: registry.url }
                : {}
              : { url: registry.url ?? (registry.type === 'dockerhub' ? dockerHubUrl : undefined) }),
            ...(registry.type === 'dockerhub' ? { defaultNamespace: 'library' } : {}),
            ...(registry.username ? { username: registry.username } : {}),
            ...(password ? (forgeLike ? { token: password } : { password }) : {}),
            ...(webhookSecret
              ? forgeLike
                ? { webhookSecret }
                : { webhook: { secret: webhookSecret } }
              : {}),
          };
    if (!['memory', 'dockerhub', 'ghcr'].includes(registry.type) && !registry.url)
      problem(`${path}.url`, 'is required');
    const spec = adapterSpec(
      registryAdapters,
      registry.type,
      { ...options, ...(registry.options ?? {}) },
      path,
    );
    if (spec) registries[name] = spec;
  }

  // Target, proxy, store, notifications.
  const global = file.global;
  const targetRaw = { ...(global.network ? { network: global.network } : {}), ...global.target };
  if (global.target.type !== 'docker') delete targetRaw.network;
  const target = adapterSpec(
    targetAdapters,
    global.target.type,
    withEnv(targetRaw, 'global.target'),
    'global.target',
  );
  if (global.proxy && global.npm) problem('global.npm', 'set global.proxy or global.npm, not both');
  const proxyRaw = global.proxy ?? (global.npm ? { ...global.npm, type: 'npm' } : undefined);
  const proxyPath = global.proxy ? 'global.proxy' : 'global.npm';
  const proxy = proxyRaw
    ? adapterSpec(
        proxyAdapters,
        String(proxyRaw.type),
        withEnv(proxyRaw, proxyPath),
        proxyPath,
        global.proxy ? 'global.proxy.type' : 'global.npm',
      )
    : undefined;

  const storeUrl = global.store_env ? readEnv('global.store_env', global.store_env) : global.store;
  let store: AdapterSpec<'store', StateStore> | undefined;
  if (storeUrl !== undefined) {
    const storePath = global.store_env ? 'global.store_env' : 'global.store';
    if (storeUrl.startsWith('sqlite:'))
      store = adapterSpec(storeAdapters, 'sqlite', { path: storeUrl.slice('sqlite:'.length) }, storePath);
    else if (storeUrl === 'memory:') store = adapterSpec(storeAdapters, 'memory', {}, storePath);
    else if (/^postgres(ql)?:\/\//.test(storeUrl))
      store = adapterSpec(storeAdapters, 'postgres', { url: storeUrl }, storePath, storePath);
    else problem(storePath, 'must be sqlite:<file>, a postgres:// URL or memory:');
  }
  const notificationSecret = global.notification_secret_env
    ? readEnv('global.notification_secret_env', global.notification_secret_env)
    : undefined;

  // Server.
  const server = global.server;
  const tokens: ApiToken[] = [];
  const seenTokens = new Set<string>();
  server.tokens.forEach((token, index) => {
    const path = `global.server.tokens.${index}`;
    if (seenTokens.has(token.name)) problem(`${path}.name`, `another token is named ${token.name}`);
    seenTokens.add(token.name);
    const value = readEnv(`${path}.token_env`, token.token_env);
    if (value !== undefined && value.length < 16)
      problem(`${path}.token_env`, `the token in ${token.token_env} is too short (at least 16 characters)`);
    if (value !== undefined) tokens.push({ name: token.name, hash: hashToken(value), scopes: token.scopes });
  });
  const users: DashboardUser[] = [];
  const seenUsers = new Set<string>();
  server.users.forEach((user, index) => {
    const path = `global.server.users.${index}`;
    if (seenUsers.has(user.name)) problem(`${path}.name`, `another user is named ${user.name}`);
    // Audit entries name the caller: a user and a token of the same name could not be told apart.
    else if (seenTokens.has(user.name)) problem(`${path}.name`, `a token is named ${user.name} already`);
    seenUsers.add(user.name);
    if (user.password_hash !== undefined && user.password_hash_env !== undefined) {
      problem(`${path}.password_hash_env`, 'set password_hash or password_hash_env, not both');
      return;
    }
    let hash = user.password_hash;
    if (hash !== undefined) secrets.push(hash);
    else if (user.password_hash_env !== undefined) {
      hash = readEnv(`${path}.password_hash_env`, user.password_hash_env);
      if (hash !== undefined && !bcryptHashPattern.test(hash)) {
        problem(
          `${path}.password_hash_env`,
          `the value of ${user.password_hash_env} is not a bcrypt hash (make one with \`docker-watcher hash-password\`)`,
        );
        return;
      }
    } else
      problem(
        path,
        'needs password_hash or password_hash_env (make one with `docker-watcher hash-password`)',
      );
    if (hash !== undefined) users.push({ name: user.name, passwordHash: hash, scopes: user.scopes });
  });
  const colon = server.listen.lastIndexOf(':');
  const port = Number(server.listen.slice(colon + 1));
  if (port > 65_535) problem('global.server.listen', 'the port must be at most 65535');
  const host = server.listen.slice(0, colon).replace(/^\[|\]$/g, '') || '0.0.0.0';

  // Projects.
  const projects: EngineProject[] = [];
  for (const [id, project] of Object.entries(file.projects)) {
    const built = resolveProject(id, project, file, problem);
    if (built) projects.push(built);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    file,
    raw,
    projects,
    registries,
    target: target!,
    ...(proxy ? { proxy } : {}),
    store: store!,
    ...(global.notification_url
      ? {
          notifier: {
            url: global.notification_url,
            ...(notificationSecret ? { secret: notificationSecret } : {}),
          },
        }
      : {}),
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
    listen: { host, port },
    pollIntervalMs: global.poll_interval_seconds * 1000,
    webhookBodyLimit: server.webhook_body_limit,
    shutdownTimeoutMs: server.shutdown_timeout_ms,
    ...(server.replica_name ? { replicaName: server.replica_name } : {}),
    secrets,
  };
}

function resolveProject(
  id: string,
  project: ProjectConfig,
  file: ConfigFile,
  problem: (path: string, message: string) => void,
): EngineProject | undefined {
  const path = `projects.${id}`;
  if (!file.registries[project.registry]) {
    const known = Object.keys(file.registries);
    problem(
      `${path}.registry`,
      `no registry named "${project.registry}"${known.length > 0 ? `; known: ${known.join(', ')}` : ''}`,
    );
  }
  const health =
    project.healthcheck === undefined
      ? undefined
      : typeof project.healthcheck === 'string'
        ? { ...defaultHealthCheck, path: project.healthcheck }
        : {
            intervalMs: project.healthcheck.interval_ms ?? defaultHealthCheck.intervalMs,
            timeoutMs: project.healthcheck.timeout_ms ?? defaultHealthCheck.timeoutMs,
            retries: project.healthcheck.retries ?? defaultHealthCheck.retries,
            startPeriodMs: project.healthcheck.start_period_ms ?? defaultHealthCheck.startPeriodMs,
            ...(project.healthcheck.path ? { path: project.healthcheck.path } : {}),
          };
  const stages: Record<string, EngineStage> = {};
  let valid = true;
  for (const [name, stage] of Object.entries(project.stages)) {
    const stagePath = `${path}.stages.${name}`;
    if (stage.promote_from !== undefined) {
      if (stage.promote_from === name) {
        problem(`${stagePath}.promote_from`, 'a stage cannot promote from itself');
        valid = false;
      } else if (!project.stages[stage.promote_from]) {
        problem(`${stagePath}.promote_from`, `no stage "${stage.promote_from}" in project ${id}`);
        valid = false;
      } else if (promotionLoops(project, name)) {
        problem(`${stagePath}.promote_from`, 'promotions must not go round in a circle');
        valid = false;
      }
    }
    if (stage.tag_pattern !== undefined && stage.policy !== undefined) {
      problem(`${stagePath}.policy`, 'set tag_pattern or policy, not both');
      valid = false;
      continue;
    }
    const [policyOptions, policyPath]: [TagPolicyOptions, string] =
      stage.policy !== undefined
        ? [stage.policy, `${stagePath}.policy`]
        : stage.tag_pattern !== undefined
          ? [fromTagPattern(stage.tag_pattern), `${stagePath}.tag_pattern`]
          : // registrywatcher's default, also what its `pinned_tag: ""` means: the newest vX.Y.Z.
            [fromRegistryWatcherPin(''), stagePath];
    let policy: EngineStage['policy'];
    try {
      policy = compileTagPolicy(policyOptions, { path: policyPath });
    } catch (error) {
      if (!isCoreError(error, 'CONFIG_INVALID') || !(error instanceof ConfigError)) throw error;
      for (const p of error.problems) {
        // `fromTagPattern` puts the glob under `pattern`: the user wrote `tag_pattern`.
        problem(stage.tag_pattern !== undefined ? policyPath : p.path, p.message);
      }
      valid = false;
      continue;
    }
    const domain = file.global.domain;
    const host = domain
      ? `${stage.subdomain ?? file.global.subdomain_pattern.replaceAll('{stage}', name).replaceAll('{project}', id)}.${domain}`
      : undefined;
    const env = { ...(project.env ?? {}), ...(stage.env ?? {}) };
    stages[name] = {
      policy,
      autoDeploy: stage.auto_deploy,
      ...(stage.confirm ? { confirm: true } : {}),
      ...(stage.promote_from ? { promoteFrom: stage.promote_from } : {}),
      ...(stage.pinned_tag?.trim() ? { pin: stage.pinned_tag.trim() } : {}),
      deploy: {
        image: project.image,
        ...(project.port ? { port: project.port } : {}),
        ...(Object.keys(env).length > 0 ? { env } : {}),
        ...(project.strategy ? { strategy: project.strategy } : {}),
        ...(health ? { health } : {}),
        ...(host ? { host } : {}),
      },
    };
  }
  if (!valid) return undefined;
  return {
    id,
    registry: project.registry,
    repository: project.repository ?? repositoryOf(project.image),
    stages,
  };
}

function promotionLoops(project: ProjectConfig, start: string): boolean {
  const seen = new Set<string>([start]);
  let current = project.stages[start]?.promote_from;
  while (current !== undefined) {
    if (seen.has(current)) return true;
    seen.add(current);
    current = project.stages[current]?.promote_from;
  }
  return false;
}

/** Parses and resolves YAML text; YAML syntax errors are problems too. */
export function loadConfigText(text: string, env: Environment = process.env): ResolvedConfig {
  const { value, problems } = parseYaml(text);
  if (problems.length > 0) throw new ConfigError(problems);
  return resolveConfig(value, env);
}

/** Reads, parses and resolves a config file. A missing file is a `ConfigError` naming it. */
export function loadConfigFile(file: string, env: Environment = process.env): ResolvedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError([{ path: '', message: `cannot read ${file}${code ? ` (${code})` : ''}` }]);
  }
  return loadConfigText(text, env);
}
