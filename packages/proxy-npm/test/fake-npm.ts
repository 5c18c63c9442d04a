import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SchemaSet } from './json-schema.ts';
import { configureHost, type NpmNginx, nginxHealthy, removeHostConfig } from './npm-nginx.ts';

/**
 * A loopback Nginx Proxy Manager (2.15) for tests: the parts of its API Docker Watcher uses, with
 * request bodies checked against NPM's own schemas (`fixtures/npm-schema`, copied from
 * NginxProxyManager/nginx-proxy-manager v2.15.1) and the answers a running NPM gives, which are not
 * always what its schema suggests (see `fixtures/npm-schema/OBSERVED.md`):
 *
 * - no 401 anywhere: no `Authorization` → 404 `Not Found - /nginx/proxy-hosts`; a malformed or
 *   unknown bearer token → 500 `Internal Error`; an expired one → 400 `Token has expired`;
 * - a wrong password → 400 `Invalid email or password` (with `message_i18n`);
 * - a create answers 201 with `meta: {}`; nginx's verdict (`meta.nginx_online`, `nginx_err`) shows on
 *   a later GET or in a PUT's answer; when nginx refuses a host's config, the file goes, the record stays;
 * - validation errors are 400 `data/<field> …`; `PUT {}` is 400; a numeric string port is converted;
 * - a domain used by another host (compared case-insensitively) is 400 `<domain> is already in use`;
 * - when nginx's global check fails (`nginxBroken`), a create stores the host with `meta: {}` and no
 *   config, a switch stores the new values while nginx keeps serving the old ones, and both answer
 *   500 `Internal Error`;
 * - missing permissions are never 403: with proxy hosts on "view", a create is 500 `Internal Error`
 *   and a switch or delete 404 `Not Found - /nginx/proxy-hosts/<id>`; hidden certificates are a 404;
 * - an empty bearer token is a 404; certificates list custom certificates' private keys in `meta`;
 * - with `htmlErrors` set, NPM's own nginx answers every API call with that status and an HTML page
 *   (its backend is down).
 *
 * With `nginx` (the testkit's `startNginx()`), the fake also does what NPM does to its nginx: every
 * create, update, enable, disable and delete renders the host's config in NPM's template form into
 * that nginx's `hostsDir`, runs `nginx -t` and `nginx -s reload` in NPM's order, and answers only then;
 * nginx's own verdict sets `meta` (a failing `nginx -t` of the whole config first acts as `nginxBroken`).
 * Traffic through `nginx.httpPort` then reaches what the hosts forward to.
 */

const schemaRoot = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'npm-schema');
export const npmSchemas = new SchemaSet(schemaRoot);

const bodies = {
  login: npmSchemas.requestBody('paths/tokens/post.json'),
  create: npmSchemas.requestBody('paths/nginx/proxy-hosts/post.json'),
  update: npmSchemas.requestBody('paths/nginx/proxy-hosts/hostID/put.json'),
};

export interface FakeNpmUser {
  readonly email: string;
  readonly password: string;
  /** The login answers with a 2FA challenge instead of a token. */
  readonly twoFactor?: boolean;
  /** The user's proxy hosts permission; `view` cannot write (NPM then answers 500 or 404, never 403). */
  readonly proxyHosts?: 'manage' | 'view';
  /** The user's certificates permission; `hidden` gets 404 for the list. */
  readonly certificates?: 'view' | 'hidden';
}

export interface FakeRequest {
  readonly method: string;
  /** Path without the query, e.g. `/api/nginx/proxy-hosts/3`. */
  readonly path: string;
  readonly body?: unknown;
  readonly status: number;
  readonly auth: 'none' | 'valid' | 'expired' | 'invalid';
}

export interface ProxyHostRecord {
  id: number;
  created_on: string;
  modified_on: string;
  owner_user_id: number;
  domain_names: string[];
  forward_host: string;
  forward_port: number;
  access_list_id: number;
  certificate_id: number | string;
  ssl_forced: boolean;
  caching_enabled: boolean;
  block_exploits: boolean;
  advanced_config: string;
  meta: Record<string, unknown>;
  allow_websocket_upgrade: boolean;
  http2_support: boolean;
  forward_scheme: 'http' | 'https';
  enabled: boolean;
  locations: unknown[] | null;
  hsts_enabled: boolean;
  hsts_subdomains: boolean;
  trust_forwarded_proto: boolean;
}

