import type { ConfigInput } from '@docker-watcher/server';
import { appPort, testkitLabels } from '@docker-watcher/testkit';
import { stringify } from 'yaml';

/** The environment variables the config names; their values go to the server, never into the file. */
export const stackEnvNames = {
  adminToken: 'DW_STACK_ADMIN_TOKEN',
  webhookSecret: 'DW_STACK_WEBHOOK_SECRET',
} as const;

/** The environment variable holding the bcrypt hash of the stack's `index`th dashboard user. */
export const stackUserHashEnv = (index: number): string => `DW_STACK_USER_${index}_HASH`;

/** A dashboard user of the stack; the password is hashed into the environment, never written. */
export interface StackUser {
  readonly name: string;
  readonly password: string;
  readonly scopes: ReadonlyArray<'read' | 'deploy' | 'admin'>;
}

type ServerInput = NonNullable<NonNullable<ConfigInput['global']>['server']>;

type ProjectInput = ConfigInput['projects'][string];

/** A project of the stack: everything of the config's project except where its image lives. */
export interface StackProject {
  /** Repository in the stack's registry, e.g. `demo/app`. */
  readonly repository: string;
  readonly stages: ProjectInput['stages'];
  readonly healthcheck?: ProjectInput['healthcheck'];
  readonly strategy?: ProjectInput['strategy'];
  readonly deadlines?: ProjectInput['deadlines'];
  /** The project's `retry_pause_ms`: the first pause before a failure of ours is retried. */
  readonly retryPauseMs?: number;
}

export interface StackConfigParams {
  readonly projects: Readonly<Record<string, StackProject>>;
  readonly registryUrl: string;
  readonly registryHost: string;
  readonly caddy: { readonly adminUrl: string; readonly serverName: string };
  /**
   * Time limit of one request to the registry's API and to Caddy's admin API (the adapters' own
   * defaults otherwise): a fault test's stalled backend is given up on within it.
   */
  readonly requestTimeoutMs?: number;
  /** A `tcp://` Docker host for the docker target (a fault proxy in front of the engine's socket). */
  readonly dockerHost?: string;
  /** Where the server listens (every replica gets its own file with its own port). */
  readonly listenPort: number;
  /** `sqlite:<file>` or a `postgres://` URL. */
  readonly store: string;
  /**
   * How long a write to the SQLite store waits for another connection's write lock (the store's
   * default otherwise): a fault test that holds the lock keeps the server's waits short.
   */
  readonly sqliteBusyTimeoutMs?: number;
  /** Docker network of the deployed containers. */
  readonly network: string;
  /** Labels every deployed container (`stackIdLabel`), so the stack finds and removes its own. */
  readonly stackId: string;
  readonly pollIntervalSeconds: number;
  readonly domain: string;
  /** The server's `notify` key; messages then link to the server's own URL. */
  readonly notify?: ConfigInput['notify'];
  /** Dashboard users (their hashes come from `stackUserHashEnv(i)`). */
  readonly users?: readonly Pick<StackUser, 'name' | 'scopes'>[];
  /** Dashboard session settings (`global.server.session`). */
  readonly session?: ServerInput['session'];
}

/** The label naming the stack a deployed container belongs to. */
export const stackIdLabel = 'docker-watcher.testkit.stack';

/** Probes quick enough for a demo: a broken release is rolled back within about a second. */
export const stackHealthcheck = { path: '/health', interval_ms: 250, timeout_ms: 1_000, retries: 3 };

/** The server's YAML config for the stack: OCI registry with webhooks, Docker target, Caddy proxy. */
export function stackConfigText(params: StackConfigParams): string {
  const config: ConfigInput = {
    global: {
      domain: params.domain,
      store:
        params.sqliteBusyTimeoutMs !== undefined && params.store.startsWith('sqlite:')
          ? { type: 'sqlite', path: params.store.slice(7), busy_timeout_ms: params.sqliteBusyTimeoutMs }
          : params.store,
      poll_interval_seconds: params.pollIntervalSeconds,
      target: {
        type: 'docker',
        network: params.network,
        // Published on loopback, where Caddy (a host process) reaches it.
        publish: true,
        stop_timeout_seconds: 1,
        ...(params.dockerHost ? { docker_host: params.dockerHost } : {}),
        // The testkit's labels: a crashed run's containers and network are removed by the next one.
        labels: testkitLabels({ [stackIdLabel]: params.stackId }),
      },
      proxy: {
        type: 'caddy',
        admin_url: params.caddy.adminUrl,
        server: params.caddy.serverName,
        tls: 'off',
        ...(params.requestTimeoutMs ? { timeout_ms: params.requestTimeoutMs } : {}),
      },
      server: {
        listen: `127.0.0.1:${params.listenPort}`,
        ...(params.notify ? { public_url: `http://127.0.0.1:${params.listenPort}` } : {}),
        shutdown_timeout_ms: 5_000,
        tokens: [{ name: 'admin', token_env: stackEnvNames.adminToken, scopes: ['admin'] }],
        ...(params.users?.length
          ? {
              users: params.users.map((user, i) => ({
                name: user.name,
                password_hash_env: stackUserHashEnv(i),
                scopes: [...user.scopes],
              })),
            }
          : {}),
        ...(params.session ? { session: params.session } : {}),
      },
    },
    registries: {
      local: {
        type: 'oci',
        url: params.registryUrl,
        webhook_secret_env: stackEnvNames.webhookSecret,
        ...(params.requestTimeoutMs ? { timeout_ms: params.requestTimeoutMs } : {}),
      },
    },
    projects: Object.fromEntries(
      Object.entries(params.projects).map(([id, project]) => [
        id,
        {
          registry: 'local',
          image: `${params.registryHost}/${project.repository}`,
          port: appPort,
          healthcheck: project.healthcheck ?? stackHealthcheck,
          ...(project.strategy ? { strategy: project.strategy } : {}),
          ...(project.deadlines ? { deadlines: project.deadlines } : {}),
          ...(project.retryPauseMs ? { retry_pause_ms: project.retryPauseMs } : {}),
          stages: project.stages,
        },
      ]),
    ),
    ...(params.notify ? { notify: params.notify } : {}),
  };
  // Projects share objects (the health check): written out each time, since YAML aliases beyond
  // 100 make the server refuse the file as a resource-exhaustion attack.
  return stringify(config, { aliasDuplicateObjects: false });
}
