import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import {
  type DeployTarget,
  type DeployTargetDefinition,
  legacyStageOptionsNote,
  type Registry,
  type RegistryLimits,
  type ReverseProxy,
  type StateStore,
} from '@docker-watcher/core';
import type { AdapterNeeds } from '../adapters.ts';
import {
  type AdapterContext,
  type AdapterSpec,
  adapterSpec,
  originMessage,
  type ResolveContext,
} from './context.ts';
import { registryLimitsOf } from './registry-limits.ts';

type Section = Record<string, unknown>;

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Credentials a registry holds, by the host Docker names its images with. */
export interface RegistryCredentials {
  readonly host: string;
  readonly username: string;
  readonly password: string;
}

const hostOf = (url: string | undefined): string | undefined => {
  if (url === undefined || !URL.canParse(url)) return undefined;
  const host = new URL(url).host;
  return host === 'registry-1.docker.io' || host === 'index.docker.io' ? 'docker.io' : host;
};

/**
 * The plan's spellings of a registry's options -> the adapter's: `token` and `password` are one
 * secret, `webhook_secret` is the OCI base's `webhook.secret`, GHCR's `url` its `registry_url`.
 */
function registryOptions(ctx: ResolveContext, type: string, registry: Section, path: string) {
  const {
    type: _type,
    options: _options,
    concurrency: _concurrency,
    rate_limit: _rateLimit,
    ...rest
  } = registry;
  const alias = (from: string, to: string) => {
    if (rest[from] === undefined) return;
    if (rest[to] !== undefined) ctx.problem(`${path}.${from}`, `set ${from} or ${to}, not both`);
    else rest[to] = rest[from];
    delete rest[from];
  };
  if (type === 'oci' || type === 'dockerhub') {
    alias('token', 'password');
    if (rest.webhook_secret !== undefined) {
      if (rest.webhook !== undefined)
        ctx.problem(`${path}.webhook_secret`, 'set webhook_secret or webhook, not both');
      else rest.webhook = { secret: rest.webhook_secret };
      delete rest.webhook_secret;
    }
  }
  if (type === 'gitea' || type === 'ghcr') alias('password', 'token');
  if (type === 'ghcr') alias('url', 'registry_url');
  return rest;
}

function credentialsOf(type: string, options: Section): RegistryCredentials | undefined {
  const secret = str(options.password) ?? str(options.token);
  if (secret === undefined) return undefined;
  const host =
    type === 'dockerhub'
      ? 'docker.io'
      : type === 'gitea'
        ? hostOf(str(options.registry_url) ?? str(options.url))
        : type === 'ghcr'
          ? hostOf(str(options.registry_url) ?? 'https://ghcr.io')
          : hostOf(str(options.url));
  if (host === undefined) return undefined;
  // Gitea tells a token by itself; the registry's Basic auth still wants some user name.
  const username = str(options.username) ?? (type === 'gitea' ? 'docker-watcher' : undefined);
  return username === undefined ? undefined : { host, username, password: secret };
}

export function resolveRegistries(ctx: AdapterContext, registries: Readonly<Record<string, Section>>) {
  const specs: Record<string, AdapterSpec<'registry', Registry>> = Object.create(null);
  const limits: Record<string, RegistryLimits> = Object.create(null);
  const credentials: RegistryCredentials[] = [];
  for (const [name, registry] of Object.entries(registries)) {
    const path = `registries.${name}`;
    const type = String(registry.type);
    const options = registryOptions(ctx, type, registry, path);
    const spec = adapterSpec<'registry', Registry>(ctx, 'registry', type, options, path);
    if (!spec) continue;
    specs[name] = spec;
    limits[name] = registryLimitsOf(registry);
    const found = credentialsOf(type, options);
    if (found) credentials.push(found);
  }
  return { registries: specs, registryLimits: limits, credentials };
}

export interface TargetInput {
  readonly target: Section;
  /** Where it is configured: `global.target` or `targets.<name>`. */
  readonly path: string;
  /** `global.network`, when the file sets it. */
  readonly network?: string;
  /** Whether the file's target section sets its own network. */
  readonly targetSetsNetwork: boolean;
  /** `global.instance`, or the one derived from the store: the docker target's `instance` unless it sets its own. */
  readonly instance?: string;
  readonly credentials: readonly RegistryCredentials[];
}

export function resolveTarget(
  ctx: AdapterContext,
  input: TargetInput,
): AdapterSpec<'target', DeployTarget> | undefined {
  const { type, reuse_registry_credentials: reuse, ...options } = input.target;
  const legacy = (ctx.adapters.target.get(String(type))?.definition as DeployTargetDefinition | undefined)
    ?.legacyStageOptions;
  if (legacy && options[legacy.key] !== undefined)
    ctx.warn(`${input.path}.${legacy.key}`, legacyStageOptionsNote);
  if (type !== 'docker') {
    if (input.network !== undefined)
      ctx.warn(
        'global.network',
        `does nothing with the ${String(type)} target${input.path === 'global.target' ? '' : ` of ${input.path}`} (it applies to the docker target)`,
      );
    return adapterSpec<'target', DeployTarget>(ctx, 'target', String(type), options, input.path);
  }
  if (input.network !== undefined && !input.targetSetsNetwork) options.network = input.network;
  if (input.instance !== undefined && options.instance === undefined) options.instance = input.instance;
  if (reuse !== false && input.credentials.length > 0) {
    const auth: Section = { ...((options.auth as Section | undefined) ?? {}) };
    for (const found of input.credentials) {
      if (auth[found.host] === undefined)
        auth[found.host] = { username: found.username, password: found.password };
    }
    options.auth = auth;
  }
  return adapterSpec<'target', DeployTarget>(ctx, 'target', 'docker', options, input.path);
}