export interface CertificateRecord {
  id: number;
  created_on: string;
  modified_on: string;
  owner_user_id: number;
  provider: 'letsencrypt' | 'other';
  nice_name: string;
  domain_names: string[];
  expires_on: string;
  meta: Record<string, unknown>;
}

/** What nginx serves for a host after NPM wrote its config: absent when there is no config file. */
export interface ServedTarget {
  readonly forward_scheme: string;
  readonly forward_host: string;
  readonly forward_port: number;
}

export interface FakeNpm {
  /** `http://127.0.0.1:<port>`: NPM's admin address (the API is under `/api`). */
  readonly url: string;
  /** The first user: the one tests log in as. */
  readonly user: FakeNpmUser;
  readonly requests: FakeRequest[];
  /** Requests that change something (not GET, not logins). */
  writes(): FakeRequest[];
  hosts(): ProxyHostRecord[];
  host(id: number): ProxyHostRecord | undefined;
  /** A host as a person would create it in NPM's UI (no Docker Watcher marker). */
  seedHost(fields: Partial<ProxyHostRecord> & Pick<ProxyHostRecord, 'domain_names'>): ProxyHostRecord;
  seedCertificate(
    fields: Pick<CertificateRecord, 'domain_names'> & Partial<CertificateRecord>,
  ): CertificateRecord;
  /** A domain used by another kind of host (redirection, 404): proxy hosts cannot take it. */
  reserveDomain(domain: string): void;
  /** Every token issued so far is expired from now on. */
  expireTokens(): void;
  /** NPM restarted with new signing keys: tokens issued so far are unknown (500 `Internal Error`). */
  forgetTokens(): void;
  /** Lifetime of tokens issued from now on. */
  tokenLifetimeMs: number;
  /** When it returns a text for a host, `nginx -t` fails with that text for the host's config. */
  nginxFails: ((host: ProxyHostRecord) => string | undefined) | undefined;
  /**
   * nginx's global check fails (another host's or a custom config is broken): every change is
   * stored, nginx keeps serving what it served, and the API answers 500 `Internal Error`.
   */
  nginxBroken: boolean;
  /** When set, every `/api` call gets this status with an HTML page, as NPM's nginx gives while its backend is down. */
  htmlErrors: number | undefined;
  /** What nginx routes a domain to right now (config files present, host enabled). */
  served(domain: string): ServedTarget | undefined;
  close(): Promise<void>;
}

/** The private key fake custom certificates carry, for tests that check it never leaks. */
export const customKey =
  '-----BEGIN PRIVATE KEY-----\nfake-npm-private-key-do-not-leak\n-----END PRIVATE KEY-----';

const iso = (ms = Date.now()): string =>
  `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}.000Z`;
const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function send(res: ServerResponse, status: number, body: unknown): number {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
  return status;
}

