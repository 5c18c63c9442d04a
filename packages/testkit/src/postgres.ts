import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { appendFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CommandResult, isRoot, runCommand } from './command.ts';
import { ensureDebianPackage } from './debian-packages.ts';
import { assertPortFree, freePort } from './ports.ts';
import { TestkitError } from './testkit-error.ts';

export interface StartPostgresOptions {
  /** A fixed port on 127.0.0.1 (it must be free); a free one otherwise. */
  port?: number;
  /**
   * Roles that must log in over TCP with a password (scram-sha-256); every other role is trusted.
   * Create them yourself (`CREATE ROLE app LOGIN PASSWORD '…'`) as the trusted superuser `postgres`.
   */
  passwordRoles?: readonly string[];
  /** Extra `postgresql.conf` settings, e.g. `{ max_connections: '50' }`. */
  settings?: Readonly<Record<string, string>>;
  /** Extra arguments for initdb. */
  initdbArgs?: readonly string[];
  /** How long to wait for the server to accept connections, at every start. */
  startTimeoutMs?: number;
  /** The system user the binaries run as when we are root. */
  runAs?: string;
  /** Overridable for tests of the refusal paths. */
  root?: boolean;
  /** Where the binaries are looked for; by default Debian's `/usr/lib/postgresql/<version>/bin`, newest first. */
  binDirs?: readonly string[];
}

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`: the trusted superuser and its database. */
  readonly url: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The cluster's folder (data, socket and log); removed by `stop()`. */
  readonly dir: string;
  /** The server's log file, for assertions and post-mortems. */
  readonly logFile: string;
  /** The major version of the binaries, e.g. `15`. */
  readonly version: string;
  /**
   * Stops the server (fast shutdown: sessions are disconnected) and starts the same cluster again on
   * the same port, for reconnect tests. `whileDown` runs between the two, to act during the outage.
   */
  restart(options?: { readonly whileDown?: () => Promise<void> | void }): Promise<void>;
  /** Stops the server and removes its folder. Idempotent. */
  stop(): Promise<void>;
}

const debianRoot = '/usr/lib/postgresql';

/** Debian's server binaries, newest major version first. */
function debianBinDirs(): string[] {
  if (!existsSync(debianRoot)) return [];
  return readdirSync(debianRoot)
    .filter((name) => /^\d+(\.\d+)?$/.test(name))
    .sort((a, b) => Number(b) - Number(a))
    .map((name) => join(debianRoot, name, 'bin'));
}

const hasServer = (dir: string): boolean =>
  ['initdb', 'pg_ctl', 'postgres'].every((binary) => existsSync(join(dir, binary)));

async function findBinDir(options: StartPostgresOptions, root: boolean): Promise<string> {
  const candidates = () => options.binDirs ?? debianBinDirs();
  const found = candidates().find(hasServer);
  if (found) return found;
  if (!root) {
    throw new TestkitError(
      `PostgreSQL's server binaries (initdb, pg_ctl, postgres) are not installed (looked in ${candidates().join(', ') || `${debianRoot}/*/bin`}), and installing Debian's postgresql needs root.`,
      'Run "sudo apt-get install -y postgresql", or run the tests as root (the testkit then installs it).',
    );
  }
  let installError: unknown;
  try {
    // Debian 12's postgresql is version 15; another release brings another version, found below.
    await ensureDebianPackage('postgresql', join(debianRoot, '15', 'bin', 'initdb'));
  } catch (error) {
    installError = error;
  }
  const installed = candidates().find(hasServer);
  if (installed) return installed;
  throw (
    installError ??
    new TestkitError(
      `Debian's postgresql was installed, but no server binaries were found in ${candidates().join(', ')}.`,
      'Check "dpkg -L postgresql-15" (or the version installed) and pass binDirs.',
    )
  );
}

function systemUserIds(systemUser: string): { uid: number; gid: number } | undefined {
  const result = spawnSync('id', ['-u', systemUser], { encoding: 'utf8' });
  const group = spawnSync('id', ['-g', systemUser], { encoding: 'utf8' });
  if (result.status !== 0 || group.status !== 0) return undefined;
  return { uid: Number(result.stdout.trim()), gid: Number(group.stdout.trim()) };
}

const lastLines = (text: string, count: number): string =>
  text.trim().split('\n').slice(-count).join('\n    ');

