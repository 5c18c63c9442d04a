import * as v from 'valibot';
import { labels as ownLabels } from './_names.ts';

const reservedLabels: ReadonlySet<string> = new Set(Object.values(ownLabels));

const port = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65_535));

/** `512m`, `1g`, `1.5g`, `268435456` (bytes). */
const memoryPattern = /^\d+(\.\d+)?\s*[bkmg]?$/i;

const nonEmpty = v.pipe(v.string(), v.minLength(1));

/** What a container gets; set for the whole target and overridden per stage. */
const containerSettingsEntries = {
  env: v.optional(
    v.pipe(
      v.record(v.pipe(v.string(), v.regex(/^[^=\s]+$/, 'must be a variable name without `=`')), v.string()),
      v.description(
        'Environment of the containers. Wins over `envFiles`; the stage settings of the engine (`env`) win over it.',
      ),
    ),
  ),
  envFiles: v.optional(
    v.pipe(
      v.array(nonEmpty),
      v.description(
        'Files of `KEY=VALUE` lines (Docker `--env-file` syntax, `#` comments, optional quotes), read at each start; later files win.',
      ),
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
        'Bind mounts or named volumes in `docker run -v` syntax (`/srv/data:/data:ro`, `app-data:/data`).',
      ),
    ),
  ),
  restartPolicy: v.optional(
    v.pipe(
      v.picklist(['no', 'always', 'unless-stopped', 'on-failure']),
      v.description('Docker restart policy of the containers; `unless-stopped` when unset.'),
    ),
  ),
  memory: v.optional(
    v.pipe(
      v.union([
        v.pipe(v.number(), v.integer(), v.minValue(4 * 1024 * 1024)),
        v.pipe(v.string(), v.regex(memoryPattern, 'must be bytes or a size such as `512m` or `1g`')),
      ]),
      v.description('Memory limit: bytes, or a size with `k`, `m`, `g` (`512m`). No limit when unset.'),
    ),
  ),
  cpus: v.optional(
    v.pipe(
      v.number(),
      v.minValue(0.01),
      v.description('CPU limit in cores (`0.5`, `2`), as `docker run --cpus`. No limit when unset.'),
    ),
  ),
  labels: v.optional(
    v.pipe(
      v.record(
        v.pipe(
          v.string(),
          v.minLength(1),
          v.check(
            (key) => !reservedLabels.has(key),
            'is one of the labels the target sets itself (`docker-watcher.project`, `.stage`, `.release`, `.digest`, `.deploy-id`, `.image`, `.port`, `.managed`, `.instance`)',
          ),
        ),
        v.string(),
      ),
      v.description(
        'Extra labels on the containers (and, at the top level, on the network the target creates).',
      ),
    ),
  ),
  publish: v.optional(
    v.pipe(
      v.union([v.boolean(), port]),
      v.description(
        '`true` publishes the container port on a random port of `publishHost`, a number on that fixed host port; with `endpoint: address` the endpoint is then `publishHost:port`, otherwise (`false`, the default) the container address on `network`. A fixed port rules out blue-green (two releases cannot hold it).',
      ),
    ),
  ),
};

export const dockerContainerSettings = v.strictObject(containerSettingsEntries);

/** Container settings of the whole target or of one stage, as written by users. */
export type DockerContainerSettings = v.InferInput<typeof dockerContainerSettings>;

const pem = (what: string) =>
  v.pipe(
    v.string(),
    v.includes('-----BEGIN', 'must be PEM text (`-----BEGIN …`), not a file path'),
    v.description(what),
  );

