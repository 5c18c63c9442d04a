import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { isRoot, runCommand } from './command.ts';
import { ensureDebianPackage } from './debian-packages.ts';
import { freePort } from './ports.ts';
import { TestkitError } from './testkit-error.ts';

export const defaultEximBinary = '/usr/sbin/exim4';

export interface StartSmtpOptions {
  /** Offer STARTTLS on the plain port and TLS from the first byte on `tlsPort`. Default true. */
  readonly tls?: boolean;
  /** Demand `AUTH PLAIN`/`LOGIN` with these before any recipient is taken. Default: no auth. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** Local parts taken at `@localhost`; anything else is refused at RCPT (550). Default `ops`, `dev`. */
  readonly mailboxes?: readonly string[];
  /** Exim's binary; Debian's `exim4-daemon-light` is installed (as root) when it is missing. */
  readonly binary?: string;
}

export interface SmtpServer {
  readonly host: '127.0.0.1';
  /** SMTP, with STARTTLS when `tls`. */
  readonly port: number;
  /** TLS on connect (SMTPS), when `tls`. */
  readonly tlsPort?: number;
  /** The self-signed certificate (PEM) the server presents, for clients to trust. */
  readonly ca?: string;
  /** The messages delivered to a mailbox so far, raw (headers and body), oldest first. */
  messages(mailbox: string): string[];
  /** Resolves once every accepted message is delivered (Exim's spool is empty), at most `timeoutMs`. */
  delivered(timeoutMs?: number): Promise<void>;
  /** Waits (at most `timeoutMs`) until a mailbox holds `count` messages, and returns them. */
  waitForMessages(mailbox: string, count: number, timeoutMs?: number): Promise<string[]>;
  /** Exim's main and reject logs so far. */
  logs(): string;
  /** Stops Exim (SIGTERM, SIGKILL after 5 s) and removes its folder. Idempotent. */
  stop(): Promise<void>;
}

const eximUser = 'Debian-exim';

function eximConfig(dir: string, ports: { plain: number; tls?: number }, options: StartSmtpOptions): string {
  const mailboxes = (options.mailboxes ?? ['ops', 'dev']).join(' : ');
  const { auth } = options;
  const check = (first: string, second: string) =>
    auth ? `\${if and {{eq{${first}}{${auth.username}}}{eq{${second}}{${auth.password}}}}}` : '';
  return `# Docker Watcher testkit: a private Exim on loopback that delivers to files.
primary_hostname = dw-testkit.localhost
qualify_domain = localhost
domainlist local_domains = localhost
local_interfaces = <; 127.0.0.1
daemon_smtp_ports = ${ports.plain}${ports.tls ? ` : ${ports.tls}` : ''}
${ports.tls ? `tls_on_connect_ports = ${ports.tls}` : ''}
spool_directory = ${dir}/spool
log_file_path = ${dir}/log/%slog
pid_file_path = ${dir}/exim.pid
exim_user = ${eximUser}
exim_group = ${eximUser}
never_users = root
host_lookup =
rfc1413_hosts =
keep_environment =
${ports.tls ? `tls_advertise_hosts = *\ntls_certificate = ${dir}/cert.pem\ntls_privatekey = ${dir}/key.pem` : 'tls_advertise_hosts ='}
auth_advertise_hosts = ${auth ? '*' : ''}
acl_smtp_rcpt = acl_check_rcpt

begin acl
acl_check_rcpt:
${auth ? '  deny    message = authentication required\n          !authenticated = *\n' : ''}  accept  domains = +local_domains
          local_parts = ${mailboxes}
  deny    message = no such mailbox here

begin routers
mailbox:
  driver = accept
  domains = +local_domains
  local_parts = ${mailboxes}
  transport = mailbox_file

begin transports
mailbox_file:
  driver = appendfile
  file = ${dir}/mail/$local_part_data
  user = ${eximUser}
  group = ${eximUser}
  mode = 0644
  delivery_date_add
  envelope_to_add
  return_path_add

begin retry
*  *  F,1m,10s

begin authenticators
${
  auth
    ? `plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${check('$auth2', '$auth3')}
  server_set_id = $auth2
login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = ${check('$auth1', '$auth2')}
  server_set_id = $auth1`
    : ''
}
`;
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('data', (data) => done(data.toString().startsWith('220')));
    socket.once('error', () => done(false));
  });
}

/** Message id -> its place among the messages Exim received (`<=` lines of its main log). */
function receptionOrder(log: string): Map<string, number> {
  const order = new Map<string, number>();
  for (const match of log.matchAll(/^\S+ \S+ ([\w-]+) <= /gm)) {
    if (match[1] !== undefined && !order.has(match[1])) order.set(match[1], order.size);
  }
  return order;
}

/** Splits an mbox file into messages: each starts with a `From ` line, which is dropped. */
function splitMbox(text: string): string[] {
  return text
    .split(/^From [^\n]*\n/m)
    .filter((part) => part.trim() !== '')
    .map((part) => part.replace(/^>(>*From )/gm, '$1'));
}

/**
 * Runs a real SMTP server, Debian's Exim, as a private daemon on free loopback ports with its own
 * config and spool in a temp folder: STARTTLS and SMTPS with a self-signed certificate, optional
 * AUTH, local mailboxes delivered to mbox files the test reads back. Never touches the system's
 * Exim configuration or port 25.
 */
