import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AppRelease,
  appFixture,
  buildFixtureImages,
  type CaddyInstance,
  dockerClient,
  ensureDockerEngine,
  type FaultProxy,
  freePort,
  imageReferences,
  type LocalRegistry,
  type PushedTag,
  pushImage,
  type SocketFaultProxy,
  startCaddy,
  startFaultProxy,
  startRegistry,
  startSocketFaultProxy,
} from '@docker-watcher/testkit';
import { hash } from 'bcryptjs';
import type Docker from 'dockerode';
import {
  type StackConfigParams,
  type StackProject,
  type StackUser,
  stackConfigText,
  stackEnvNames,
  stackIdLabel,
  stackUserHashEnv,
} from './stack-config.ts';
import { createStackServer, type StackServer, type StackServerMode } from './stack-server.ts';

export interface StartStackOptions {
  readonly projects: Readonly<Record<string, StackProject>>;
  /** Poll period of the server; 0 (the default) means registry webhooks only. */
  readonly pollIntervalSeconds?: number;
  /** `in-process` (default) or `child` (a `docker-watcher serve` process that can be SIGKILLed). */
  readonly serverMode?: StackServerMode;
  /** Server replicas sharing the store, each told about every push. Default 1; more need `store`. */
  readonly replicas?: number;
  /** A `postgres://` URL; a SQLite file in the stack's folder by default. */
  readonly store?: string;
  /** Called with a line at each step of starting, for a demo's progress output. */
  readonly onStep?: (line: string) => void;
  /** The servers' `notify` key (notification channels). */
  readonly notify?: StackConfigParams['notify'];
  /**
   * The server reaches the registry's API through a fault-switching proxy (`stack.registryFaults`);
   * pushes and the Docker Engine's pulls still go to the registry itself.
   */
  readonly registryFaults?: boolean;
  /**
   * The server reaches Caddy's admin API through a fault-switching proxy (`stack.caddyFaults`);
   * requests served to the stages still go to Caddy itself.
   */
  readonly caddyFaults?: boolean;
  /**
   * The server's docker target reaches the engine through a socket fault proxy (`stack.dockerFaults`);
   * the stack's own look at containers and its cleanup still use the engine's socket.
   */
  readonly dockerFaults?: boolean;
  /** Time limit of one request to the registry's API and Caddy's admin API (adapter defaults otherwise). */
  readonly requestTimeoutMs?: number;
  /** How long a write to the SQLite store waits for another connection's lock (a store fault test). */
  readonly sqliteBusyTimeoutMs?: number;
  /** Dashboard users (passwords are hashed into the servers' environment). */
  readonly users?: readonly StackUser[];
  /** Dashboard session settings (`global.server.session`), e.g. a short login window for tests. */
  readonly session?: Parameters<typeof stackConfigText>[0]['session'];
}

/** A served answer, read through Caddy. */
export interface Served {
  readonly status: number;
  readonly body: string;
}

export interface Stack {
  readonly registry: LocalRegistry;
  /** With `registryFaults`: the proxy between the server and the registry's API. */
  readonly registryFaults?: FaultProxy;
  /** With `caddyFaults`: the proxy between the server and Caddy's admin API. */
  readonly caddyFaults?: FaultProxy;
  /** With `dockerFaults`: the proxy between the server's docker target and the engine. */
  readonly dockerFaults?: SocketFaultProxy;
  readonly caddy: CaddyInstance;
  /** Every replica; `server` is the first. */
  readonly servers: readonly StackServer[];
  readonly server: StackServer;
  /** The API token (scope admin): generated for this stack, given to the server by environment. */
  readonly adminToken: string;
  /** The registry's notifications carry it; for tests that check it never leaks. Never print it. */
  readonly webhookSecret: string;
  /** Temp folder with the config files, the SQLite file and the server logs; removed by `dispose()`. */
  readonly dir: string;
  readonly configFile: string;
  /** The SQLite file, unless the store is PostgreSQL. */
  readonly databaseFile?: string;
  /** The domain stage hosts live under: `localhost` (`stage-dev-demo.localhost`). */
  readonly domain: string;
  /** The host name that routes to a stage. */
  hostOf(project: string, stage: string): string;
  /** Pushes a fixture release (`dw-testkit/app:<release>`) as `<repository>:<tag>`, as CI would. */
  push(release: AppRelease, repository: string, tag: string): Promise<PushedTag>;
  /** A call to the first running replica's API with the admin token; throws with the API's error on a non-2xx answer. */
  api<T = Record<string, unknown>>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
  /** `GET <path>` through Caddy with the stage's host name. */
  served(project: string, stage: string, path?: string): Promise<Served>;
  /** Containers the Docker target started for this stack (for one project), running or not. */
  containers(project?: string): Promise<Docker.ContainerInfo[]>;
  /** Stops the servers, then removes every container, network, process and file the stack created. Idempotent. */
  dispose(): Promise<void>;
}

