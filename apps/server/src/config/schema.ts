import { isIP } from 'node:net';
import { tagPolicyOptions } from '@docker-watcher/core';
import * as v from 'valibot';
import { notifyConfig } from './notify.ts';

const envName = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable, e.g. GITEA_TOKEN'),
);

const name = v.pipe(
  v.string(),
  v.regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, - and _'),
);

/** Adapter options passed through as they are; the adapter's own schema validates them. */
const adapterOptions = v.optional(
  v.pipe(
    v.record(v.string(), v.unknown()),
    v.description(
      "Further options of the adapter, as its README lists them (validated by the adapter's schema).",
    ),
  ),
);

export const registryTypes = ['oci', 'dockerhub', 'gitea', 'ghcr', 'memory'] as const;
export const targetTypes = ['docker', 'nomad', 'memory'] as const;
export const proxyTypes = ['npm', 'caddy', 'memory'] as const;
export const tokenScopes = ['read', 'deploy', 'admin'] as const;
export type TokenScope = (typeof tokenScopes)[number];

export const registryConfig = v.strictObject({
  type: v.pipe(
    v.picklist(registryTypes),
    v.description('Registry backend; `memory` is for tests and demos (it starts empty).'),
  ),
  url: v.optional(
    v.pipe(
      v.string(),
      v.description('Base URL of the registry (`dockerhub`: https://registry-1.docker.io by default).'),
    ),
  ),
  username: v.optional(v.pipe(v.string(), v.minLength(1), v.description('User for the registry.'))),
  token_env: v.optional(v.pipe(envName, v.description('Environment variable holding an access token.'))),
  password_env: v.optional(v.pipe(envName, v.description('Environment variable holding a password.'))),
  webhook_secret_env: v.optional(
    v.pipe(
      envName,
      v.description(
        'Environment variable holding the shared secret of incoming webhooks; without it the registry takes no webhooks.',
      ),
    ),
  ),
  options: adapterOptions,
});

const healthcheck = v.union([
  v.pipe(v.string(), v.startsWith('/', 'must be a path starting with /'), v.description('HTTP path probed.')),
  v.strictObject({
    path: v.optional(v.pipe(v.string(), v.startsWith('/', 'must be a path starting with /'))),
    interval_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(10))),
    timeout_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(10))),
    retries: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
    start_period_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  }),
]);

export const stageConfig = v.strictObject({
  tag_pattern: v.optional(
    v.pipe(v.string(), v.description('Glob the tag must match, e.g. `dev-*` or `v*` (newest by name).')),
  ),
  policy: v.optional(
    v.pipe(tagPolicyOptions, v.description('A full tag policy (semver range, include/exclude, extract…).')),
  ),
  pinned_tag: v.optional(
    v.pipe(
      v.string(),
      v.description(
        'Initial pin: this tag is deployed and its digest watched. Without `tag_pattern` or `policy`, the stage follows the newest vX.Y.Z tag (registrywatcher).',
      ),
    ),
  ),
  auto_deploy: v.optional(v.pipe(v.boolean(), v.description('Initial auto-deploy switch.')), false),
  confirm: v.optional(v.pipe(v.boolean(), v.description('A person confirms each release.')), false),
  promote_from: v.optional(
    v.pipe(name, v.description('Deploy only what succeeded in this other stage, by digest.')),
  ),
  subdomain: v.optional(
    v.pipe(name, v.description('Subdomain of `global.domain`, instead of `subdomain_pattern`.')),
  ),
  env: v.optional(v.record(v.string(), v.string())),
});

export const projectConfig = v.strictObject({
  registry: v.pipe(v.string(), v.description('Name of an entry of `registries`.')),
  image: v.pipe(
    v.string(),
    v.minLength(1),
    v.description('Image without tag, e.g. `git.example.com/team/web-app`.'),
  ),
  repository: v.optional(
    v.pipe(v.string(), v.description('Repository in the registry; by default the image without its host.')),
  ),
  port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65_535))),
  healthcheck: v.optional(healthcheck),
  strategy: v.optional(v.picklist(['blue-green', 'recreate'])),
  env: v.optional(v.record(v.string(), v.string())),
  stages: v.pipe(
    v.record(name, stageConfig),
    v.check((stages) => Object.keys(stages).length > 0, 'a project needs at least one stage'),
  ),
});

