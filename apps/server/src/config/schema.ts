import { isIP } from 'node:net';
import { defaultDeployRetryBaseMs, maxRetryPauseMs, tagPolicyOptions } from '@docker-watcher/core';
import * as v from 'valibot';
import type { AdapterTables } from '../adapters.ts';
import { adapterSections } from './adapter-forms.ts';
import { envName, fileForm, fileObject, secretEntries } from './file-form.ts';
import { notifyConfig } from './notify.ts';

/**
 * The config file's schema: the server's own keys and, composed from the adapters loaded, their
 * options in the file's form (snake_case, secrets as `*_env` / `*_file`). The single source of the
 * loader's validation, the JSON Schema and the reference document.
 */

const name = v.pipe(
  v.string(),
  v.regex(
    /^[a-z0-9][a-z0-9_-]*$/,
    'must be lower-case letters, digits, - and _ (starting with a letter or digit)',
  ),
);

const domainPart = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?';
const pathPart = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
/** Docker's reference grammar without tag or digest: `[host[:port]/]path/of/lower-case/parts`. */
const imagePattern = new RegExp(
  `^(?:${domainPart}(?:\\.${domainPart})*(?::[0-9]+)?/)?${pathPart}(?:/${pathPart})*$`,
);

const image = v.pipe(
  v.string(),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed || imagePattern.test(dataset.value)) return;
    const untagged = dataset.value.replace(/(?:@sha256:[a-f0-9]{64}|:\w[\w.-]{0,127})$/, '');
    addIssue({
      message:
        untagged !== dataset.value && imagePattern.test(untagged)
          ? "must not carry a tag or digest: the stage's policy picks the tag"
          : 'must be an image name such as registry.example.com/team/web-app (host[:port]/ then lower-case path parts; no spaces, no empty parts)',
    });
  }),
  v.description('Image without tag, e.g. `git.example.com/team/web-app`.'),
  v.examples(['git.example.com/team/web-app']),
);

export const tokenScopes = ['read', 'deploy', 'admin'] as const;
export type TokenScope = (typeof tokenScopes)[number];
export const logLevels = ['debug', 'info', 'warn', 'error'] as const;

const healthcheck = v.union([
  v.pipe(v.string(), v.startsWith('/', 'must be a path starting with /'), v.description('HTTP path probed.')),
  v.strictObject({
    path: v.optional(
      v.pipe(
        v.string(),
        v.startsWith('/', 'must be a path starting with /'),
        v.description(
          'HTTP path probed; without it the image\'s own HEALTHCHECK or "still running" decides.',
        ),
      ),
    ),
    interval_ms: v.optional(
      v.pipe(
        v.number(),
        v.integer(),
        v.minValue(10),
        v.description(
          'Longest pause between probes: the gate probes right after the start, then after 10 ms doubling up to this. A failed probe counts toward `retries` at most once per interval.',
        ),
      ),
      1_000,
    ),
    timeout_ms: v.optional(
      v.pipe(v.number(), v.integer(), v.minValue(10), v.description('Time limit of one probe.')),
      2_000,
    ),
    retries: v.optional(
      v.pipe(
        v.number(),
        v.integer(),
        v.minValue(1),
        v.description('Failed probes, counted at most one per `interval_ms`, that fail the gate.'),
      ),
      3,
    ),
    start_period_ms: v.optional(
      v.pipe(
        v.number(),
        v.integer(),
        v.minValue(0),
        v.description('Failures in this first period do not count.'),
      ),
      0,
    ),
  }),
]);

const nonEmpty = v.pipe(v.string(), v.minLength(1, 'must not be empty'));