export async function startSmtpServer(options: StartSmtpOptions = {}): Promise<SmtpServer> {
  const binary = options.binary ?? defaultEximBinary;
  if (!existsSync(binary)) {
    if (!isRoot()) {
      throw new TestkitError(
        `${binary} is missing and installing Debian's exim4-daemon-light needs root.`,
        'Run "sudo apt-get install -y exim4-daemon-light", or run the tests as root.',
      );
    }
    await ensureDebianPackage('exim4-daemon-light', binary);
  }
  if (!isRoot()) {
    throw new TestkitError(
      `A private Exim daemon needs root (it runs as ${eximUser} after binding), and this is ${userInfo().username}.`,
      'Run the tests as root.',
    );
  }
  const tls = options.tls ?? true;
  const ports = { plain: await freePort(), ...(tls ? { tls: await freePort() } : {}) };
  const dir = mkdtempSync(join(tmpdir(), 'dw-testkit-smtp-'));
  // Exim reads its files and writes mail as Debian-exim.
  chmodSync(dir, 0o755);
  for (const sub of ['spool', 'log', 'mail']) mkdirSync(join(dir, sub));
  const { uid, gid } = eximIds();
  for (const sub of ['spool', 'log', 'mail']) chownSync(join(dir, sub), uid, gid);
  let ca: string | undefined;
  if (tls) ca = await makeCertificate(dir);
  const configFile = join(dir, 'exim.conf');
  writeFileSync(configFile, eximConfig(dir, ports, options));

  const child: ChildProcess = spawn(binary, ['-C', configFile, '-bdf', '-q1m'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  let exitCode: number | undefined;
  child.on('exit', (code, signal) => {
    exitCode = code ?? (signal ? 128 : 1);
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const logs = () =>
    ['mainlog', 'rejectlog', 'paniclog']
      .map((name) => join(dir, 'log', name))
      .filter((file) => existsSync(file))
      .map((file) => readFileSync(file, 'utf8'))
      .join('');

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= new Promise<void>((resolve) => {
      process.removeListener('exit', killOnExit);
      const finish = () => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      };
      if (exitCode !== undefined) return finish();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      child.once('exit', () => {
        clearTimeout(timer);
        finish();
      });
      child.kill('SIGTERM');
    });
    return stopping;
  };

  const deadline = Date.now() + 15_000;
  let ready = false;
  while (Date.now() < deadline && exitCode === undefined) {
    if (await answers(ports.plain)) {
      ready = true;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (!ready) {
    const tail = `${stderr}\n${logs()}`.trim().split('\n').slice(-8).join('\n    ');
    await stop();
    throw new TestkitError(
      `Exim ${exitCode !== undefined ? `exited with code ${exitCode} at start` : 'did not greet on its port within 15 s'}:\n    ${tail}`,
      'Fix what the log says, then run again.',
    );
  }

  const messages = (mailbox: string): string[] => {
    const file = join(dir, 'mail', mailbox);
    if (!existsSync(file)) return [];
    // Each message is delivered by its own process, so the mailbox may hold them out of order:
    // they are put back in the order Exim received them, as its log tells.
    const received = receptionOrder(logs());
    const rank = (message: string) =>
      received.get(/\sid ([\w-]+)/.exec(message)?.[1] ?? '') ?? Number.MAX_SAFE_INTEGER;
    return splitMbox(readFileSync(file, 'utf8')).sort((a, b) => rank(a) - rank(b));
  };
  const queued = (): number => {
    const input = join(dir, 'spool', 'input');
    return existsSync(input)
      ? readdirSync(input, { recursive: true }).filter((name) => String(name).endsWith('-H')).length
      : 0;
  };
  return {
    host: '127.0.0.1',
    port: ports.plain,
    ...(ports.tls ? { tlsPort: ports.tls } : {}),
    ...(ca ? { ca } : {}),
    messages,
    waitForMessages: async (mailbox, count, timeoutMs = 10_000) => {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = messages(mailbox);
        if (found.length >= count) return found;
        if (Date.now() > until) {
          throw new TestkitError(
            `Mailbox ${mailbox} holds ${found.length} of ${count} messages after ${timeoutMs} ms. Exim's log:\n${logs().trim().split('\n').slice(-6).join('\n')}`,
            'Look at what Exim logged about the delivery.',
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    delivered: async (timeoutMs = 10_000) => {
      const until = Date.now() + timeoutMs;
      while (queued() > 0) {
        if (Date.now() > until) {
          throw new TestkitError(
            `Exim still holds ${queued()} messages after ${timeoutMs} ms.`,
            'Look at what Exim logged about the delivery.',
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    logs,
    stop,
  };
}

function eximIds(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${eximUser}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new TestkitError(
      `There is no user ${eximUser}.`,
      'Reinstall exim4-daemon-light (apt-get install --reinstall exim4-daemon-light).',
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

/** A throwaway self-signed certificate for localhost and 127.0.0.1, valid one day. */
async function makeCertificate(dir: string): Promise<string> {
  const result = await runCommand('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'cert.pem'),
  ]);
  if (result.code !== 0) {
    throw new TestkitError(
      `openssl could not make a test certificate: ${result.stderr.trim().split('\n').at(-1)}`,
      'Install openssl (apt-get install -y openssl).',
    );
  }
  // The daemon reads the key after giving up root.
  chmodSync(join(dir, 'key.pem'), 0o644);
  return readFileSync(join(dir, 'cert.pem'), 'utf8');
}
