import type { Server } from 'node:http';
import {
  createRedactingLogger,
  isCoreError,
  type Logger,
  toCoreError,
  withDeadline,
} from '@docker-watcher/core';
import { serve } from '@hono/node-server';
import { type Composed, type ComposeOptions, compose } from './compose.ts';
import { type Environment, loadConfigFile, type ResolvedConfig } from './config/load.ts';
import { type ConfigWatcher, watchConfigFile } from './config-watch.ts';
import { createApp } from './http/app.ts';
import { type LoginState, loginStateFor } from './http/login.ts';
import { createServerLogger } from './logger.ts';

/** Which config runs, and how the last reload went (`/api/status`). */
export interface ConfigStatus {
  /** 1 for the config the server started with, one more for each reload applied. */
  readonly generation: number;
  /** When the running config was applied (ISO 8601). */
  readonly appliedAt: string;
  /** The last reload attempt, applied or not, and why not. */
  readonly lastReload?: { readonly at: string; readonly applied: boolean; readonly problem?: string };
}

export interface RunningServer {
  readonly port: number;
  readonly composed: Composed;
  /**
   * Validates the file, then creates the new config's adapters and checks that its store, target
   * and proxy answer; only then does it take over (running deploys finish under the old config,
   * queued ones run under the new one). Otherwise the running config stays, and the reason is
   * logged and shown in `status()`. Resolves with whether the new config was applied.
   */
  reload(): Promise<boolean>;
  status(): ConfigStatus;
  /** Stops intake, brings running deploys to a safe state, closes the store. */
  close(): Promise<void>;
}

export interface StartServerOptions {
  readonly configFile: string;
  readonly env?: Environment;
  readonly logger?: Logger;
  /** Replaces the config's listen port (0: any free port). */
  readonly port?: number;
  /** For tests and embedding: adapters created elsewhere, and a hook after composing. */
  readonly compose?: ComposeOptions;
  readonly onComposed?: (composed: Composed) => void | Promise<void>;
  /**
   * Reload when the config file changes (validated first, like SIGHUP). Default false here;
   * `docker-watcher serve` turns it on unless `--no-watch`.
   */
  readonly watch?: boolean;
  /** How long a reloaded config's store, target and proxy may take to answer their first call. Default 10 s. */
  readonly reloadCheckMs?: number;
  /**
   * How long a client may take to send a whole request, headers and body (default 30 s; Node's own is
   * 300 s, which lets a slow sender hold a connection for minutes). Answers, SSE streams too, are not bound by it.
   */
  readonly requestTimeoutMs?: number;
}

/** Environment values of every stage that are long enough to be worth hiding (see `envMasker` in core). */
function envValuesOf(config: ResolvedConfig): string[] {
  return config.projects.flatMap((project) =>
    Object.values(project.stages).flatMap((stage) =>
      Object.values(stage.deploy.env ?? {}).filter((value) => value.length >= 8),
    ),
  );
}

/** Whether a new composition's adapters answer: its store, its deploy targets and its proxy. */
async function checkAdapters(composed: Composed, ms: number): Promise<void> {
  const checks: Array<[string, (signal: AbortSignal) => Promise<unknown>]> = [
    [`the store (${composed.store.id})`, (signal) => composed.store.listStages({ signal })],
    ...composed.targets.all.map((target): [string, (signal: AbortSignal) => Promise<unknown>] => [
      `the deploy target (${target.id})`,
      (signal) => target.list({ signal }),
    ]),
  ];
  const proxy = composed.proxy;
  if (proxy)
    checks.push([
      `the proxy (${proxy.id})`,
      (signal) => proxy.getRoute({ host: 'docker-watcher-reload-check.invalid', signal }),
    ]);
  for (const [what, check] of checks) {
    try {
      await withDeadline(`a first call to ${what}`, ms, check);
    } catch (error) {
      throw new Error(`${what} does not answer: ${toCoreError(error).message}`);
    }
  }
}

