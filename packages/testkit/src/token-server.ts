import { createHash, createPrivateKey, createPublicKey, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from './command.ts';
import { assertPortFree } from './ports.ts';
import { TestkitError } from './testkit-error.ts';

export interface TokenServerOptions {
  /** Accepted `user -> password` pairs. */
  users: Record<string, string>;
  /** `service` the registry is configured with; tokens are issued for it only. */
  service: string;
  issuer: string;
  /** Lifetime of issued tokens. */
  expiresInSeconds?: number;
  /** Grant pull to requests without credentials. */
  anonymousPull?: boolean;
  port?: number;
}

export interface TokenRequestRecord {
  user: string | undefined;
  scopes: string[];
  status: number;
}

export interface TokenServer {
  /** `http://127.0.0.1:<port>/token`: the realm the registry sends in its challenge. */
  realm: string;
  /** PEM certificate the registry trusts (`rootcertbundle`). */
  certificatePem: string;
  /** Every token request seen, for asserting how often clients fetch tokens. */
  requests: TokenRequestRecord[];
  /** Mints a token directly (for the testkit's own pushes). */
  issue(user: string, scopes: string[]): string;
  close(): Promise<void>;
}

const base64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** libtrust's key id, which distribution matches against the JWT `kid`: base32 of a SHA-256 of the DER key, in groups of four. */
export function libtrustKeyId(spkiDer: Buffer): string {
  const digest = createHash('sha256').update(spkiDer).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)?.join(':') ?? out;
}

interface ParsedScope {
  type: string;
  name: string;
  actions: string[];
}

/** `repository:team/app:pull,push` (names never hold a colon; the type and actions never do either). */
function parseScope(scope: string): ParsedScope | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter(Boolean),
  };
}

function basicCredentials(req: IncomingMessage): { user: string; password: string } | undefined {
  const header = req.headers.authorization;
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * A small Docker token server (the `auth.token` flow of distribution): checks basic credentials,
 * and issues RS256 JWTs that the registry verifies against the certificate.
 */
export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const dir = mkdtempSync(join(tmpdir(), 'dw-token-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  const generated = await runCommand('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=docker-watcher testkit token issuer',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  if (generated.code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new TestkitError(
      `openssl could not make the token server's key: ${generated.stderr.trim()}`,
      "Install Debian's openssl package.",
    );
  }
  const privateKey = createPrivateKey(readFileSync(keyFile));
  const certificatePem = readFileSync(certFile, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  const kid = libtrustKeyId(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
  const expiresIn = options.expiresInSeconds ?? 300;
  const requests: TokenRequestRecord[] = [];

  const issue = (user: string, scopes: string[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const access = scopes
      .map(parseScope)
      .filter((scope): scope is ParsedScope => scope !== undefined)
      .map(({ type, name, actions }) => ({
        type,
        name,
        actions: user === '' ? actions.filter((a) => a === 'pull') : actions,
      }));
    const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
    const claims = base64url(
      JSON.stringify({
        iss: options.issuer,
        sub: user,
        aud: options.service,
        exp: now + expiresIn,
        nbf: now - 10,
        iat: now,
        jti: randomUUID(),
        access,
      }),
    );
    const signature = sign('RSA-SHA256', Buffer.from(`${header}.${claims}`), privateKey);
    return `${header}.${claims}.${base64url(signature)}`;
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const scopes = url.searchParams
      .getAll('scope')
      .flatMap((scope) => scope.split(' '))
      .filter(Boolean);
    const reply = (status: number, body: unknown, user?: string) => {
      requests.push({ user, scopes, status });
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (url.pathname !== '/token')
      return reply(404, { errors: [{ code: 'NOT_FOUND', message: 'no such endpoint' }] });
    if (url.searchParams.get('service') !== options.service) {
      return reply(400, { errors: [{ code: 'UNSUPPORTED', message: 'unknown service' }] });
    }
    const credentials = basicCredentials(req);
    if (!credentials) {
      if (options.anonymousPull) {
        const token = issue('', scopes);
        return reply(200, {
          token,
          access_token: token,
          expires_in: expiresIn,
          issued_at: new Date().toISOString(),
        });
      }
      res.setHeader('www-authenticate', 'Basic realm="docker-watcher testkit"');
      return reply(401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
    }
    if (options.users[credentials.user] !== credentials.password) {
      return reply(
        401,
        { errors: [{ code: 'UNAUTHORIZED', message: 'invalid credentials' }] },
        credentials.user,
      );
    }
    const token = issue(credentials.user, scopes);
    // Both field names, as Docker Hub does: clients must accept either.
    reply(
      200,
      { token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString() },
      credentials.user,
    );
  });

  if (options.port !== undefined) await assertPortFree(options.port, 'token server');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let closing: Promise<void> | undefined;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    certificatePem,
    requests,
    issue,
    close: () => {
      closing ??= new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