export const stackDomain = 'localhost';

function get(port: number, host: string, path: string): Promise<Served> {
  return new Promise((resolve, reject) => {
    // fetch does not let a caller set Host; node:http does.
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Removes the image references named after the stack's registry, never by force, except those the
 * engine had already when the stack started (`before`). Best effort: an engine that does not answer
 * keeps them, and the rest of the cleanup goes on. The Docker target's pull marks stay: they are
 * named by project, and other stacks may run the same project names.
 */
async function removeImagesOf(
  docker: Docker,
  registryHost: string,
  before: ReadonlySet<string>,
): Promise<void> {
  const references = await imageReferences(docker).catch(() => []);
  for (const reference of references) {
    if (!reference.startsWith(`${registryHost}/`) || before.has(reference)) continue;
    await docker
      .getImage(reference)
      .remove()
      .catch(() => undefined);
  }
}

/**
 * Starts the whole product on loopback: a Docker Engine (when none answers), a local registry whose
 * push notifications go to the server's `/api/webhook/registry`, Caddy, and the reference server on
 * a generated config (OCI registry, Docker target, Caddy proxy, SQLite or PostgreSQL store).
 */
export async function startStack(options: StartStackOptions): Promise<Stack> {
  const step = options.onStep ?? (() => undefined);
  const replicas = options.replicas ?? 1;
  if (replicas > 1 && !options.store)
    throw new Error('several replicas need a shared PostgreSQL store (options.store)');
  const cleanups: Array<() => Promise<void> | void> = [];
  let disposing: Promise<void> | undefined;
  const dispose = () => {
    disposing ??= (async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    })();
    return disposing;
  };

  try {
    const engine = await ensureDockerEngine();
    cleanups.push(() => engine.stop());
    step(`Docker Engine: ${engine.startedByUs ? 'started' : 'already running'}`);
    const docker = dockerClient();
    await buildFixtureImages(docker);
    step('fixture images: ready (dw-testkit/app:v1, v2, unhealthy, crash, slow)');

    const dir = mkdtempSync(join(tmpdir(), 'dw-server-demo-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const adminToken = `dw-demo-${randomBytes(16).toString('hex')}`;
    const env: Record<string, string> = {
      [stackEnvNames.adminToken]: adminToken,
      [stackEnvNames.webhookSecret]: randomBytes(24).toString('hex'),
    };
    // The lowest bcrypt cost: these passwords live as long as the stack.
    const users = options.users ?? [];
    for (const [i, user] of users.entries()) env[stackUserHashEnv(i)] = await hash(user.password, 4);
    const ports: number[] = [];
    for (let i = 0; i < replicas; i++) ports.push(await freePort());

    const [registry, caddy] = await Promise.all([
      startRegistry({
        notifications: ports.map((port, i) => ({
          name: `docker-watcher-${i}`,
          url: `http://127.0.0.1:${port}/api/webhook/registry`,
          headers: { Authorization: `Bearer ${env[stackEnvNames.webhookSecret]}` },
        })),
      }),
      startCaddy(),
    ]);
    cleanups.push(() => registry.stop());
    // Runs after the containers went: what the server pulled from this registry is the stack's too.
    const imagesBefore = new Set(await imageReferences(docker));
    cleanups.push(() => removeImagesOf(docker, registry.host, imagesBefore));
    cleanups.push(() => caddy.stop());
    step(`registry: ${registry.url} (push notifications to the server)`);
    const registryFaults = options.registryFaults
      ? await startFaultProxy({ target: registry.url })
      : undefined;
    if (registryFaults) cleanups.push(() => registryFaults.stop());
    const caddyFaults = options.caddyFaults ? await startFaultProxy({ target: caddy.adminUrl }) : undefined;
    if (caddyFaults) cleanups.push(() => caddyFaults.stop());
    const dockerFaults = options.dockerFaults ? await startSocketFaultProxy() : undefined;
    if (dockerFaults) cleanups.push(() => dockerFaults.stop());
    step(`Caddy: http://127.0.0.1:${caddy.httpPort} (admin API ${caddy.adminUrl})`);

    const stackId = `${process.pid}-${randomBytes(3).toString('hex')}`;
    const network = `dw-stack-${stackId}`;
    const stackLabel = `${stackIdLabel}=${stackId}`;
    const containers = (project?: string) =>
      docker.listContainers({
        all: true,
        filters: { label: [stackLabel, ...(project ? [`docker-watcher.project=${project}`] : [])] },
      });
    cleanups.push(async () => {
      const found = await containers();
      await Promise.all(
        found.map((info) =>
          docker
            .getContainer(info.Id)
            .remove({ force: true, v: true })
            .catch(() => undefined),
        ),
      );
      await docker
        .getNetwork(network)
        .remove()
        .catch(() => undefined);
    });

    const databaseFile = options.store ? undefined : join(dir, 'docker-watcher.db');
    const servers = ports.map((port, i) => {
      const configFile = join(dir, `docker-watcher-${i}.yml`);
      writeFileSync(
        configFile,
        stackConfigText({
          projects: options.projects,
          registryUrl: registryFaults?.url ?? registry.url,
          registryHost: registry.host,
          caddy: caddyFaults ? { ...caddy, adminUrl: caddyFaults.url } : caddy,
          ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
          ...(options.sqliteBusyTimeoutMs === undefined
            ? {}
            : { sqliteBusyTimeoutMs: options.sqliteBusyTimeoutMs }),
          ...(dockerFaults ? { dockerHost: dockerFaults.url } : {}),
          listenPort: port,
          store: options.store ?? `sqlite:${databaseFile}`,
          network,
          stackId,
          pollIntervalSeconds: options.pollIntervalSeconds ?? 0,
          domain: stackDomain,
          ...(options.notify ? { notify: options.notify } : {}),
          users,
          ...(options.session ? { session: options.session } : {}),
        }),
      );
      return createStackServer({
        mode: options.serverMode ?? 'in-process',
        configFile,
        port,
        env,
        logFile: join(dir, `server-${i}.log`),
      });
    });
    // Registered before the servers start, so containers are removed only after they stopped.
    cleanups.push(async () => {
      await Promise.all(servers.map((server) => server.stop()));
    });
    await Promise.all(servers.map((server) => server.start()));
    const server = servers[0]!;
    step(`server: ${server.url} (${servers.length > 1 ? `${servers.length} replicas, ` : ''}${server.mode})`);

    const api = async <T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> => {
      const base = servers.find((s) => s.running())?.url ?? server.url;
      const response = await fetch(`${base}${path}`, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers: {
          authorization: `Bearer ${adminToken}`,
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
      const data = (await response.json()) as T & { error?: { code: string; message: string } };
      if (!response.ok)
        throw new Error(
          `${init.method ?? 'GET'} ${path}: ${response.status} ${data.error?.code}: ${data.error?.message}`,
        );
      return data;
    };

    const hostOf = (project: string, stage: string) => {
      const subdomain = options.projects[project]?.stages[stage]?.subdomain;
      return `${subdomain ?? `stage-${stage}-${project}`}.${stackDomain}`;
    };
    return {
      registry,
      ...(registryFaults ? { registryFaults } : {}),
      ...(caddyFaults ? { caddyFaults } : {}),
      ...(dockerFaults ? { dockerFaults } : {}),
      caddy,
      servers,
      server,
      adminToken,
      webhookSecret: env[stackEnvNames.webhookSecret]!,
      dir,
      configFile: join(dir, 'docker-watcher-0.yml'),
      ...(databaseFile ? { databaseFile } : {}),
      domain: stackDomain,
      hostOf,
      push: (release, repository, tag) =>
        pushImage(registry, { source: appFixture(release).ref, repository, tag }, docker),
      api,
      served: (project, stage, path = '/version') => get(caddy.httpPort, hostOf(project, stage), path),
      containers,
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}