const quoteSetting = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/**
 * Starts a throwaway PostgreSQL cluster: initdb into a temporary folder, trust authentication
 * on 127.0.0.1 only (plus password roles, if asked), a free port, fsync off. As root, the binaries
 * run as Debian's `postgres` system user (PostgreSQL refuses to run as root); otherwise as the
 * current user. Resolves once the server accepts connections.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const root = options.root ?? isRoot();
  const systemUser = options.runAs ?? 'postgres';
  const binDir = await findBinDir(options, root);
  const version = binDir.split('/').at(-2) ?? 'unknown';
  let owner: { uid: number; gid: number } | undefined;
  if (root) {
    owner = systemUserIds(systemUser);
    if (!owner) {
      throw new TestkitError(
        `PostgreSQL refuses to run as root, and there is no "${systemUser}" system user to run it as.`,
        systemUser === 'postgres'
          ? `Reinstall Debian's postgresql-common (it creates the user: "apt-get install --reinstall postgresql-common"), or run the tests as a user other than root.`
          : `Create the user ("useradd --system ${systemUser}"), leave runAs unset to use "postgres", or run the tests as a user other than root.`,
      );
    }
  }
  if (options.port !== undefined) await assertPortFree(options.port, 'PostgreSQL server');
  const port = options.port ?? (await freePort());

  const dir = mkdtempSync(join(tmpdir(), 'dw-testkit-postgres-'));
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'socket');
  const logFile = join(dir, 'server.log');
  mkdirSync(socketDir);
  if (owner) {
    chownSync(dir, owner.uid, owner.gid);
    chownSync(socketDir, owner.uid, owner.gid);
  }
  const run = (binary: string, args: readonly string[], timeoutMs = 60_000): Promise<CommandResult> => {
    const command = join(binDir, binary);
    return root
      ? runCommand('runuser', ['-u', systemUser, '--', command, ...args], { timeoutMs })
      : runCommand(command, args, { timeoutMs });
  };
  const removeDir = () => rmSync(dir, { recursive: true, force: true });

  try {
    const initdb = await run('initdb', [
      '--pgdata',
      dataDir,
      '--username',
      'postgres',
      '--auth',
      'trust',
      '--encoding',
      'UTF8',
      '--locale',
      'C.UTF-8',
      '--no-sync',
      ...(options.initdbArgs ?? []),
    ]);
    if (initdb.code !== 0) {
      throw new TestkitError(
        `initdb failed (exit ${initdb.code}). Last lines of its output:\n    ${lastLines(`${initdb.stdout}\n${initdb.stderr}`, 8)}`,
        'Fix what initdb says (often a locale or a permission on the temporary folder), or check the initdbArgs you passed.',
      );
    }
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      port: String(port),
      unix_socket_directories: socketDir,
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      ...options.settings,
    };
    await appendFile(
      join(dataDir, 'postgresql.conf'),
      `\n# dw-testkit\n${Object.entries(settings)
        .map(([key, value]) => `${key} = ${quoteSetting(value)}`)
        .join('\n')}\n`,
    );
    // pg_hba.conf is first match: password roles first, then everyone trusted, on loopback only.
    const hba = [
      'local all all trust',
      ...(options.passwordRoles ?? []).map((role) => `host all "${role}" 127.0.0.1/32 scram-sha-256`),
      'host all all 127.0.0.1/32 trust',
    ];
    await writeFile(join(dataDir, 'pg_hba.conf'), `${hba.join('\n')}\n`);
  } catch (error) {
    removeDir();
    throw error;
  }

  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const start = async () => {
    const started = await run(
      'pg_ctl',
      [
        'start',
        '--pgdata',
        dataDir,
        '--log',
        logFile,
        '--wait',
        '--timeout',
        String(Math.ceil(startTimeoutMs / 1000)),
      ],
      startTimeoutMs + 10_000,
    );
    if (started.code !== 0) {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
      throw new TestkitError(
        `PostgreSQL ${version} did not start on 127.0.0.1:${port} (pg_ctl exit ${started.code}: ${started.stderr.trim() || started.stdout.trim()}). Last lines of ${logFile}:\n    ${lastLines(log, 8)}`,
        'Fix what the log says (a bad setting, or another server on the port), then run again.',
      );
    }
  };
  const halt = async (mode: 'fast' | 'immediate') => {
    await run('pg_ctl', ['stop', '--pgdata', dataDir, '--mode', mode, '--wait', '--timeout', '30']);
  };

  try {
    await start();
  } catch (error) {
    await halt('immediate');
    removeDir();
    throw error;
  }
  // A test process that ends without stop() must not leave a server behind.
  const onExit = () => {
    const args = ['stop', '--pgdata', dataDir, '--mode', 'immediate'];
    const command = join(binDir, 'pg_ctl');
    if (root) spawnSync('runuser', ['-u', systemUser, '--', command, ...args], { stdio: 'ignore' });
    else spawnSync(command, args, { stdio: 'ignore' });
    removeDir();
  };
  process.once('exit', onExit);

  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    host: '127.0.0.1',
    port,
    dir,
    logFile,
    version,
    restart: async ({ whileDown } = {}) => {
      if (stopping) throw new TestkitError('This PostgreSQL server was stopped.', 'Start a new one.');
      await halt('fast');
      try {
        await whileDown?.();
      } finally {
        await start();
      }
    },
    stop: () => {
      stopping ??= (async () => {
        process.removeListener('exit', onExit);
        await halt('fast');
        removeDir();
      })();
      return stopping;
    },
  };
}
