import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot } from './command.ts';
import { ensureDebianPackage } from './debian-packages.ts';
import { assertPortFree, freePort } from './ports.ts';
import { TestkitError } from './testkit-error.ts';

export const defaultCaddyBinary = '/usr/bin/caddy';

/** Linux (5.14+) moves connections queued on a closing SO_REUSEPORT socket to its sibling when this is 1. */
export const tcpMigrateReqPath = '/proc/sys/net/ipv4/tcp_migrate_req';

export interface StartCaddyOptions {
  /** Loopback port of the admin API; a free one when absent. */
  adminPort?: number;
  /** Loopback port of the plain-HTTP server; a free one when absent. */
  httpPort?: number;
  /** Name of the plain-HTTP server in `apps.http.servers`; `dw-test` by default. */
  serverName?: string;
  /**
   * Also start a TLS server (`<serverName>-tls`) on a free loopback port with automatic HTTPS on.
   * Certificates come from Caddy's internal CA, never from an ACME server, and nothing is installed
   * into a trust store.
   */
  https?: boolean;
  /**
   * Caddy 2.6 binds with SO_REUSEPORT; on a config reload the old socket closes and the kernel
   * resets connections still queued on it unless `net.ipv4.tcp_migrate_req` is 1. With `true`,
   * the testkit makes sure it is 1 (writing it as root; the setting stays), or fails with a
   * TestkitError saying how to set it.
   */
  zeroDropReloads?: boolean;
  /** The Caddy binary; Debian's `caddy` is installed (as root) when it is missing. */
  binary?: string;
  /** How long to wait for the admin API. */
  startTimeoutMs?: number;
  /** Overridable for tests of the refusal paths. */
  root?: boolean;
  /** Last change to the JSON config before Caddy starts (tests of start failures, extra apps). */
  configure?: (config: Record<string, unknown>) => Record<string, unknown>;
}

export interface CaddyInstance {
  /** `http://127.0.0.1:<port>`, the admin API. */
  adminUrl: string;
  /** Port of the plain-HTTP server on 127.0.0.1 (automatic HTTPS disabled). */
  httpPort: number;
  /** Name of that server in `apps.http.servers`. */
  serverName: string;
  /** With `https: true`: port and server name of the TLS server. */
  httpsPort?: number;
  httpsServerName?: string;
  /** Whether the kernel moves queued connections on reload (see `zeroDropReloads`). */
  zeroDropReloads: boolean;
  /** Temp folder holding config, storage and log; removed by `stop()`. */
  dir: string;
  /** Everything Caddy has logged so far. */
  logs(): string;
  /** Stops Caddy (SIGTERM, SIGKILL after 5 s) and removes its folder. Idempotent. */
  stop(): Promise<void>;
}

function caddyConfig(
  dir: string,
  ports: { admin: number; http: number; https?: number },
  serverName: string,
): Record<string, unknown> {
  const servers: Record<string, unknown> = {
    [serverName]: {
      listen: [`127.0.0.1:${ports.http}`],
      automatic_https: { disable: true },
      routes: [],
    },
  };
  if (ports.https !== undefined) {
    servers[`${serverName}-tls`] = {
      listen: [`127.0.0.1:${ports.https}`],
      automatic_https: { disable_redirects: true },
      routes: [],
    };
  }
  return {
    admin: { listen: `127.0.0.1:${ports.admin}`, config: { persist: false } },
    storage: { module: 'file_system', root: join(dir, 'data') },
    logging: { logs: { default: { level: 'INFO' } } },
    apps: {
      http: {
        http_port: ports.http,
        ...(ports.https === undefined ? {} : { https_port: ports.https }),
        servers,
      },
      // Whatever gets automatic HTTPS is signed by Caddy's internal CA: no test ever reaches an ACME server.
      tls: { automation: { policies: [{ issuers: [{ module: 'internal' }] }] } },
      pki: { certificate_authorities: { local: { install_trust: false } } },
    },
  };
}

