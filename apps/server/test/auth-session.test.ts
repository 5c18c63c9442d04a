import { spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ConfigError, createMemoryLogger, type MemoryLogger } from '@docker-watcher/core';
import { serve } from '@hono/node-server';
import { compare } from 'bcryptjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { compose } from '../src/compose.ts';
import { loadConfigText } from '../src/config/load.ts';
import { createApp } from '../src/http/app.ts';
import { hashPassword } from '../src/http/passwords.ts';
import { createFailureLimiter } from '../src/http/rate-limit.ts';
import { createSessionStore } from '../src/http/sessions.ts';
import { auth, env, tokens } from './support.ts';

const passwords = { alice: 'alice-password-do-not-leak', rita: 'rita-password-do-not-leak' };
// Cost 4 keeps the tests fast; the login checks any cost the hash carries.
const hashes = { alice: '', rita: '' };
beforeAll(async () => {
  hashes.alice = await hashPassword(passwords.alice, 4);
  hashes.rita = await hashPassword(passwords.rita, 4);
});

const configText = (session = '') => `
global:
  store: "memory:"
  target: { type: memory }
  proxy: { type: memory }
  poll_interval_seconds: 0
  server:
    tokens:
      - { name: deployer, token_env: DW_DEPLOY, scopes: [deploy] }
    users:
      - { name: alice, password_hash_env: DW_ALICE_HASH, scopes: [deploy] }
      - { name: rita, password_hash: "${hashes.rita}", scopes: [read] }
    session:
      trusted_proxies: [10.0.0.0/8]
${session}
registries:
  local: { type: memory }
projects:
  web-app:
    registry: local
    image: registry.test/team/web-app
    stages:
      dev: { tag_pattern: "dev-*" }
`;

interface Harness {
  app: ReturnType<typeof createApp>;
  logs: MemoryLogger;
  close(): Promise<void>;
}

async function harness(session = ''): Promise<Harness> {
  const config = await loadConfigText(configText(session), { ...env, DW_ALICE_HASH: hashes.alice });
  // No redaction in front: what the login code logs is what this test sees.
  const logs = createMemoryLogger();
  const composed = compose(config, { logger: logs });
  const app = createApp(composed);
  await composed.engine.start();
  return { app, logs, close: () => composed.dispose() };
}

let h: Harness;
const responses: string[] = [];
beforeEach(async () => {
  h = await harness();
  responses.length = 0;
});
afterEach(async () => {
  vi.useRealTimers();
  await h?.close();
});

const peer = (address: string) => ({ incoming: { socket: { remoteAddress: address } } });

/** A request through the app, its body kept for the secret check. */
async function call(
  path: string,
  init: RequestInit = {},
  from = '192.0.2.10',
): Promise<{
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}> {
  const response = await h.app.request(path, init, peer(from));
  const text = await response.text();
  responses.push(text, JSON.stringify([...response.headers]));
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} };
}

const login = (username: string, password: string, from?: string, headers: Record<string, string> = {}) =>
  call(
    '/api/auth/login',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ username, password }),
    },
    from,
  );

/** Logs in and returns the cookie header to send and the CSRF token. */
async function session(user: keyof typeof passwords = 'alice') {
  const response = await login(user, passwords[user]);
  expect(response.status).toBe(200);
  const setCookie = response.headers.get('set-cookie')!;
  const id = /^dw_session=([^;]+)/.exec(setCookie)![1]!;
  return { cookie: `dw_session=${id}`, id, csrf: response.body.csrfToken as string };
}

const autoDeploy = '/api/projects/web-app/stages/dev/auto-deploy';
const toggle = (headers: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify({ enabled: false }),
});