export function resolveProxy(
  ctx: AdapterContext,
  proxy: Section | undefined,
  npm: Section | undefined,
): AdapterSpec<'proxy', ReverseProxy> | undefined {
  if (proxy && npm) {
    ctx.problem('global.npm', 'set global.proxy or global.npm, not both');
    return undefined;
  }
  if (npm) return adapterSpec<'proxy', ReverseProxy>(ctx, 'proxy', 'npm', npm, 'global.npm');
  if (!proxy) return undefined;
  const { type, ...options } = proxy;
  return adapterSpec<'proxy', ReverseProxy>(ctx, 'proxy', String(type), options, 'global.proxy');
}

export const defaultStore = 'sqlite:./data/docker-watcher.db';

/** The store type a `global.store` URL names. */
const storeTypeOf = (url: string) =>
  url.startsWith('sqlite:')
    ? 'sqlite'
    : url === 'memory:'
      ? 'memory'
      : /^postgres(ql)?:\/\//.test(url)
        ? 'postgres'
        : undefined;

const isMapping = (value: unknown): value is Section =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const typeOf = (section: unknown) =>
  isMapping(section) && typeof section.type === 'string' ? [section.type] : [];

/**
 * The adapter types a file names (after the environment, defaults and secrets are applied): the
 * ones to load. A type written wrongly is left to the schema, which says so at its path.
 */
export function namedAdapters(file: unknown): AdapterNeeds {
  const root = isMapping(file) ? file : {};
  const global = isMapping(root.global) ? root.global : {};
  const registries = isMapping(root.registries) ? Object.values(root.registries) : [];
  const store = global.store ?? defaultStore;
  const storeType = typeof store === 'string' ? storeTypeOf(store) : undefined;
  return {
    registry: registries.flatMap(typeOf),
    target: [
      ...(global.target === undefined ? ['docker'] : typeOf(global.target)),
      ...(isMapping(root.targets) ? Object.values(root.targets).flatMap(typeOf) : []),
    ],
    proxy: [...typeOf(global.proxy), ...(global.npm === undefined ? [] : ['npm'])],
    store: storeType ? [storeType] : typeOf(store),
  };
}

/**
 * The server's default `global.instance`: the same for every replica on one store and after a
 * restart, different for two servers with stores of their own. Never holds a password.
 */
export function instanceOfStore(store: string | Section | undefined): string {
  const value = store ?? defaultStore;
  const section = typeof value === 'string' ? undefined : value;
  const type = section ? String(section.type) : storeTypeOf(value as string);
  let where: string;
  if (type === 'sqlite') {
    const path = section ? String(section.path ?? '') : (value as string).slice(7);
    where = path === ':memory:' ? `memory:${hostname()}` : `sqlite:${resolvePath(path)}`;
  } else if (type === 'postgres') {
    const url = section ? String(section.url ?? '') : (value as string);
    try {
      const parsed = new URL(url);
      where = `postgres:${parsed.hostname.toLowerCase()}:${parsed.port || '5432'}${parsed.pathname}`;
    } catch {
      where = 'postgres:';
    }
  } else {
    // A store of one process: its containers are this host's.
    where = `memory:${hostname()}`;
  }
  return `dw-${createHash('sha256').update(where).digest('hex').slice(0, 12)}`;
}

export function resolveStore(
  ctx: AdapterContext,
  store: string | Section | undefined,
  path: string,
): AdapterSpec<'store', StateStore> | undefined {
  const value = store ?? defaultStore;
  if (typeof value !== 'string') {
    const { type, ...options } = value;
    return adapterSpec<'store', StateStore>(ctx, 'store', String(type), options, path);
  }
  const before = ctx.problems.length;
  const type = storeTypeOf(value);
  const options = type === 'sqlite' ? { path: value.slice(7) } : type === 'postgres' ? { url: value } : {};
  const spec = type ? adapterSpec<'store', StateStore>(ctx, 'store', type, options, path) : undefined;
  // The user wrote one URL: its problems belong to it (or to the variable it came from).
  const origin = ctx.origins.get(path);
  for (let i = before; i < ctx.problems.length; i++) {
    const { message } = ctx.problems[i]!;
    ctx.problems[i] = origin
      ? { path: origin.path, message: originMessage(origin, message) }
      : { path, message };
  }
  if (spec || ctx.problems.length > before) return spec;
  ctx.problem(path, 'must be sqlite:<file>, a postgres:// URL or memory:');
  return undefined;
}