const adapterChoice = <const T extends readonly [string, ...string[]]>(types: T, description: string) =>
  v.pipe(
    v.looseObject({ type: v.picklist(types) }),
    v.description(
      `${description} Other keys are the adapter's options; \`*_env\` keys read the environment.`,
    ),
  );

export const tokenConfig = v.strictObject({
  name: name,
  token_env: envName,
  scopes: v.pipe(v.array(v.picklist(tokenScopes)), v.minLength(1, 'needs at least one scope')),
});

/** A bcrypt hash as `docker-watcher hash-password` prints it (`$2a$`, `$2b$` or `$2y$`, cost 4–31). */
export const bcryptHashPattern = /^\$2[aby]\$(?:0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

const notAHash = 'must be a bcrypt hash ($2b$…) from `docker-watcher hash-password`, never a password';

export const userConfig = v.strictObject({
  name: v.pipe(name, v.description('User name typed at the dashboard login.')),
  password_hash: v.optional(
    v.pipe(v.string(), v.regex(bcryptHashPattern, notAHash), v.description('bcrypt hash of the password.')),
  ),
  password_hash_env: v.optional(
    v.pipe(envName, v.description('Environment variable holding the bcrypt hash of the password.')),
  ),
  password: v.optional(
    v.pipe(
      v.never(
        'plain passwords are not accepted: put the output of `docker-watcher hash-password` in password_hash or password_hash_env',
      ),
      v.description('Not accepted: use password_hash or password_hash_env.'),
    ),
  ),
  scopes: v.pipe(v.array(v.picklist(tokenScopes)), v.minLength(1, 'needs at least one scope')),
});

/** An IP address or a CIDR range (`10.0.0.0/8`, `fd00::/8`). */
const addressOrRange = v.pipe(
  v.string(),
  v.check((value) => {
    const [address = '', prefix, ...rest] = value.split('/');
    const family = isIP(address);
    if (family === 0 || rest.length > 0) return false;
    if (prefix === undefined) return true;
    return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
  }, 'must be an IP address or a CIDR range, e.g. 10.0.0.0/8'),
);

const seconds = (min: number, description: string, fallback: number) =>
  v.optional(v.pipe(v.number(), v.integer(), v.minValue(min), v.description(description)), fallback);

export const sessionConfig = v.strictObject({
  idle_timeout_seconds: seconds(60, 'A dashboard session ends after this long without a request.', 1800),
  max_age_seconds: seconds(60, 'A dashboard session ends this long after the login, however active.', 43_200),
  secure_cookie: v.optional(
    v.pipe(
      v.union([v.boolean(), v.literal('auto')]),
      v.description(
        '`auto`: mark the session cookie Secure when the request came over HTTPS (directly, or by X-Forwarded-Proto from a trusted proxy).',
      ),
    ),
    'auto',
  ),
  trusted_proxies: v.optional(
    v.pipe(
      v.array(addressOrRange),
      v.description(
        'Peers (addresses or CIDR ranges) whose X-Forwarded-For, -Proto and -Host headers are believed.',
      ),
    ),
    [],
  ),
  login_max_failures: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.description('Failed logins per client address, and per user name, before 429.'),
    ),
    5,
  ),
  login_window_seconds: seconds(1, 'How long failed logins count.', 900),
});