/** What the containers of a project get; a stage may override each. */
const containerEntries = {
  port: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.maxValue(65_535),
      v.description("Container port that serves traffic; default: the image's lowest EXPOSEd port."),
      v.examples([3000]),
    ),
  ),
  healthcheck: v.optional(
    v.pipe(
      healthcheck,
      v.description('Health gate of a new release: an HTTP path (`/api/health`) or its settings.'),
      v.examples(['/api/health']),
    ),
  ),
  env: v.optional(
    v.pipe(
      v.record(
        v.pipe(v.string(), v.regex(/^[^=\s]+$/, 'must be a variable name without `=` or spaces')),
        v.string(),
      ),
      v.description("Environment of the containers; a stage's `env` adds to (and overrides) the project's."),
    ),
  ),
  env_file: v.optional(
    v.pipe(
      v.union([nonEmpty, v.array(nonEmpty)]),
      v.description(
        'File(s) of `KEY=VALUE` lines (Docker `--env-file` syntax) for the containers, relative to the config file, read at each start (docker target); `env` wins over them.',
      ),
      v.examples(['./envs/web-app.env']),
    ),
  ),
  volumes: v.optional(
    v.pipe(
      v.array(
        v.pipe(
          v.string(),
          v.regex(/^[^:]+:\/[^:]*(:[a-z,]+)?$/, 'must be `source:/container/path` with optional `:ro`'),
        ),
      ),
      v.description(
        'Bind mounts or named volumes in `docker run -v` syntax (`./data:/data`, `app-data:/data:ro`); relative sources are relative to the config file (docker target).',
      ),
      v.examples([['./data:/data']]),
    ),
  ),
};

const policyForm = fileForm(tagPolicyOptions, []);

export const stageConfig = fileObject({
  tag_pattern: v.optional(
    v.pipe(
      v.string(),
      v.description('Glob the tag must match, e.g. `dev-*` or `v*` (newest by name).'),
      v.examples(['dev-*', 'v*']),
    ),
  ),
  policy: v.optional(
    v.pipe(
      policyForm,
      v.description(
        'A full tag policy (semver range, include/exclude regexes, extract…), instead of `tag_pattern`.',
      ),
    ),
  ),
  pinned_tag: v.optional(
    v.pipe(
      v.string(),
      v.description(
        'Initial pin: this tag is deployed and its digest watched. Without `tag_pattern` or `policy`, the stage follows the newest vX.Y.Z tag (registrywatcher).',
      ),
    ),
  ),
  auto_deploy: v.optional(
    v.pipe(
      v.boolean(),
      v.description(
        'Initial auto-deploy switch. `false`: a new allowed release waits for a person (a pending release, notified); `true`: it is deployed at once.',
      ),
    ),
    false,
  ),
  confirm: v.optional(
    v.pipe(
      v.boolean(),
      v.description(
        'A person confirms each new release (an approval) before it is deployed; the confirmation is the manual trigger.',
      ),
    ),
    false,
  ),
  promote_from: v.optional(
    v.pipe(name, v.description('Deploy only what succeeded in this other stage, by digest.')),
  ),
  target: v.optional(
    v.pipe(
      v.union([
        name,
        v.looseObject({
          name: v.optional(
            v.pipe(name, v.description('The target, by its name in `targets`. Default: `global.target`.')),
          ),
        }),
      ]),
      v.description(
        "The deploy target of this stage, by its name in `targets` (so `dev` can run on Docker and `prod` on Nomad), or `{ name, ...options }` with the options this stage gives that target (its stage options: a Docker stage's `publish`, `env`, `labels`…). Default: `global.target`, without stage options.",
      ),
      v.examples(['nomad', { name: 'docker', publish: 8080 }]),
    ),
  ),
  subdomain: v.optional(
    v.pipe(
      v.string(),
      v.regex(
        /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/,
        'must be a host name part: lower-case letters, digits, - and .',
      ),
      v.description('Subdomain of `global.domain` for this stage, instead of `subdomain_pattern`.'),
    ),
  ),
  ...containerEntries,
});

function stepDeadline(what: string, fallback: number) {
  return v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(100, 'must be at least 100 ms'),
      v.description(`${what} Default: ${fallback} ms.`),
    ),
  );
}

/** The first pause before a release whose deploy failed for reasons of ours is tried again. */
const retryPause = (scope: string) =>
  v.pipe(
    v.number(),
    v.integer(),
    v.minValue(100, 'must be at least 100 ms'),
    v.maxValue(
      maxRetryPauseMs,
      `must be at most ${maxRetryPauseMs} ms (30 min, the longest pause between retries)`,
    ),
    v.description(
      `First pause before a release whose deploy failed for reasons of ours (Docker Engine, proxy or store faults, a step past its deadline, a restart, a cancel) is tried again; it doubles with each such failure in a row, up to 30 min. A release that failed on its own merits is never retried on its own. ${scope}`,
    ),
    v.examples([10_000]),
  );