describe('dashboard login', () => {
  it('logs in: the caller, a CSRF token, and a session cookie that is HttpOnly, SameSite=Strict, Path=/', async () => {
    const response = await login('alice', passwords.alice);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      caller: { name: 'alice', scopes: ['read', 'deploy'] },
      csrfToken: expect.stringMatching(/^[\w-]{43}$/),
    });
    expect(Date.parse(response.body.expiresAt as string) - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const cookie = response.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^dw_session=[\w-]{43}; Max-Age=43200; Path=\/; HttpOnly; SameSite=Strict$/);
    // Plain HTTP from an untrusted peer: not Secure, whatever X-Forwarded-Proto claims.
    const spoofed = await login('alice', passwords.alice, '192.0.2.10', { 'x-forwarded-proto': 'https' });
    expect(spoofed.headers.get('set-cookie')).not.toContain('Secure');
  });

  it('marks the cookie Secure over HTTPS, directly or through a trusted proxy', async () => {
    const direct = await h.app.request(
      'https://dw.example.test/api/auth/login',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password: passwords.alice }),
      },
      peer('192.0.2.10'),
    );
    expect(direct.headers.get('set-cookie')).toMatch(/; Secure/);
    const proxied = await login('alice', passwords.alice, '10.1.2.3', { 'x-forwarded-proto': 'https' });
    expect(proxied.headers.get('set-cookie')).toMatch(/; Secure/);
  });

  it('honours secure_cookie: true and false', async () => {
    await h.close();
    h = await harness('      secure_cookie: true');
    expect((await login('alice', passwords.alice)).headers.get('set-cookie')).toMatch(/; Secure/);
    await h.close();
    h = await harness('      secure_cookie: false');
    const proxied = await login('alice', passwords.alice, '10.1.2.3', { 'x-forwarded-proto': 'https' });
    expect(proxied.headers.get('set-cookie')).not.toContain('Secure');
  });

  it('answers 401 to a wrong password and to an unknown user alike, without a cookie', async () => {
    for (const [user, password] of [
      ['alice', 'not-her-password'],
      ['mallory', passwords.alice],
      ['Alice', passwords.alice],
    ] as const) {
      const response = await login(user, password);
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        error: { code: 'UNAUTHORIZED', message: 'Wrong user name or password' },
      });
      expect(response.headers.get('set-cookie')).toBeNull();
    }
  });

  it('answers 400 to malformed logins, never echoing the password', async () => {
    const post = (body: string, contentType = 'application/json') =>
      call('/api/auth/login', { method: 'POST', headers: { 'content-type': contentType }, body });
    const notJson = await post('{');
    expect(notJson.status).toBe(400);
    const missing = await post(JSON.stringify({ username: 'alice' }));
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'BAD_REQUEST', fields: [{ path: 'password' }] });
    const wrongType = await post(JSON.stringify({ username: 'alice', password: 987654321 }));
    expect(wrongType.status).toBe(400);
    expect(JSON.stringify(wrongType.body)).not.toContain('987654321');
    const extra = await post(JSON.stringify({ username: 'alice', password: 'x', remember: true }));
    expect(extra.status).toBe(400);
    const form = await post(
      `username=alice&password=${passwords.alice}`,
      'application/x-www-form-urlencoded',
    );
    expect(form.status).toBe(400);
    expect(form.body.error?.message).toContain('Content-Type must be application/json');
  });

  it('refuses a cross-site login', async () => {
    const response = await login('alice', passwords.alice, undefined, { origin: 'https://evil.example' });
    expect(response.status).toBe(403);
    expect(response.headers.get('set-cookie')).toBeNull();
  });
});