function error(
  res: ServerResponse,
  status: number,
  message: string,
  extra: Record<string, unknown> = {},
): number {
  return send(res, status, { error: { code: status, message, ...extra } });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

export interface FakeNpmOptions {
  users?: FakeNpmUser[];
  tokenLifetimeMs?: number;
  /** A real nginx to write host configs for and reload, as NPM does (see above). */
  nginx?: NpmNginx;
}

export async function startFakeNpm(options: FakeNpmOptions = {}): Promise<FakeNpm> {
  const nginx = options.nginx;
  const users = options.users ?? [{ email: 'watcher@example.com', password: 'fake-npm-Pa55word!' }];
  const requests: FakeRequest[] = [];
  const tokens = new Map<string, { email: string; expiresAt: number }>();
  const hosts = new Map<number, ProxyHostRecord>();
  const certificates = new Map<number, CertificateRecord>();
  const configs = new Map<number, ServedTarget>();
  const reserved = new Set<string>();
  let nextHostId = 1;
  let nextCertificateId = 1;

  const state = {
    tokenLifetimeMs: options.tokenLifetimeMs ?? 86_400_000,
    nginxFails: undefined as ((host: ProxyHostRecord) => string | undefined) | undefined,
    nginxBroken: false,
    htmlErrors: undefined as number | undefined,
  };

  const issue = (email: string): { token: string; expires: string } => {
    const now = Date.now();
    const expiresAt = now + state.tokenLifetimeMs;
    const token = [
      base64url({ alg: 'RS256', typ: 'JWT' }),
      base64url({
        attrs: { id: 1 },
        scope: ['user'],
        jti: randomBytes(6).toString('hex'),
        iat: Math.floor(now / 1000),
      }),
      randomBytes(32).toString('base64url'),
    ].join('.');
    tokens.set(token, { email, expiresAt });
    return { token, expires: new Date(expiresAt).toISOString() };
  };

  const inUse = (domains: readonly string[], except?: number): string | undefined => {
    for (const domain of domains) {
      const lower = domain.toLowerCase();
      if (reserved.has(lower)) return domain;
      for (const host of hosts.values()) {
        if (host.id !== except && host.domain_names.some((name) => name.toLowerCase() === lower))
          return domain;
      }
    }
    return undefined;
  };

  /** NPM's internalNginx.configure: drop the old file, write the new one, `nginx -t`, record the verdict in meta. */
  const configure = async (host: ProxyHostRecord): Promise<void> => {
    configs.delete(host.id);
    if (!host.enabled) {
      if (nginx) await removeHostConfig(nginx, host.id);
      return;
    }
    const failure =
      state.nginxFails?.(host) ?? (nginx ? await configureHost(nginx, structuredClone(host)) : undefined);
    if (failure !== undefined) {
      host.meta = { ...host.meta, nginx_online: false, nginx_err: failure };
      return;
    }
    host.meta = { ...host.meta, nginx_online: true, nginx_err: null };
    configs.set(host.id, {
      forward_scheme: host.forward_scheme,
      forward_host: host.forward_host,
      forward_port: host.forward_port,
    });
  };

  /** NPM tests nginx's whole config before it touches a host: a failure there stops the change. */
  const broken = async (): Promise<boolean> =>
    state.nginxBroken || (nginx !== undefined && !(await nginxHealthy(nginx)));

  const owner = (email: string) => ({
    id: 1,
    created_on: iso(),
    modified_on: iso(),
    is_disabled: false,
    email,
    name: 'Docker Watcher',
    nickname: 'watcher',
    avatar: '//www.gravatar.com/avatar/00000000000000000000000000000000?default=mm',
    roles: ['admin'],
  });

  const present = (
    host: ProxyHostRecord,
    expand: readonly string[],
    email: string,
  ): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...structuredClone(host) };
    if (expand.includes('certificate')) {
      const certificate =
        typeof host.certificate_id === 'number' ? certificates.get(host.certificate_id) : undefined;
      out.certificate = certificate ? structuredClone(certificate) : null;
    }
    if (expand.includes('owner')) out.owner = owner(email);
    if (expand.includes('access_list')) out.access_list = null;
    return out;
  };

  const newHost = (fields: Record<string, unknown>): ProxyHostRecord => {
    const now = iso();
    const host: ProxyHostRecord = {
      id: nextHostId++,
      created_on: now,
      modified_on: now,
      owner_user_id: 1,
      domain_names: [],
      forward_host: '',
      forward_port: 80,
      access_list_id: 0,
      certificate_id: 0,
      ssl_forced: false,
      caching_enabled: false,
      block_exploits: false,
      advanced_config: '',
      meta: {},
      allow_websocket_upgrade: false,
      http2_support: false,
      forward_scheme: 'http',
      enabled: true,
      locations: null,
      hsts_enabled: false,
      hsts_subdomains: false,
      trust_forwarded_proto: false,
      ...(fields as Partial<ProxyHostRecord>),
    };
    hosts.set(host.id, host);
    return host;
  };

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    record: (entry: Omit<FakeRequest, 'method' | 'path'>) => void,
  ) => {
    const url = new URL(req.url ?? '/', 'http://fake-npm');
    const method = req.method ?? 'GET';
    const text = method === 'GET' || method === 'DELETE' ? '' : await readBody(req);
    let body: unknown;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        return record({ status: error(res, 400, 'Internal Error'), auth: 'none' });
      }
    }
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (state.htmlErrors !== undefined && path.startsWith('/api')) {
      const status = state.htmlErrors;
      const page = `<html>\r\n<head><title>${status} Bad Gateway</title></head>\r\n<body>\r\n<center><h1>${status} Bad Gateway</h1></center>\r\n<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n`;
      res.writeHead(status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(page) });
      res.end(page);
      return record({ status, auth: 'none' });
    }

    if (method === 'GET' && path === '/api') {
      return record({
        status: send(res, 200, { status: 'OK', setup: true, version: { major: 2, minor: 15, revision: 1 } }),
        auth: 'none',
      });
    }

    if (method === 'POST' && path === '/api/tokens') {
      const checked = npmSchemas.check(bodies.login, body ?? {});
      if (checked.errors[0])
        return record({ body, status: error(res, 400, checked.errors[0]), auth: 'none' });
      const { identity, secret } = body as { identity: string; secret: string };
      const user = users.find((candidate) => candidate.email.toLowerCase() === identity.toLowerCase());
      if (!user || user.password !== secret) {
        return record({
          body: { identity, secret: '[hidden]' },
          status: error(
            res,
            400,
            'Invalid email or password',
            user ? { message_i18n: 'error.invalid-auth' } : {},
          ),
          auth: 'none',
        });
      }
      if (user.twoFactor) {
        return record({
          body: { identity, secret: '[hidden]' },
          status: send(res, 200, { requires_2fa: true, challenge_token: issue(user.email).token }),
          auth: 'none',
        });
      }
      return record({
        body: { identity, secret: '[hidden]' },
        status: send(res, 200, issue(user.email)),
        auth: 'none',
      });
    }

    // Everything else needs a token, and fails the way NPM fails without one.
    const header = req.headers.authorization;
    if (!header)
      return record({ body, status: error(res, 404, `Not Found - ${path.slice(4)}`), auth: 'none' });
    const token = /^Bearer (.*)$/.exec(header)?.[1] ?? '';
    if (token.trim() === '')
      return record({ body, status: error(res, 404, `Not Found - ${path.slice(4)}`), auth: 'none' });
    const session = tokens.get(token);
    if (!session) return record({ body, status: error(res, 500, 'Internal Error'), auth: 'invalid' });
    if (Date.now() >= session.expiresAt) {
      return record({ body, status: error(res, 400, 'Token has expired'), auth: 'expired' });
    }
    const user = users.find((candidate) => candidate.email === session.email) ?? users[0];
    const ok = (status: number) => record({ body, status, auth: 'valid' });
    const expand = (url.searchParams.get('expand') ?? '').split(',').filter((part) => part !== '');

    if (method === 'GET' && path === '/api/tokens') return ok(send(res, 200, issue(session.email)));

    if (method === 'GET' && path === '/api/nginx/certificates') {
      if (user?.certificates === 'hidden') return ok(error(res, 404, `Not Found - ${path.slice(4)}`));
      return ok(
        send(
          res,
          200,
          [...certificates.values()].map((certificate) => structuredClone(certificate)),
        ),
      );
    }

    if (path === '/api/nginx/proxy-hosts' || path.startsWith('/api/nginx/proxy-hosts/')) {
      const rest = path
        .slice('/api/nginx/proxy-hosts'.length)
        .split('/')
        .filter((part) => part !== '');
      const viewOnly = method !== 'GET' && user?.proxyHosts === 'view';
      // NPM 2.15 never says 403: a create fails inside (500), a write to an id is "not found" (404).
      if (viewOnly && rest.length === 0) return ok(error(res, 500, 'Internal Error'));
      if (viewOnly) return ok(error(res, 404, `Not Found - ${path.slice(4)}`));

      if (rest.length === 0 && method === 'GET') {
        const sorted = [...hosts.values()].sort((a, b) =>
          (a.domain_names[0] ?? '').localeCompare(b.domain_names[0] ?? ''),
        );
        return ok(
          send(
            res,
            200,
            sorted.map((host) => present(host, expand, session.email)),
          ),
        );
      }
      if (rest.length === 0 && method === 'POST') {
        const checked = npmSchemas.check(bodies.create, body ?? {}, { coerce: true });
        if (checked.errors[0]) return ok(error(res, 400, checked.errors[0]));
        const fields = checked.value as Record<string, unknown>;
        const taken = inUse(fields.domain_names as string[]);
        if (taken) return ok(error(res, 400, `${taken} is already in use`));
        const host = newHost({ ...fields, meta: (fields.meta as Record<string, unknown> | undefined) ?? {} });
        // The row is in; nginx's check fails after it: no config, meta as inserted, a 500.
        if (await broken()) return ok(error(res, 500, 'Internal Error'));
        await configure(host);
        // NPM answers with the row as inserted: nginx's verdict shows only on a later read.
        const answer = present(host, ['certificate', 'owner', 'access_list'], session.email);
        answer.meta = {};
        return ok(send(res, 201, answer));
      }

      const id = Number(rest[0]);
      const host = Number.isInteger(id) ? hosts.get(id) : undefined;
      if (!host) return ok(error(res, 404, `Not Found - ${rest[0]}`));

      if (rest.length === 1 && method === 'GET')
        return ok(send(res, 200, present(host, expand, session.email)));
      if (rest.length === 1 && method === 'PUT') {
        const checked = npmSchemas.check(bodies.update, body ?? {}, { coerce: true });
        if (checked.errors[0]) return ok(error(res, 400, checked.errors[0]));
        const fields = checked.value as Record<string, unknown>;
        if (Array.isArray(fields.domain_names)) {
          const taken = inUse(fields.domain_names as string[], host.id);
          if (taken) return ok(error(res, 400, `${taken} is already in use`));
        }
        Object.assign(host, fields, { modified_on: iso() });
        // The record holds the new values; nginx keeps what it loaded, meta keeps its old verdict.
        if (await broken()) return ok(error(res, 500, 'Internal Error'));
        await configure(host);
        return ok(send(res, 200, present(host, ['certificate', 'owner', 'access_list'], session.email)));
      }
      if (rest.length === 1 && method === 'DELETE') {
        hosts.delete(host.id);
        configs.delete(host.id);
        if (nginx) await removeHostConfig(nginx, host.id);
        return ok(send(res, 200, true));
      }
      if (rest.length === 2 && method === 'POST' && (rest[1] === 'enable' || rest[1] === 'disable')) {
        const enable = rest[1] === 'enable';
        if (host.enabled === enable)
          return ok(error(res, 400, `Host is already ${enable ? 'enabled' : 'disabled'}`));
        host.enabled = enable;
        if (await broken()) return ok(error(res, 500, 'Internal Error'));
        await configure(host);
        return ok(send(res, 200, true));
      }
    }
    return ok(error(res, 404, `Not Found - ${path.slice(4)}`));
  };

  const server: Server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://fake-npm').pathname;
    handle(req, res, (entry) => requests.push({ method, path, ...entry })).catch((failure: unknown) => {
      requests.push({ method, path, status: 500, auth: 'none' });
      error(res, 500, `fake-npm: ${String(failure)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    user: users[0] ?? { email: '', password: '' },
    requests,
    writes: () => requests.filter((entry) => entry.method !== 'GET' && entry.path !== '/api/tokens'),
    hosts: () => [...hosts.values()].map((host) => structuredClone(host)),
    host: (id) => {
      const host = hosts.get(id);
      return host ? structuredClone(host) : undefined;
    },
    seedHost: (fields) => {
      const host = newHost({ forward_host: '10.0.0.9', forward_port: 8080, ...fields });
      // Without a real nginx this settles at once; with one, the host is live after its reload.
      void configure(host);
      return structuredClone(host);
    },
    seedCertificate: (fields) => {
      const now = iso();
      const provider = fields.provider ?? 'letsencrypt';
      const certificate: CertificateRecord = {
        id: nextCertificateId++,
        created_on: now,
        modified_on: now,
        owner_user_id: 1,
        provider,
        nice_name: fields.domain_names[0] ?? 'certificate',
        // NPM lists expiries as "YYYY-MM-DD HH:MM:SS", not ISO 8601.
        expires_on: iso(Date.now() + 60 * 86_400_000)
          .slice(0, 19)
          .replace('T', ' '),
        // A custom certificate's list entry carries its private key.
        meta:
          provider === 'other'
            ? {
                certificate: '-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----',
                certificate_key: customKey,
              }
            : { dns_challenge: false },
        ...fields,
      };
      certificates.set(certificate.id, certificate);
      return structuredClone(certificate);
    },
    reserveDomain: (domain) => {
      reserved.add(domain.toLowerCase());
    },
    expireTokens: () => {
      for (const session of tokens.values()) session.expiresAt = 0;
    },
    forgetTokens: () => {
      tokens.clear();
    },
    get tokenLifetimeMs() {
      return state.tokenLifetimeMs;
    },
    set tokenLifetimeMs(value: number) {
      state.tokenLifetimeMs = value;
    },
    get nginxFails() {
      return state.nginxFails;
    },
    set nginxFails(value) {
      state.nginxFails = value;
    },
    get nginxBroken() {
      return state.nginxBroken;
    },
    set nginxBroken(value: boolean) {
      state.nginxBroken = value;
    },
    get htmlErrors() {
      return state.htmlErrors;
    },
    set htmlErrors(value: number | undefined) {
      state.htmlErrors = value;
    },
    served: (domain) => {
      const lower = domain.toLowerCase();
      for (const host of hosts.values()) {
        if (host.domain_names.some((name) => name.toLowerCase() === lower)) return configs.get(host.id);
      }
      return undefined;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