export const projectConfig = fileObject({
  registry: v.pipe(v.string(), v.description('Name of an entry of `registries`.')),
  image,
  repository: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1),
      v.description('Repository in the registry; by default the image without its host.'),
    ),
  ),
  strategy: v.optional(
    v.pipe(
      v.picklist(['blue-green', 'recreate']),
      v.description('How a release replaces the running one; default: blue-green where the target can.'),
    ),
  ),
  ...containerEntries,
  deadlines: v.optional(
    v.pipe(
      fileObject({
        pull_ms: stepDeadline('Pulling the image.', 600_000),
        start_ms: stepDeadline('Creating and starting the new container.', 120_000),
        probe_ms: stepDeadline('One health probe, or reading a log.', 30_000),
        switch_ms: stepDeadline("Reading or switching the proxy's route.", 60_000),
        stop_ms: stepDeadline('Stopping or removing a container, or listing the stage.', 120_000),
        rollback_ms: stepDeadline('The whole rollback, its retries included.', 180_000),
        promotion_ms: stepDeadline(
          "Waiting for the approval of a canary promotion (a target's `promote: confirm`), and the promotion itself.",
          3_600_000,
        ),
      }),
      v.description(
        'How long each step of a deploy may take before it fails with `TIMEOUT`: an infrastructure fault, so the release is tried again later, never held back. A Docker Engine or proxy that accepts a call and never answers holds a deploy no longer.',
      ),
      v.examples([{ pull_ms: 300_000 }]),
    ),
  ),
  retry_pause_ms: v.optional(retryPause('Default: `global.retry_pause_ms`.')),
  stages: v.pipe(
    v.record(name, stageConfig),
    v.check((stages) => Object.keys(stages).length > 0, 'a project needs at least one stage'),
    v.description('Stages by name (`dev`, `rel`, `prod`…), each with its own policy and gates.'),
  ),
});

export const tokenConfig = fileObject(
  {
    name: v.pipe(name, v.description('Name of the token in the audit log.')),
    ...secretEntries(
      'token',
      v.pipe(v.string(), v.minLength(16, 'is too short (at least 16 characters)')),
      'The API token (at least 16 characters); the server keeps only its SHA-256.',
    ),
    scopes: v.pipe(
      v.array(v.picklist(tokenScopes)),
      v.minLength(1, 'needs at least one scope'),
      v.description('`read` (GET), `deploy` (changes), `admin` (all).'),
    ),
  },
  ['token'],
);

