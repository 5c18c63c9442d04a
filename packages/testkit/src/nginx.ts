import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, runCommand } from './command.ts';
import { ensureDebianPackage } from './debian-packages.ts';
import { processRuns, readPidfile } from './pidfile.ts';
import { assertPortFree, freePort } from './ports.ts';
import { TestkitError } from './testkit-error.ts';

export const defaultNginxBinary = '/usr/sbin/nginx';

export interface StartNginxOptions {
  /** Loopback port of the plain-HTTP listener; a free one when absent. */
  httpPort?: number;
  /** The nginx binary; Debian's `nginx` is installed (as root) when it is missing. */
  binary?: string;
  /** How long to wait for the listener. */
  startTimeoutMs?: number;
}

export interface NginxCheck {
  readonly ok: boolean;
  /** What `nginx -t` printed (its verdict, or the error and the file it is in). */
  readonly output: string;
}

export interface NginxInstance {
  /** Port of the plain-HTTP listener on 127.0.0.1; hosts' `server` blocks listen on it. */
  readonly httpPort: number;
  /** The prefix (`-p`) and config folder: relative paths in included files resolve against it. */
  readonly dir: string;
  /** Where host configs go, one `<id>.conf` each, as NPM's `/data/nginx/proxy_host`; `*.conf` is included. */
  readonly hostsDir: string;
  /** `nginx -t` on the whole config. */
  test(): Promise<NginxCheck>;
  /**
   * `nginx -s reload`: signals the master and returns, as the command does; the master then reads the
   * config, starts new workers and lets the old ones finish what they serve.
   */
  reload(): Promise<void>;
  /** Everything nginx has written to its error log so far. */
  logs(): string;
  /** Stops nginx (SIGTERM; SIGKILL for the master and its workers after 5 s) and removes its folder. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The main config: the `http` settings of Nginx Proxy Manager's own `nginx.conf` (NginxProxyManager/
 * nginx-proxy-manager, `docker/rootfs/etc/nginx/nginx.conf`) that shape a proxied request, with paths
 * inside the prefix, one loopback listener, and NPM's default host answering 404 for unknown names.
 */
function mainConfig(port: number, root: boolean): string {
  return `# A private nginx of the Docker Watcher testkit, set up as Nginx Proxy Manager sets up its own.
daemon off;
${root ? 'user root;' : ''}
worker_processes 2;
pid nginx.pid;
error_log logs/error.log warn;

events {
  worker_connections 1024;
}

http {
  default_type application/octet-stream;
  sendfile on;
  server_tokens off;
  tcp_nopush on;
  tcp_nodelay on;
  client_body_temp_path temp/body 1 2;
  proxy_temp_path temp/proxy;
  fastcgi_temp_path temp/fastcgi;
  uwsgi_temp_path temp/uwsgi;
  scgi_temp_path temp/scgi;
  keepalive_timeout 90s;
  proxy_connect_timeout 90s;
  proxy_send_timeout 90s;
  proxy_read_timeout 90s;
  proxy_ignore_client_abort off;
  client_max_body_size 2000m;
  server_names_hash_bucket_size 1024;
  proxy_http_version 1.1;
  proxy_set_header X-Forwarded-Scheme $scheme;
  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
  proxy_set_header Accept-Encoding "";
  proxy_cache off;

  log_format proxy '[$time_local] $upstream_cache_status $upstream_status $status - $request_method $scheme $host "$request_uri" [Client $remote_addr] [Length $body_bytes_sent] [Gzip $gzip_ratio] [Sent-to $server] "$http_user_agent" "$http_referer"';
  access_log logs/fallback_access.log proxy;

  # Default upstream scheme
  map $host $forward_scheme {
    default http;
  }

  # NPM's default host: a name no host claims gets a 404.
  server {
    listen 127.0.0.1:${port} default_server;
    server_name localhost-nginx-proxy-manager;
    access_log logs/default-host_access.log proxy;
    set $server "";
    return 404;
  }

  include proxy_host/*.conf;
}
`;
}

/** NPM's `conf.d/include/proxy.conf` (same repository, `docker/rootfs/etc/nginx/conf.d/include/proxy.conf`, 2.x). */
const proxyInclude = `add_header       X-Served-By $host;
proxy_set_header Host $host;
proxy_set_header X-Forwarded-Scheme $scheme;
proxy_set_header X-Forwarded-Proto  $scheme;
proxy_set_header X-Forwarded-For    $remote_addr;
proxy_set_header X-Real-IP          $remote_addr;
proxy_pass       $forward_scheme://$server:$port$request_uri;
`;

function listens(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Pids of a process's children (nginx's workers and cache processes), from /proc. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === pid) children.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return children;
}

function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      if (processRuns(pid)) process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
}

const folderPrefix = 'dw-testkit-nginx-';

function isNginx(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'nginx';
  } catch {
    return false;
  }
}