describe('session authentication', () => {
  it('lets the session read what a token reads, including the registrywatcher routes', async () => {
    const { cookie, csrf } = await session();
    expect((await call('/api/projects', { headers: { cookie } })).status).toBe(200);
    expect((await call('/repos', { headers: { cookie } })).status).toBe(200);
    expect((await call('/api/deploys', { headers: { cookie } })).status).toBe(200);
    const current = await call('/api/auth/session', { headers: { cookie } });
    expect(current.status).toBe(200);
    expect(current.body).toMatchObject({
      caller: { name: 'alice', scopes: ['read', 'deploy'] },
      csrfToken: csrf,
    });
    expect(current.headers.get('cache-control')).toBe('no-store');
  });

  it('needs the CSRF token on mutating requests made with the session cookie', async () => {
    const { cookie, csrf } = await session();
    const without = await call(autoDeploy, toggle({ cookie }));
    expect(without.status).toBe(403);
    expect(without.body.error).toEqual({
      code: 'FORBIDDEN',
      message:
        "A request authenticated by the session cookie needs the session's CSRF token in the X-CSRF-Token header (from POST /api/auth/login or GET /api/auth/session)",
    });
    const other = await session('rita');
    for (const wrong of ['wrong', other.csrf, `${csrf}x`]) {
      expect((await call(autoDeploy, toggle({ cookie, 'x-csrf-token': wrong }))).status).toBe(403);
    }
    const ok = await call(autoDeploy, toggle({ cookie, 'x-csrf-token': csrf, origin: 'http://localhost' }));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ name: 'dev', autoDeploy: false });
    const reset = await call('/tags/web-app/reset', {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf, 'sec-fetch-site': 'same-origin' },
    });
    expect(reset.status).toBe(200);
  });

  it('refuses cross-origin mutations even with the CSRF token', async () => {
    const { cookie, csrf } = await session();
    for (const headers of [
      { origin: 'https://evil.example' } as Record<string, string>,
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ]) {
      const response = await call(autoDeploy, toggle({ cookie, 'x-csrf-token': csrf, ...headers }));
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect(response.body.error?.message).toMatch(/^Cross-(site|origin) request refused/);
    }
    // Behind a trusted proxy the client addressed X-Forwarded-Host.
    const proxied = await call(
      autoDeploy,
      toggle({
        cookie,
        'x-csrf-token': csrf,
        origin: 'https://dw.example.test',
        'x-forwarded-host': 'dw.example.test',
      }),
      '10.9.9.9',
    );
    expect(proxied.status).toBe(200);
  });

  it('leaves Bearer requests as they were, cookie or not', async () => {
    const { cookie } = await session('rita');
    const response = await call(autoDeploy, toggle({ ...auth(tokens.deploy), cookie }));
    expect(response.status).toBe(200);
    const wrongToken = await call('/api/projects', {
      headers: { ...auth('wrong-token-0123456789'), cookie },
    });
    expect(wrongToken.status).toBe(401);
  });

  it('enforces the user’s scopes: 403 for a read user', async () => {
    const { cookie, csrf } = await session('rita');
    expect((await call('/api/projects', { headers: { cookie } })).status).toBe(200);
    const response = await call(autoDeploy, toggle({ cookie, 'x-csrf-token': csrf }));
    expect(response.status).toBe(403);
    expect(response.body.error).toEqual({ code: 'FORBIDDEN', message: 'User rita lacks the deploy scope' });
    const reset = await call('/tags/web-app/reset', {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf },
    });
    expect(reset.status).toBe(403);
  });

  it('logs out: the cookie is cleared and the session no longer works', async () => {
    const { cookie, csrf } = await session();
    expect((await call('/api/auth/logout', { method: 'POST', headers: { cookie } })).status).toBe(403);
    const out = await call('/api/auth/logout', { method: 'POST', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/^dw_session=; Max-Age=0; Path=\//);
    const after = await call('/api/projects', { headers: { cookie } });
    expect(after.status).toBe(401);
    expect(after.body.error?.message).toBe('The dashboard session has expired or was ended: log in again');
    expect((await call('/api/auth/session', { headers: { cookie } })).status).toBe(401);
    expect((await call('/api/auth/session')).body.error?.message).toBe('Not logged in');
    // Logging out again is harmless.
    expect((await call('/api/auth/logout', { method: 'POST', headers: { cookie } })).status).toBe(200);
  });

  it('ends sessions after the idle timeout and after the maximum age', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2030-01-01T00:00:00Z') });
    const idle = await session();
    vi.setSystemTime(Date.parse('2030-01-01T00:29:00Z'));
    expect((await call('/api/projects', { headers: { cookie: idle.cookie } })).status).toBe(200);
    vi.setSystemTime(Date.parse('2030-01-01T00:58:00Z'));
    expect((await call('/api/projects', { headers: { cookie: idle.cookie } })).status).toBe(200);
    vi.setSystemTime(Date.parse('2030-01-01T01:28:01Z'));
    expect((await call('/api/projects', { headers: { cookie: idle.cookie } })).status).toBe(401);

    const busy = await session();
    const start = Date.parse('2030-01-01T01:28:01Z');
    for (let minutes = 20; minutes < 12 * 60; minutes += 20) {
      vi.setSystemTime(start + minutes * 60_000);
      expect((await call('/api/projects', { headers: { cookie: busy.cookie } })).status).toBe(200);
    }
    vi.setSystemTime(start + 12 * 60 * 60_000);
    const expired = await call('/api/auth/session', { headers: { cookie: busy.cookie } });
    expect(expired.status).toBe(401);
    expect(expired.headers.get('set-cookie')).toMatch(/^dw_session=; Max-Age=0/);
  });
});

