import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServerLogger, type RunningServer, startServer } from '@docker-watcher/server';

/** In this process (`startServer`), or as `docker-watcher serve` in a child process (it can be SIGKILLed). */
export type StackServerMode = 'in-process' | 'child';

/** One replica of the reference server on a fixed loopback port. */
export interface StackServer {
  readonly mode: StackServerMode;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The server's pino JSON lines so far (secrets redacted by the server). */
  logs(): string;
  /** Whether it runs now. */
  running(): boolean;
  /** Starts it and resolves once `/readyz` answers 200. */
  start(): Promise<void>;
  /** Graceful stop (SIGTERM for a child: running deploys end in a safe state). Idempotent. */
  stop(): Promise<void>;
  /** Child mode: SIGKILL, nothing gets to clean up; resolves once the process is gone. */
  kill(): Promise<void>;
}

export interface StackServerParams {
  readonly mode: StackServerMode;
  readonly configFile: string;
  readonly port: number;
  /** The secrets the config's `*_env` keys name. */
  readonly env: Readonly<Record<string, string>>;
  /** Where its log goes. */
  readonly logFile: string;
}

/** `apps/server/src/cli.ts`, run from source like every workspace package. */
export const serverCli = join(import.meta.dirname, '../../../apps/server/src/cli.ts');

async function waitReady(url: string, alive: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && alive()) {
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the server at ${url} did not get ready (see its log)`);
}

export function createStackServer(params: StackServerParams): StackServer {
  const url = `http://127.0.0.1:${params.port}`;
  const logs = () => (existsSync(params.logFile) ? readFileSync(params.logFile, 'utf8') : '');
  let inProcess: RunningServer | undefined;
  let child: ChildProcess | undefined;
  let exited: Promise<void> | undefined;
  const killOnExit = () => child?.kill('SIGKILL');

  const startChild = async () => {
    const log = openSync(params.logFile, 'a');
    const started = spawn(
      process.execPath,
      ['--conditions=@docker-watcher/source', serverCli, 'serve', '--config', params.configFile],
      { env: { ...process.env, ...params.env }, stdio: ['ignore', log, log] },
    );
    child = started;
    exited = new Promise((resolve) => started.once('exit', () => resolve()));
    // A test process that ends without stop() must not leave a server deploying behind it.
    process.once('exit', killOnExit);
    await waitReady(url, () => started.exitCode === null && started.signalCode === null);
  };

  const endChild = async (signal: NodeJS.Signals) => {
    const current = child;
    if (!current) return;
    if (current.exitCode === null && current.signalCode === null) current.kill(signal);
    // A graceful stop that hangs still ends: the stack never leaves a server behind.
    const force = setTimeout(() => current.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(force);
    process.removeListener('exit', killOnExit);
    child = undefined;
  };

  return {
    mode: params.mode,
    url,
    port: params.port,
    logs,
    running: () => (params.mode === 'child' ? child !== undefined : inProcess !== undefined),
    async start() {
      if (params.mode === 'child') {
        if (!child) await startChild();
        return;
      }
      inProcess ??= await startServer({
        configFile: params.configFile,
        env: { ...process.env, ...params.env },
        logger: createServerLogger({
          secrets: Object.values(params.env),
          destination: { write: (line: string) => appendFileSync(params.logFile, line) },
        }),
      });
      await waitReady(url, () => true);
    },
    async stop() {
      if (params.mode === 'child') return endChild('SIGTERM');
      const current = inProcess;
      inProcess = undefined;
      await current?.close();
    },
    async kill() {
      if (params.mode !== 'child') throw new Error('only a child-process server can be SIGKILLed');
      await endChild('SIGKILL');
    },
  };
}