/** SIGTERM (the master stops its workers), SIGKILL for the master and its workers after 5 s. */
async function stopMaster(pid: number): Promise<void> {
  const workers = childrenOf(pid);
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 5_000;
  while (processRuns(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  killAll([pid, ...workers]);
}

/**
 * Stops the nginx of a test process that died without `stop()` (killed, so its exit hook never ran):
 * each instance folder names the process that owns it; when that one is gone, its nginx is stopped
 * and then the folder removed.
 */
async function removeOrphans(): Promise<void> {
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(folderPrefix)) continue;
    const dir = join(tmpdir(), entry);
    const owner = readPidfile(join(dir, 'owner.pid'));
    if (owner === undefined || processRuns(owner)) continue;
    const master = readPidfile(join(dir, 'nginx.pid'));
    if (master !== undefined && processRuns(master) && isNginx(master)) await stopMaster(master);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs Debian's nginx as a private master process (never the system's service): prefix, config,
 * logs, pid and temp files in a temp folder, one plain-HTTP listener on a free loopback port,
 * host configs included from `hostsDir`. Resolves once the listener accepts connections.
 */
export async function startNginx(options: StartNginxOptions = {}): Promise<NginxInstance> {
  const root = isRoot();
  const binary = options.binary ?? defaultNginxBinary;
  if (!existsSync(binary)) await ensureDebianPackage('nginx', binary);

  await removeOrphans();
  const httpPort = options.httpPort ?? (await freePort());
  await assertPortFree(httpPort, 'nginx HTTP listener');
  const dir = mkdtempSync(join(tmpdir(), folderPrefix));
  writeFileSync(join(dir, 'owner.pid'), `${process.pid}\n`);
  const hostsDir = join(dir, 'proxy_host');
  for (const folder of ['logs', 'temp', 'proxy_host', 'conf.d/include'])
    mkdirSync(join(dir, folder), { recursive: true });
  const configFile = join(dir, 'nginx.conf');
  writeFileSync(configFile, mainConfig(httpPort, root));
  writeFileSync(join(dir, 'conf.d/include/proxy.conf'), proxyInclude);
  const errorLog = join(dir, 'logs', 'error.log');
  // `-e`: nginx opens this log before it reads the config, instead of the system's.
  const base = ['-p', `${dir}/`, '-c', configFile, '-e', errorLog];

  const startLog = openSync(join(dir, 'logs', 'start.log'), 'a');
  const child: ChildProcess = spawn(binary, base, { cwd: dir, stdio: ['ignore', startLog, startLog] });
  let exitCode: number | null | undefined;
  child.on('exit', (code, signal) => {
    exitCode = code ?? (signal ? 128 : 1);
  });
  child.on('error', () => {
    exitCode ??= 127;
  });
  // Best effort for a test process that ends without stop(): SIGTERM makes the master stop its workers too.
  const termOnExit = () => child.kill('SIGTERM');
  process.once('exit', termOnExit);

  const logs = () =>
    ['start.log', 'error.log']
      .map((name) => join(dir, 'logs', name))
      .filter((file) => existsSync(file))
      .map((file) => readFileSync(file, 'utf8'))
      .join('');
  const timeoutMs = options.startTimeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  let ready = false;
  while (Date.now() < deadline && exitCode === undefined) {
    if (await listens(httpPort, 1_000)) {
      ready = true;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= new Promise<void>((resolve) => {
      process.removeListener('exit', termOnExit);
      const finish = () => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      };
      if (exitCode !== undefined || child.exitCode !== null || child.signalCode !== null) return finish();
      const timer = setTimeout(() => {
        // Workers outlive a killed master: kill them by pid, not by name.
        const workers = child.pid === undefined ? [] : childrenOf(child.pid);
        child.kill('SIGKILL');
        killAll(workers);
      }, 5_000).unref();
      child.once('exit', () => {
        clearTimeout(timer);
        finish();
      });
      child.kill('SIGTERM');
    });
    return stopping;
  };

  if (!ready) {
    const exited = exitCode !== undefined;
    const tail = logs().trim().split('\n').slice(-8).join('\n    ');
    await stop();
    throw new TestkitError(
      `nginx ${exited ? `exited with code ${exitCode} at start` : `did not listen on port ${httpPort} within ${timeoutMs} ms`}. Last log lines:\n    ${tail}`,
      'Fix what the log says (often a port taken between choosing and binding it), then run again.',
    );
  }

  return {
    httpPort,
    dir,
    hostsDir,
    test: async () => {
      const result = await runCommand(binary, [...base, '-t', '-q']);
      return { ok: result.code === 0, output: `${result.stderr}${result.stdout}`.trim() };
    },
    reload: async () => {
      const result = await runCommand(binary, [...base, '-s', 'reload']);
      if (result.code !== 0) {
        throw new TestkitError(
          `nginx -s reload failed: ${`${result.stderr}${result.stdout}`.trim()}`,
          'See the log in the nginx instance folder.',
        );
      }
    },
    logs,
    stop,
  };
}