describe('login rate limit', () => {
  it('answers 429 with Retry-After after 5 failures for a user, from any address', async () => {
    for (let i = 0; i < 5; i++) expect((await login('alice', `wrong-${i}`, `192.0.2.${i}`)).status).toBe(401);
    const limited = await login('alice', passwords.alice, '198.51.100.7');
    expect(limited.status).toBe(429);
    expect(limited.body.error?.code).toBe('RATE_LIMITED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(890);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(limited.headers.get('set-cookie')).toBeNull();
    // Another user is not affected.
    expect((await login('rita', passwords.rita, '198.51.100.7')).status).toBe(200);
  });

  it('limits an address that tries many user names, and lets it in again after the window', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2030-01-01T00:00:00Z') });
    for (const name of ['a', 'b', 'c', 'd', 'e'])
      expect((await login(name, 'guess', '203.0.113.5')).status).toBe(401);
    expect((await login('alice', passwords.alice, '203.0.113.5')).status).toBe(429);
    expect((await login('alice', passwords.alice, '203.0.113.6')).status).toBe(200);
    // Behind a trusted proxy the client is the X-Forwarded-For address.
    const viaProxy = await login('alice', passwords.alice, '10.0.0.2', { 'x-forwarded-for': '203.0.113.5' });
    expect(viaProxy.status).toBe(429);
    vi.setSystemTime(Date.parse('2030-01-01T00:15:01Z'));
    expect((await login('alice', passwords.alice, '203.0.113.5')).status).toBe(200);
  });

  it("resets the user's count on a successful login", async () => {
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++)
        expect((await login('alice', 'wrong', `192.0.2.${round * 10 + i}`)).status).toBe(401);
      expect((await login('alice', passwords.alice, `198.51.100.${round}`)).status).toBe(200);
    }
  });

  it('counts parallel guesses before checking them', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => login('alice', `wrong-${i}`, `192.0.2.${i}`)),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  });

  it('keeps its memory bounded', () => {
    const limiter = createFailureLimiter({ maxFailures: 5, windowMs: 60_000, maxKeys: 100 });
    for (let i = 0; i < 1000; i++) limiter.fail(`key-${i}`);
    expect(limiter.size).toBe(100);
    // The newest keys stay, the oldest went.
    limiter.fail('key-999');
    limiter.fail('key-999');
    limiter.fail('key-999');
    limiter.fail('key-999');
    expect(limiter.blockedFor('key-999')).toBeGreaterThan(0);
    expect(limiter.blockedFor('key-0')).toBe(0);
    const sessions = createSessionStore({ idleTimeoutMs: 60_000, maxAgeMs: 120_000, maxSessions: 50 });
    const opened = Array.from({ length: 200 }, () => sessions.open('alice', 'fp'));
    expect(sessions.size).toBe(50);
    expect(sessions.touch(opened[0]!.id)).toBeUndefined();
    expect(sessions.touch(opened[199]!.id)).toBeDefined();
  });
});

