import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname } from 'node:path';
import { isRoot, runCommand } from './command.ts';
import { ensureDebianPackage } from './debian-packages.ts';
import { processRuns, readPidfile } from './pidfile.ts';
import { TestkitError } from './testkit-error.ts';

export const defaultSocketPath = '/var/run/docker.sock';

export interface DockerEngine {
  socketPath: string;
  /** Whether this process started `dockerd`; only then does `stop()` stop it. */
  startedByUs: boolean;
  /** Stops the engine if we started it; otherwise does nothing. Idempotent. */
  stop(): Promise<void>;
}

export interface EnsureDockerEngineOptions {
  socketPath?: string;
  /** Where a dockerd we start writes its log. */
  logFile?: string;
  /** How long to wait for `/_ping` after starting dockerd. */
  startTimeoutMs?: number;
  /** Overridable for tests of the refusal paths. */
  root?: boolean;
  /** Where to look for dockerd; the first that exists is used. */
  dockerdCandidates?: readonly string[];
}

/** `true` when an engine answers `GET /_ping` on the socket within the timeout. */
export function pingDocker(socketPath: string, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function dockerdRunning(): Promise<boolean> {
  const result = await runCommand('pgrep', ['-x', 'dockerd']);
  return result.code === 0;
}

/** Whether the dockerd of the default pidfile (`/var/run/docker.pid`) is alive. */
function defaultDockerdAlive(): boolean {
  const pid = readPidfile('/var/run/docker.pid');
  return pid !== undefined && processRuns(pid);
}

const defaultCandidates = ['/usr/sbin/dockerd', '/usr/bin/dockerd', '/usr/local/bin/dockerd'];

/**
 * Uses the engine that answers on the socket; otherwise installs Debian's docker.io (as root) when
 * dockerd is missing, starts dockerd and waits for `/_ping`. Never stops an engine it did not start.
 */
export async function ensureDockerEngine(options: EnsureDockerEngineOptions = {}): Promise<DockerEngine> {
  const socketPath = options.socketPath ?? defaultSocketPath;
  const root = options.root ?? isRoot();
  const reused: DockerEngine = { socketPath, startedByUs: false, stop: async () => {} };
  if (await pingDocker(socketPath)) return reused;
  // The default dockerd starting or stopping (another test run's): it answers soon, or it is gone
  // and its pidfile with it; starting a second one meanwhile would fail on that pidfile.
  const settleBy = Date.now() + 30_000;
  while (socketPath === defaultSocketPath && defaultDockerdAlive() && Date.now() < settleBy) {
    if (await pingDocker(socketPath, 1_000)) return reused;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (existsSync(socketPath) && (await dockerdRunning())) {
    throw new TestkitError(
      `A Docker socket exists at ${socketPath} and dockerd is running, but the engine does not answer /_ping.`,
      "Look at the engine's log; stop that dockerd (kill its pid) so the testkit can start a fresh one, or restart it yourself.",
    );
  }
  const candidates = options.dockerdCandidates ?? defaultCandidates;
  let dockerd = candidates.find((path) => existsSync(path));
  if (!dockerd) {
    if (!root) {
      throw new TestkitError(
        `No Docker Engine answers at ${socketPath}, dockerd is not installed, and installing it needs root.`,
        "Run the tests as root (the testkit then installs Debian's docker.io and starts dockerd), or start a Docker Engine yourself.",
      );
    }
    dockerd = await ensureDebianPackage('docker.io', candidates[0] ?? '/usr/sbin/dockerd');
  }
  if (!root) {
    throw new TestkitError(
      `No Docker Engine answers at ${socketPath}, and starting dockerd needs root.`,
      `Start it yourself ("sudo ${dockerd} &"), or run the tests as root.`,
    );
  }
  return startDockerd(
    dockerd,
    socketPath,
    options.logFile ?? '/tmp/docker-watcher-dockerd.log',
    options.startTimeoutMs ?? 60_000,
  );
}

async function startDockerd(
  dockerd: string,
  socketPath: string,
  logFile: string,
  timeoutMs: number,
): Promise<DockerEngine> {
  mkdirSync(dirname(logFile), { recursive: true });
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn(dockerd, ['--host', `unix://${socketPath}`], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  child.unref();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) break;
    if (await pingDocker(socketPath, 1_000)) {
      return { socketPath, startedByUs: true, stop: onceStop(child) };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (!exited) child.kill('SIGTERM');
  const tail = existsSync(logFile)
    ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n    ')
    : '';
  throw new TestkitError(
    `dockerd ${exited ? 'exited' : `did not answer /_ping within ${timeoutMs} ms`}. Last lines of ${logFile}:\n    ${tail}`,
    'Fix what the log says (often another dockerd still holding /var/run/docker.pid or the data root), then run again.',
  );
}

function onceStop(child: ChildProcess): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      // Started unref'd so it never held the process open; while we wait for it to exit, it must.
      child.ref();
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
    return stopping;
  };
}