/** `docker-watcher serve`: config -> engine -> HTTP server. */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const env = options.env ?? process.env;
  let config: ResolvedConfig = await loadConfigFile(options.configFile, env);
  const logger = options.logger ?? createServerLogger({ secrets: config.secrets, level: config.logLevel });
  const warn = (resolved: ResolvedConfig) => {
    for (const w of resolved.warnings) logger.warn(`config: ${w.path ? `${w.path}: ` : ''}${w.message}`);
  };
  warn(config);
  let loginState: LoginState | undefined;
  const reloadCheckMs = options.reloadCheckMs ?? 10_000;
  // Labelled containers that start, change or go apply as a reload does (running deploys finish first).
  let running: RunningServer | undefined;
  let changedEarly = false;
  // Loaded only when the config turns label mode on: it needs the Docker client, a large module tree.
  const labelMode = config.labelMode
    ? await (await import('./label-mode/label-mode.ts')).startLabelMode({
        config,
        logger,
        onChange: () => {
          if (running) void running.reload();
          else changedEarly = true;
        },
      })
    : undefined;
  /** A config composed into adapters, an engine and an app; its engine not started yet. */
  const prepare = async (file: ResolvedConfig) => {
    const labelled = labelMode?.compose(file);
    const resolved = labelled?.config ?? file;
    const composed = compose(resolved, {
      ...options.compose,
      ...labelled?.option,
      // The secrets of this config, too: a reload may bring ones the first config did not have; and
      // the stages' environment values, which hold DSNs and keys as often as not.
      logger: createRedactingLogger(logger, { secrets: [...resolved.secrets, ...envValuesOf(resolved)] }),
      ...(options.port === undefined ? {} : { listenPort: options.port }),
    });
    await options.onComposed?.(composed);
    let ready = false;
    // Dashboard sessions survive a reload: every request checks its user against the new config.
    const login = loginStateFor(resolved.session, loginState);
    const app = createApp(composed, {
      ready: () => ready,
      loginState: login,
      configStatus: () => status,
      ...(labelMode ? { labels: () => labelMode.view() } : {}),
    });
    return {
      composed,
      app,
      login,
      seed: () => labelled?.seed(composed.store),
      announce: () => labelled?.announce(composed.engine.bus),
      setReady: (value: boolean) => {
        ready = value;
      },
    };
  };
  type Prepared = Awaited<ReturnType<typeof prepare>>;
  const start = async (prepared: Prepared) => {
    await prepared.seed();
    await prepared.composed.engine.start();
    prepared.announce();
    loginState = prepared.login;
    prepared.setReady(true);
    return prepared;
  };
  let status: ConfigStatus = { generation: 1, appliedAt: new Date().toISOString() };
  let current: Prepared;
  try {
    current = await start(await prepare(config));
  } catch (error) {
    await labelMode?.close();
    throw error;
  }
  let stopping = false;
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const server = serve({
    fetch: (request, env) => current.app.fetch(request, env),
    hostname: config.listen.host,
    port: options.port ?? config.listen.port,
    serverOptions: {
      requestTimeout,
      headersTimeout: requestTimeout,
      // Node looks for expired requests this often (30 s by default): a fraction of the limit.
      connectionsCheckingInterval: Math.max(100, Math.min(5_000, requestTimeout / 4)),
    },
  }) as Server;
  await new Promise<void>((resolve, reject) => {
    if (server.listening) resolve();
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? config.listen.port);
  logger.info('docker-watcher is listening', {
    host: config.listen.host,
    port,
    projects: config.projects.length,
  });

  let closing: Promise<void> | undefined;
  let watcher: ConfigWatcher | undefined;
  // SIGHUP and file changes may overlap: reloads run one after the other.
  let reloads: Promise<boolean> = Promise.resolve(true);
  // The old composition's handover to the new one, which shutdown waits for.
  let swapping: Promise<void> | undefined;
  const refused = (problem: string) => {
    status = { ...status, lastReload: { at: new Date().toISOString(), applied: false, problem } };
    return false;
  };

  /** The new config's adapters, created and checked; undefined (logged) when they cannot start. */
  const prepareChecked = async (next: ResolvedConfig): Promise<Prepared | undefined> => {
    let prepared: Prepared | undefined;
    try {
      prepared = await prepare(next);
      await checkAdapters(prepared.composed, reloadCheckMs);
      return prepared;
    } catch (error) {
      await prepared?.composed.dispose().catch(() => undefined);
      const problem = error instanceof Error ? error.message : String(error);
      logger.error('the new config cannot start; the running one stays', { problem });
      refused(problem);
      return undefined;
    }
  };

  /**
   * The old engine stops taking work (running deploys finish under the old config, queued ones stay
   * in the store), the new one starts and takes them over, then the old adapters go. The old app
   * serves until the new engine runs.
   */
  const handOver = async (next: ResolvedConfig, prepared: Prepared) => {
    const old = current;
    await old.composed.engine.stop({ drain: true });
    try {
      current = await start(prepared);
    } catch (error) {
      // The store failed just now: back to the old config, with a new composition of it.
      await prepared.composed.dispose().catch(() => undefined);
      await old.composed.dispose();
      current = await start(await prepare(config));
      throw error;
    }
    await old.composed.dispose();
    config = next;
  };

  const reloadOnce = async (): Promise<boolean> => {
    let next: ResolvedConfig;
    try {
      next = await loadConfigFile(options.configFile, env);
    } catch (error) {
      const problems = isCoreError(error) ? error.message : String(error);
      logger.error('the new config is invalid; the running one stays', { problems });
      return refused(problems);
    }
    if (stopping) return false;
    const prepared = await prepareChecked(next);
    if (!prepared) return false;
    if (stopping) {
      await prepared.composed.dispose();
      return false;
    }
    swapping = handOver(next, prepared);
    try {
      await swapping;
    } catch (error) {
      const problem = toCoreError(error).message;
      logger.error('the new config could not start; the old one runs again', { problem });
      return refused(problem);
    } finally {
      swapping = undefined;
    }
    const at = new Date().toISOString();
    status = { generation: status.generation + 1, appliedAt: at, lastReload: { at, applied: true } };
    logger.info('config reloaded', { projects: config.projects.length, generation: status.generation });
    warn(config);
    return true;
  };
  const handle: RunningServer = {
    port,
    get composed() {
      return current.composed;
    },
    reload() {
      reloads = reloads.then(reloadOnce, reloadOnce);
      return reloads;
    },
    status: () => status,
    close() {
      closing ??= (async () => {
        stopping = true;
        watcher?.close();
        current.setReady(false);
        logger.info('shutting down: no new requests; running deploys are brought to a safe state');
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const timeout = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
        await swapping?.catch(() => undefined);
        await current.composed.dispose();
        await labelMode?.close();
        // Log streams end with their deploys; anything still open now is cut.
        server.closeAllConnections();
        await closed;
        clearTimeout(timeout);
        logger.info('stopped');
      })();
      return closing;
    },
  };
  if (options.watch)
    watcher = watchConfigFile({ file: options.configFile, logger, onChange: () => handle.reload() });
  running = handle;
  if (changedEarly) void handle.reload();
  return handle;
}

/** SIGTERM/SIGINT: graceful shutdown, then exit 0 (a second signal exits at once); SIGHUP: reload. */
export function handleSignals(server: RunningServer, exit: (code: number) => void = process.exit): void {
  let signals = 0;
  const shutdown = (signal: string) => {
    signals += 1;
    if (signals > 1) exit(1);
    server.composed.logger.info(`${signal} received`);
    server.close().then(
      () => exit(0),
      () => exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => void server.reload());
}