describe('over a real socket', () => {
  it("keys the address limit on the peer's address from @hono/node-server", async () => {
    const server = serve({ fetch: h.app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const post = (username: string, password: string) =>
      fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
    try {
      for (const name of ['a', 'b', 'c', 'd', 'e']) expect((await post(name, 'guess')).status).toBe(401);
      const limited = await post('alice', passwords.alice);
      expect(limited.status).toBe(429);
      expect(h.logs.entries.at(-1)).toMatchObject({
        message: 'dashboard login refused: too many failures',
        fields: { address: '127.0.0.1' },
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('OpenAPI', () => {
  it('lists the login routes and the session as a way in', async () => {
    const document = (await (await h.app.request('/api/openapi.json')).json()) as {
      // biome-ignore lint/suspicious/noExplicitAny: the document is walked by path
      paths: Record<string, any>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(document.paths['/api/auth/login'].post.responses['429']).toBeDefined();
    expect(document.paths['/api/auth/login'].post.requestBody).toBeDefined();
    expect(document.paths['/api/auth/logout'].post.security).toEqual([{ session: [] }]);
    expect(document.paths['/api/auth/session'].get).toBeDefined();
    expect(document.paths['/api/projects'].get.security).toEqual([{ bearer: [] }, { session: [] }]);
    const deploy = document.paths['/api/projects/{id}/stages/{stage}/deploy'].post;
    expect(deploy.parameters.map((p: { name: string }) => p.name)).toContain('X-CSRF-Token');
    expect(document.components.securitySchemes.session).toEqual({
      type: 'apiKey',
      in: 'cookie',
      name: 'dw_session',
    });
  });
});

describe('secrets', () => {
  it('never puts passwords, hashes or session ids in responses or logs', async () => {
    const alice = await session();
    await login('alice', 'a-wrong-guess-do-not-leak');
    await login('mallory', passwords.rita);
    await call('/api/auth/session', { headers: { cookie: alice.cookie } });
    await call(autoDeploy, toggle({ cookie: alice.cookie, 'x-csrf-token': alice.csrf }));
    await call('/api/auth/logout', {
      method: 'POST',
      headers: { cookie: alice.cookie, 'x-csrf-token': alice.csrf },
    });
    for (let i = 0; i < 6; i++) await login('rita', `${passwords.rita}-${i}`);
    const logged = JSON.stringify(h.logs.entries);
    expect(logged).toContain('dashboard login failed');
    expect(logged).toContain('dashboard logout');
    const bodies = responses.filter((_, i) => i % 2 === 0).join('\n');
    for (const secret of [
      passwords.alice,
      passwords.rita,
      'a-wrong-guess-do-not-leak',
      hashes.alice,
      hashes.rita,
    ]) {
      expect(logged).not.toContain(secret);
      expect(bodies).not.toContain(secret);
    }
    expect(logged).not.toContain(alice.id);
    expect(bodies).not.toContain(alice.id);
  });
});

describe('users in the config', () => {
  const problemsOf = async (users: string, extraEnv: Record<string, string> = {}) => {
    const text = configText().replace(/ {4}users:\n(?: {6}- .*\n)+/, `    users:\n${users}\n`);
    try {
      await loadConfigText(text, { ...env, DW_ALICE_HASH: hashes.alice, ...extraEnv });
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };

  it('names the path of a user without a hash', async () => {
    expect(await problemsOf('      - { name: bob, scopes: [read] }')).toEqual([
      {
        path: 'global.server.users.0',
        message: 'needs password_hash or password_hash_env (make one with `docker-watcher hash-password`)',
      },
    ]);
  });

  it('refuses plain passwords, in `password` or posing as a hash, without repeating them', async () => {
    const plain = await problemsOf('      - { name: bob, password: "hunter2-plain", scopes: [read] }');
    expect(plain).toEqual([
      {
        path: 'global.server.users.0.password',
        message:
          'plain passwords are not accepted: put the output of `docker-watcher hash-password` in password_hash or password_hash_env',
      },
    ]);
    const posing = await problemsOf('      - { name: bob, password_hash: "hunter2-plain", scopes: [read] }');
    expect(posing).toEqual([
      {
        path: 'global.server.users.0.password_hash',
        message: 'must be a bcrypt hash ($2b$…) from `docker-watcher hash-password`, never a password',
      },
    ]);
    const fromEnv = await problemsOf('      - { name: bob, password_hash_env: BOB_HASH, scopes: [read] }', {
      BOB_HASH: 'hunter2-plain',
    });
    expect(fromEnv).toEqual([
      {
        path: 'global.server.users.0.password_hash_env',
        message:
          'the value of BOB_HASH: must be a bcrypt hash ($2b$…) from `docker-watcher hash-password`, never a password',
      },
    ]);
    expect(JSON.stringify([plain, posing, fromEnv])).not.toContain('hunter2');
  });

  it('refuses both hash keys, duplicate names and names of tokens', async () => {
    const both = await problemsOf(
      `      - { name: bob, password_hash: "${hashes.rita}", password_hash_env: DW_ALICE_HASH, scopes: [read] }`,
    );
    expect(both.map((p) => p.path)).toEqual(['global.server.users.0.password_hash_env']);
    const names = await problemsOf(
      [
        `      - { name: bob, password_hash: "${hashes.rita}", scopes: [read] }`,
        `      - { name: bob, password_hash: "${hashes.rita}", scopes: [read] }`,
        `      - { name: deployer, password_hash: "${hashes.rita}", scopes: [read] }`,
      ].join('\n'),
    );
    expect(names).toEqual([
      { path: 'global.server.users.1.name', message: 'another user is named bob' },
      { path: 'global.server.users.2.name', message: 'a token is named deployer already' },
    ]);
  });

  it('checks session settings', async () => {
    const text = configText().replace('[10.0.0.0/8]', '[10.0.0.0/8, 10.0.0.0/33]');
    await expect(loadConfigText(text, { ...env, DW_ALICE_HASH: hashes.alice })).rejects.toThrow(
      /global\.server\.session\.trusted_proxies\.1: must be an IP address or a CIDR range/,
    );
  });
});

describe('docker-watcher hash-password', () => {
  const cli = join(import.meta.dirname, '../src/cli.ts');
  const run = (input: string, args: string[] = []) =>
    spawnSync(process.execPath, ['--conditions=@docker-watcher/source', cli, 'hash-password', ...args], {
      input,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });

  it('prints a bcrypt hash of the password read from stdin that the login accepts', async () => {
    const result = run('a-new-dashboard-password\n');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const hash = result.stdout.trim();
    expect(hash).toMatch(/^\$2b\$12\$[./A-Za-z0-9]{53}$/);
    expect(await compare('a-new-dashboard-password', hash)).toBe(true);
    expect(await compare('a-new-dashboard-password\n', hash)).toBe(false);
    const json = run('a-new-dashboard-password', ['--json']);
    expect(JSON.parse(json.stdout).hash).toMatch(/^\$2b\$12\$/);
  });

  it('refuses short and over-long passwords, without repeating them', () => {
    const short = run('short7\n');
    expect(short.status).toBe(1);
    expect(short.stderr).toBe('a password needs at least 8 characters\n');
    const long = run(`${'x'.repeat(73)}\n`);
    expect(long.status).toBe(1);
    expect(long.stderr).toBe('a password may have at most 72 bytes (bcrypt ignores the rest)\n');
    expect(short.stdout + long.stdout).toBe('');
  });
});