function adminAnswers(adminUrl: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${adminUrl}/config/`, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

function tcpMigrateReqEnabled(): boolean {
  return existsSync(tcpMigrateReqPath) && readFileSync(tcpMigrateReqPath, 'utf8').trim() === '1';
}

function ensureTcpMigrateReq(root: boolean): void {
  if (!existsSync(tcpMigrateReqPath)) {
    throw new TestkitError(
      `${tcpMigrateReqPath} does not exist (Linux older than 5.14), so Caddy's config reloads reset queued connections.`,
      'Run the zero-drop tests on Linux 5.14 or newer.',
    );
  }
  if (tcpMigrateReqEnabled()) return;
  if (!root) {
    throw new TestkitError(
      'net.ipv4.tcp_migrate_req is 0, so Caddy resets connections queued on its old socket at every config reload, and setting it needs root.',
      'Run "sudo sysctl -w net.ipv4.tcp_migrate_req=1", or run the tests as root.',
    );
  }
  writeFileSync(tcpMigrateReqPath, '1\n');
}

/**
 * Runs Debian's Caddy as a plain process with a JSON config: admin API and one plain-HTTP server
 * (automatic HTTPS disabled) on free loopback ports, storage and home in a temp folder. Resolves
 * once the admin API answers.
 */
export async function startCaddy(options: StartCaddyOptions = {}): Promise<CaddyInstance> {
  const root = options.root ?? isRoot();
  const binary = options.binary ?? defaultCaddyBinary;
  if (!existsSync(binary)) {
    if (!root) {
      throw new TestkitError(
        `${binary} is missing and installing Debian's caddy needs root.`,
        'Run "sudo apt-get install -y caddy", or run the tests as root.',
      );
    }
    await ensureDebianPackage('caddy', binary);
  }
  if (options.zeroDropReloads) ensureTcpMigrateReq(root);

  const adminPort = options.adminPort ?? (await freePort());
  const httpPort = options.httpPort ?? (await freePort());
  await assertPortFree(adminPort, 'Caddy admin API');
  await assertPortFree(httpPort, 'Caddy HTTP server');
  const httpsPort = options.https ? await freePort() : undefined;
  const serverName = options.serverName ?? 'dw-test';

  const dir = mkdtempSync(join(tmpdir(), 'dw-testkit-caddy-'));
  const configFile = join(dir, 'caddy.json');
  const logFile = join(dir, 'caddy.log');
  const base = caddyConfig(
    dir,
    { admin: adminPort, http: httpPort, ...(httpsPort === undefined ? {} : { https: httpsPort }) },
    serverName,
  );
  writeFileSync(configFile, JSON.stringify(options.configure ? options.configure(base) : base, null, 2));

  const log = openSync(logFile, 'a');
  // HOME and the XDG folders point into the temp folder: Caddy never touches the real home.
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
  const child: ChildProcess = spawn(binary, ['run', '--config', configFile], {
    env,
    cwd: dir,
    stdio: ['ignore', log, log],
  });
  let exitCode: number | null | undefined;
  child.on('exit', (code, signal) => {
    exitCode = code ?? (signal ? 128 : 1);
  });
  child.on('error', () => {
    exitCode ??= 127;
  });
  // Best effort for a test process that ends without stop(): a stray Caddy would keep its ports.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const logs = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const timeoutMs = options.startTimeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  let ready = false;
  while (Date.now() < deadline && exitCode === undefined) {
    if (await adminAnswers(adminUrl, 1_000)) {
      ready = true;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= new Promise<void>((resolve) => {
      process.removeListener('exit', killOnExit);
      const finish = () => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      };
      if (exitCode !== undefined || child.exitCode !== null || child.signalCode !== null) return finish();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
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
      `Caddy ${exited ? `exited with code ${exitCode} at start` : `did not answer on its admin API within ${timeoutMs} ms`}. Last log lines:\n    ${tail}`,
      'Fix what the log says (often a bad config or a port taken between choosing and binding it), then run again.',
    );
  }

  return {
    adminUrl,
    httpPort,
    serverName,
    ...(httpsPort === undefined ? {} : { httpsPort, httpsServerName: `${serverName}-tls` }),
    zeroDropReloads: tcpMigrateReqEnabled(),
    dir,
    logs,
    stop,
  };
}