/** A bcrypt hash as `docker-watcher hash-password` prints it (`$2a$`, `$2b$` or `$2y$`, cost 4–31). */
export const bcryptHashPattern = /^\$2[aby]\$(?:0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

const notAHash = 'must be a bcrypt hash ($2b$…) from `docker-watcher hash-password`, never a password';

export const userConfig = fileObject({
  name: v.pipe(name, v.description('User name typed at the dashboard login.')),
  ...secretEntries(
    'password_hash',
    v.pipe(v.string(), v.regex(bcryptHashPattern, notAHash)),
    'bcrypt hash of the password (`docker-watcher hash-password`).',
    { warnPlain: false },
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

export const listenPattern = /^(?:[^:]*|\[[0-9a-fA-F:]+\]):\d{1,5}$/;

export const serverConfig = v.strictObject({
  listen: v.optional(
    v.pipe(
      v.string(),
      v.regex(listenPattern, 'must be host:port, e.g. 0.0.0.0:8080'),
      v.description('Address the HTTP server listens on (`DOCKER_WATCHER_LISTEN` overrides it).'),
    ),
    '0.0.0.0:8080',
  ),
  log_level: v.optional(
    v.pipe(
      v.picklist(logLevels),
      v.description('Lowest level logged (`DOCKER_WATCHER_LOG_LEVEL` overrides it).'),
    ),
    'info',
  ),
  tokens: v.optional(
    v.pipe(
      v.array(tokenConfig),
      v.description('API tokens; their values come from the environment or files.'),
    ),
    [],
  ),
  users: v.optional(
    v.pipe(
      v.array(userConfig),
      v.description('Dashboard users; passwords only as bcrypt hashes (`docker-watcher hash-password`).'),
    ),
    [],
  ),
  session: v.optional(
    v.pipe(sessionConfig, v.description("Dashboard sessions and the login's rate limit.")),
    {},
  ),
  webhook_body_limit: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1024), v.description('Largest webhook body in bytes.')),
    1024 * 1024,
  ),
  shutdown_timeout_ms: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(0),
      v.description('How long a shutdown waits for running deploys to reach a safe state.'),
    ),
    30_000,
  ),
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

const globalConfig = (adapters: ReturnType<typeof adapterSections>) =>
  fileObject({
    domain: v.optional(
      v.pipe(v.string(), v.description('Domain the stage hosts live under.'), v.examples(['example.com'])),
    ),
    network: v.optional(
      v.pipe(
        v.string(),
        v.description('Docker network of the deployed containers (docker target; same as `target.network`).'),
      ),
    ),
    instance: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, 'must be letters, digits, `_`, `.` or `-` (at most 63)'),
        v.description(
          "This server's name on the Docker Engine (docker target; same as `target.instance`): its containers carry it as the `docker-watcher.instance` label, and it lists, adopts and retires only those (and unlabelled ones, from before the label), so that two servers on one engine keep to their own. Replicas on one store share it. Default: derived from the store (`dw-` and a hash of the SQLite file's absolute path or the PostgreSQL host, port and database): set it before moving the store.",
        ),
        v.examples(['staging-server']),
      ),
    ),
    subdomain_pattern: v.optional(
      v.pipe(
        v.string(),
        v.includes('{stage}', 'must contain {stage}'),
        v.description('Host name of a stage before `.domain`; `{stage}` and `{project}` are replaced.'),
      ),
      'stage-{stage}-{project}',
    ),
    target: v.optional(adapters.target, { type: 'docker' }),
    proxy: v.optional(adapters.proxy),
    npm: v.optional(adapters.npm),
    notification_url: v.optional(
      v.pipe(
        v.string(),
        v.url('must be a URL such as https://notify.example.com/webhook'),
        v.description('Deploy events are POSTed here as JSON.'),
      ),
    ),
    ...secretEntries(
      'notification_secret',
      v.pipe(v.string(), v.minLength(1)),
      "HMAC key of the notifications' `X-Docker-Watcher-Signature`.",
    ),
    ...secretEntries(
      'store',
      adapters.store,
      'Where state lives: `sqlite:<file>` (default `sqlite:./data/docker-watcher.db`), a PostgreSQL URL, `memory:`, or `{ type, …options }` (`DOCKER_WATCHER_STORE` overrides it).',
      { warnPlain: false },
    ),
    poll_interval_seconds: v.optional(
      v.pipe(
        v.number(),
        v.minValue(0),
        v.description(
          'Poll period, a fixed rate: a cycle starts every period however long the last one took (one that runs past the next start skips the starts it missed); 0 means webhooks only (`DOCKER_WATCHER_POLL_INTERVAL` overrides it).',
        ),
      ),
      60,
    ),
    retry_pause_ms: v.optional(
      retryPause("A project's own `retry_pause_ms` wins."),
      defaultDeployRetryBaseMs,
    ),
    webhook_coalesce_ms: v.optional(
      v.pipe(
        v.number(),
        v.integer(),
        v.minValue(0),
        v.maxValue(10_000, 'must be at most 10000 ms'),
        v.description(
          'A registry notification that arrives alone is looked at at once; the ones that follow a look within this window (the rest of a multi-platform push, several tags) cost one more registry listing at its end, however many. 0 looks at every notification.',
        ),
        v.examples([250]),
      ),
      250,
    ),
    server: v.optional(
      v.pipe(serverConfig, v.description('The HTTP server: listen address, tokens, users, limits.')),
      {},
    ),
    label_mode: v.optional(labelModeConfig),
  });