export const dockerTargetOptions = v.strictObject({
  socketPath: v.optional(
    v.pipe(
      nonEmpty,
      v.description(
        'Unix socket of the engine. Default: `DOCKER_HOST` when set, else `/var/run/docker.sock`. Podman: `/run/podman/podman.sock` (root) or `$XDG_RUNTIME_DIR/podman/podman.sock`.',
      ),
    ),
  ),
  dockerHost: v.optional(
    v.pipe(
      v.string(),
      v.regex(
        /^(tcp|http|https|ssh):\/\/[^/\s]+\/?$/,
        'must be `tcp://host:port`, `https://host:port` or `ssh://user@host`',
      ),
      v.description(
        'Remote engine, as `DOCKER_HOST`: `tcp://host:2375`, `tcp://host:2376` or `https://…` with `tls`, `ssh://user@host` (uses `SSH_AUTH_SOCK`). Wins over `socketPath`.',
      ),
    ),
  ),
  tls: v.optional(
    v.pipe(
      v.strictObject({
        ca: pem('CA certificate (PEM) the engine certificate is checked against.'),
        cert: pem('Client certificate (PEM).'),
        key: pem('Client private key (PEM; a secret: never logged, never in errors).'),
      }),
      v.description('Mutual TLS for a `tcp://` or `https://` `dockerHost` (as `DOCKER_CERT_PATH`).'),
    ),
  ),
  apiVersion: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^v\d+\.\d+$/, 'must look like `v1.41`'),
      v.description('Engine API version to speak (`v1.41`); negotiated by the engine when unset.'),
    ),
  ),
  instance: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, 'must be letters, digits, `_`, `.` or `-` (at most 63)'),
      v.description(
        'Who owns the containers: written as the `docker-watcher.instance` label, and only containers with this label (or with none, from before it) are listed, adopted and retired, so that two servers on one engine keep to their own. Without it, every managed container is listed. The server sets it from `global.instance`.',
      ),
    ),
  ),
  network: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'must be a Docker network name'),
      v.description(
        'Shared network every container joins (created as a labelled bridge network when missing); put the reverse proxy on it too.',
      ),
    ),
    'docker-watcher',
  ),
  endpoint: v.optional(
    v.pipe(
      v.picklist(['address', 'name']),
      v.description(
        "What an instance's endpoint (the proxy's upstream) is. `address` (the default): the published port (`publish`), else the container's IP address on `network`; a container the daemon restarts may come back on another one, and the engine re-points its route when the target reports the restart. `name`: the container's name and port, which Docker's DNS resolves for every container on `network`, so a restarted container keeps its route; use it when the reverse proxy runs in a container on that network (Caddy or Nginx Proxy Manager in the same compose project).",
      ),
    ),
    'address',
  ),
  publishHost: v.optional(
    v.pipe(v.string(), v.ip('must be an IP address'), v.description('Host address published ports bind to.')),
    '127.0.0.1',
  ),
  auth: v.optional(
    v.pipe(
      v.record(
        v.pipe(
          v.string(),
          v.regex(/^[a-z0-9.-]+(:\d+)?$/i, 'must be a registry host such as `ghcr.io` or `127.0.0.1:5000`'),
        ),
        v.strictObject({
          username: v.pipe(nonEmpty, v.description('User at the registry.')),
          password: v.pipe(
            nonEmpty,
            v.description('Password or access token (a secret: never logged, never in errors).'),
          ),
        }),
      ),
      v.description(
        'Registry credentials by registry host (`docker.io` for Docker Hub), used to pull. Anonymous for other hosts.',
      ),
    ),
  ),
  stopTimeoutSeconds: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(0),
      v.maxValue(600),
      v.description('Seconds a container gets to exit after SIGTERM before it is killed, on stop.'),
    ),
    5,
  ),
  runningGraceMs: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(0),
      v.description(
        'Without a health path and without an image `HEALTHCHECK`, a container counts as healthy once it has kept running this long.',
      ),
    ),
    1_000,
  ),
  ...containerSettingsEntries,
  stages: v.optional(
    v.pipe(
      v.record(
        v.pipe(v.string(), v.regex(/^[^/\s]+(\/[^/\s]+)?$/, 'must be `stage` or `project/stage`')),
        dockerContainerSettings,
      ),
      v.description(
        'Container settings per `stage` (every project) or per `project/stage`, over the top-level ones: `env` and `labels` merge key by key, other fields replace. `project/stage` wins over `stage`.',
      ),
    ),
  ),
});

/** Options of `createDockerTarget`, as written by users (defaults not yet applied). */
export type DockerTargetOptions = v.InferInput<typeof dockerTargetOptions>;

/** Options after validation, defaults applied. */
export type ResolvedDockerTargetOptions = v.InferOutput<typeof dockerTargetOptions>;