export const serverConfig = v.strictObject({
  listen: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^(?:[^:]*|\[[0-9a-fA-F:]+\]):\d{1,5}$/, 'must be host:port, e.g. 0.0.0.0:8080'),
      v.description('Address the HTTP server listens on.'),
    ),
    '0.0.0.0:8080',
  ),
  tokens: v.optional(
    v.pipe(v.array(tokenConfig), v.description('API tokens; the token values come from the environment.')),
    [],
  ),
  users: v.optional(
    v.pipe(
      v.array(userConfig),
      v.description('Dashboard users; passwords only as bcrypt hashes (`docker-watcher hash-password`).'),
    ),
    [],
  ),
  session: v.optional(sessionConfig, {}),
  webhook_body_limit: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1024), v.description('Largest webhook body in bytes.')),
    1024 * 1024,
  ),
  shutdown_timeout_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 30_000),
  public_url: v.optional(
    v.pipe(
      v.string(),
      v.check(
        (value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol),
        'must be an http:// or https:// URL, e.g. https://deploy.example.com',
      ),
      v.description(
        'Where people reach this server (and its dashboard): notifications link to deploys and approvals there.',
      ),
    ),
  ),
  replica_name: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'must be letters, digits, . _ : - (at most 100)'),
      v.description(
        "This server's name among replicas sharing one store (leases). Default: host name and listen port, the same after a restart, so a restarted server resumes its own unfinished deploys at once.",
      ),
    ),
  ),
});

export const globalConfig = v.strictObject({
  domain: v.optional(v.pipe(v.string(), v.description('Domain the stage subdomains live under.'))),
  network: v.optional(v.pipe(v.string(), v.description('Docker network of the deployed containers.'))),
  subdomain_pattern: v.optional(
    v.pipe(
      v.string(),
      v.includes('{stage}', 'must contain {stage}'),
      v.description('Host name of a stage before `.domain`; `{stage}` and `{project}` are replaced.'),
    ),
    'stage-{stage}-{project}',
  ),
  target: v.optional(adapterChoice(targetTypes, 'Where deploys run (default: docker).'), { type: 'docker' }),
  proxy: v.optional(adapterChoice(proxyTypes, 'Reverse proxy that routes stage hosts.')),
  npm: v.optional(
    v.pipe(v.looseObject({}), v.description('Shorthand for `proxy: { type: npm, … }` (the plan’s form).')),
  ),
  notification_url: v.optional(
    v.pipe(v.string(), v.url(), v.description('Deploy events are POSTed here as JSON.')),
  ),
  notification_secret_env: v.optional(
    v.pipe(envName, v.description('Environment variable holding the HMAC key of notifications.')),
  ),
  store: v.optional(
    v.pipe(
      v.string(),
      v.regex(
        /^(?:sqlite:.+|postgres(?:ql)?:\/\/.+|memory:)$/,
        'must be sqlite:<file>, a postgres:// URL or memory:',
      ),
      v.description('Where state lives: `sqlite:<file>`, a PostgreSQL URL, or `memory:` (forgets on exit).'),
    ),
    'sqlite:./data/docker-watcher.db',
  ),
  store_env: v.optional(
    v.pipe(envName, v.description('Environment variable holding the store URL (overrides `store`).')),
  ),
  poll_interval_seconds: v.optional(
    v.pipe(v.number(), v.minValue(0), v.description('Poll period; 0 means webhooks only.')),
    60,
  ),
  server: v.optional(serverConfig, {}),
});

/** The whole YAML file. */
export const configSchema = v.strictObject({
  global: v.optional(globalConfig, {}),
  registries: v.pipe(
    v.record(name, registryConfig),
    v.description('Registries by name; projects refer to them.'),
  ),
  projects: v.pipe(v.record(name, projectConfig), v.description('Projects by id, each with its stages.')),
  notify: v.optional(notifyConfig),
});

export type ConfigInput = v.InferInput<typeof configSchema>;
export type ConfigFile = v.InferOutput<typeof configSchema>;
export type RegistryConfig = v.InferOutput<typeof registryConfig>;
export type ProjectConfig = v.InferOutput<typeof projectConfig>;
export type StageConfig = v.InferOutput<typeof stageConfig>;