/** Containers people run and label, kept up to date in place (`docker-watcher.enable=true`). */
export const labelModeConfig = v.pipe(
  v.strictObject({
    enabled: v.optional(
      v.pipe(
        v.boolean(),
        v.description(
          'Watch the Docker Engine of `global.target` (type docker) for containers labelled `docker-watcher.enable=true` (or Watchtower’s and What’s Up Docker’s labels); each becomes a project-stage updated in place, live as containers come and go. Default false.',
        ),
      ),
      false,
    ),
    watch_all: v.optional(
      v.pipe(
        v.boolean(),
        v.description(
          'Watch every container unless it is labelled `docker-watcher.enable=false`. Default false.',
        ),
      ),
      false,
    ),
    scope: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[A-Za-z0-9_.-]{1,63}$/, 'must be letters, digits, _ . - (at most 63)'),
        v.description(
          'Watch only containers labelled `docker-watcher.scope=<scope>`, so several servers on one engine keep to their own. Default: every container.',
        ),
      ),
    ),
    resync_seconds: v.optional(
      v.pipe(
        v.number(),
        v.integer(),
        v.minValue(1),
        v.description(
          'Besides following the engine’s events, look at all containers this often (a missed event, a reconnect). Default 60.',
        ),
      ),
      60,
    ),
    insecure_registries: v.optional(
      v.pipe(
        v.array(v.pipe(v.string(), v.regex(/^[A-Za-z0-9.-]+(:\d+)?$/, 'must be a host or host:port'))),
        v.description(
          'Registry hosts (`host:port`) of labelled containers’ images reached over plain HTTP; loopback hosts always are. A host named in `registries` (by its URL) uses that registry and its credentials instead.',
        ),
      ),
      [],
    ),
    keep_previous_image: v.optional(
      v.pipe(
        v.union(
          [v.pipe(v.number(), v.integer(), v.minValue(0)), v.literal(false), v.literal('never')],
          'must be whole seconds (0 or more), false or never',
        ),
        v.description(
          'Seconds the image a container ran before an in-place update stays once the new container passed its gate (so a rollback in that time needs no registry); then it is removed unless a container uses it or something else names it. 0 removes it at once; `false` or `never` keeps it. Default 600.',
        ),
      ),
      600,
    ),
  }),
  v.description('Label mode: keep the containers you already run up to date, opted in by Docker labels.'),
);

function buildConfigSchema(adapters: AdapterTables) {
  const sections = adapterSections(adapters);
  return fileObject({
    global: v.optional(v.pipe(globalConfig(sections), v.description('Settings for every project.')), {}),
    registries: v.pipe(
      v.record(name, sections.registry),
      v.description('Registries by name; projects refer to them.'),
    ),
    targets: v.optional(
      v.pipe(
        v.record(name, sections.target),
        v.description(
          'Named deploy targets, each `{ type, ...options }` like `global.target`; a stage names its own with `target`. Stages that name none run on `global.target`.',
        ),
      ),
    ),
    projects: v.pipe(v.record(name, projectConfig), v.description('Projects by id, each with its stages.')),
    notify: v.optional(notifyConfig),
  });
}

export type ConfigSchema = ReturnType<typeof buildConfigSchema>;
const built = new Map<string, ConfigSchema>();

/**
 * The whole YAML file's schema for the adapters loaded (the same adapters give the same schema
 * object): the loader's, for the types a file names; the JSON Schema's and reference's, for all.
 */
export function configSchemaFor(adapters: AdapterTables): ConfigSchema {
  const key = Object.entries(adapters)
    .map(([kind, table]) => `${kind}:${[...(table as ReadonlyMap<string, unknown>).keys()].sort().join(',')}`)
    .join(' ');
  let schema = built.get(key);
  if (!schema) {
    schema = buildConfigSchema(adapters);
    built.set(key, schema);
  }
  return schema;
}

export { storeUrlPattern } from './adapter-forms.ts';
export { envName };
export type ConfigInput = v.InferInput<ConfigSchema>;
export type ConfigFile = v.InferOutput<ConfigSchema>;
export type ProjectConfig = v.InferOutput<typeof projectConfig>;
export type StageConfig = v.InferOutput<typeof stageConfig>;
