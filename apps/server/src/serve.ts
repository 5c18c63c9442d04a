import type { Server } from 'node:http';
import { createRedactingLogger, isCoreError, type Logger } from '@docker-watcher/core';
import { serve } from '@hono/node-server';
import { type Composed, type ComposeOptions, compose } from './compose.ts';
import { type Environment, loadConfigFile, type ResolvedConfig } from './config/load.ts';
import { type ConfigWatcher, watchConfigFile } from './config-watch.ts';
import { createApp } from './http/app.ts';
import { type LoginState, loginStateFor } from './http/login.ts';
import { createServerLogger } from './logger.ts';

export interface RunningServer {
  readonly port: number;
  readonly composed: Composed;
  /** Validates the file first: a bad one keeps the running config (and is logged). */
  reload(): Promise<boolean>;
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
}

/** `docker-watcher serve`: config -> engine -> HTTP server. */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const env = options.env ?? process.env;
  let config: ResolvedConfig = loadConfigFile(options.configFile, env);
  const logger = options.logger ?? createServerLogger({ secrets: config.secrets, level: config.logLevel });
  const warn = (resolved: ResolvedConfig) => {
    for (const w of resolved.warnings) logger.warn(`config: ${w.path ? `${w.path}: ` : ''}${w.message}`);
  };
  warn(config);
  let loginState: LoginState | undefined;
  const build = async (resolved: ResolvedConfig) => {
    const composed = compose(resolved, {
      ...options.compose,
      // The secrets of this config, too: a reload may bring ones the first config did not have.
      logger: createRedactingLogger(logger, { secrets: resolved.secrets }),
      ...(options.port === undefined ? {} : { listenPort: options.port }),
    });
    await options.onComposed?.(composed);
    let ready = false;
    // Dashboard sessions survive a reload: every request checks its user against the new config.
    loginState = loginStateFor(resolved.session, loginState);
    const app = createApp(composed, { ready: () => ready, loginState });
    await composed.engine.start();
    ready = true;
    return { composed, app, setReady: (value: boolean) => (ready = value) };
  };
  let current = await build(config);
  let stopping = false;
  const server = serve({
    fetch: (request, env) => current.app.fetch(request, env),
    hostname: config.listen.host,
    port: options.port ?? config.listen.port,
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
  // The old composition's disposal and the new one's start, which shutdown waits for.
  let swapping: Promise<void> | undefined;
  const reloadOnce = async (): Promise<boolean> => {
    let next: ResolvedConfig;
    try {
      next = loadConfigFile(options.configFile, env);
    } catch (error) {
      logger.error('the new config is invalid; the running one stays', {
        problems: isCoreError(error) ? error.message : String(error),
      });
      return false;
    }
    if (stopping) return false;
    // Running deploys finish under the old config; then the new one takes over the same store.
    await current.composed.engine.idle();
    // Shutdown began meanwhile: it owns the running composition now.
    if (stopping) return false;
    current.setReady(false);
    swapping = (async () => {
      await current.composed.dispose();
      config = next;
      current = await build(config);
    })();
    try {
      await swapping;
    } finally {
      swapping = undefined;
    }
    logger.info('config reloaded', { projects: config.projects.length });
    warn(config);
    return true;
  };
  const running: RunningServer = {
    port,
    get composed() {
      return current.composed;
    },
    reload() {
      reloads = reloads.then(reloadOnce, reloadOnce);
      return reloads;
    },
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
    watcher = watchConfigFile({ file: options.configFile, logger, onChange: () => running.reload() });
  return running;
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
