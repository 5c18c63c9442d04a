import { createHash, randomBytes } from 'node:crypto';
import { CoreError, type Logger } from '@docker-watcher/core';
import { getRounds } from 'bcryptjs';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { type authRoutes, loginBody } from '../api/auth.ts';
import type { DashboardUser, SessionSettings } from '../config/load.ts';
import { type AuthVariables, type Caller, grantedScopes, type SessionAuth, scopeList } from './auth.ts';
import { assertCsrfToken, assertSameOrigin } from './csrf.ts';
import { jsonBody } from './errors.ts';
import { proxyMatcher, requestOrigin } from './forwarded.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { createFailureLimiter, type FailureLimiter } from './rate-limit.ts';
import type { Handlers } from './register.ts';
import { createSessionStore, type SessionStore } from './sessions.ts';

export const sessionCookie = 'dw_session';

export { loginBody };

export interface DashboardLoginOptions {
  readonly users: readonly DashboardUser[];
  readonly settings: SessionSettings;
  readonly logger: Logger;
  /** Sessions and failure counts of an earlier app (a config reload): they carry on. */
  readonly state?: LoginState;
}

/** What outlives one app: open sessions and failed-login counts, with the limits they were made under. */
export interface LoginState {
  readonly sessions: SessionStore;
  readonly byAddress: FailureLimiter;
  readonly byUser: FailureLimiter;
  readonly limits: string;
}

const limitsOf = (settings: SessionSettings) =>
  JSON.stringify([
    settings.idleTimeoutMs,
    settings.maxAgeMs,
    settings.loginMaxFailures,
    settings.loginWindowMs,
  ]);

/**
 * The login state for `settings`: `previous` when its limits are the same (a reload keeps everyone
 * logged in; each request still checks the user against the new config), else a fresh one.
 */
export function loginStateFor(settings: SessionSettings, previous?: LoginState): LoginState {
  const limits = limitsOf(settings);
  if (previous?.limits === limits) return previous;
  const limiterOptions = { maxFailures: settings.loginMaxFailures, windowMs: settings.loginWindowMs };
  return {
    sessions: createSessionStore({ idleTimeoutMs: settings.idleTimeoutMs, maxAgeMs: settings.maxAgeMs }),
    byAddress: createFailureLimiter(limiterOptions),
    byUser: createFailureLimiter(limiterOptions),
    limits,
  };
}

export interface DashboardLogin {
  /** Resolves the session cookie into `c.var.session` for `requireScope`. */
  readonly middleware: MiddlewareHandler<{ Variables: AuthVariables }>;
  /** `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/auth/session`. */
  readonly handlers: Handlers<typeof authRoutes>;
}

const fingerprint = (passwordHash: string) =>
  createHash('sha256').update(passwordHash, 'utf8').digest('base64url');

/**
 * The dashboard's login: bcrypt-checked users, in-memory sessions behind an HttpOnly, SameSite=Strict
 * cookie, a CSRF token per session, and a failed-login limit per client address and per user name.
 */
export function createDashboardLogin(options: DashboardLoginOptions): DashboardLogin {
  const { settings, logger } = options;
  const users = new Map(options.users.map((user) => [user.name, user]));
  const { sessions, byAddress, byUser } = options.state ?? loginStateFor(settings);
  const trusted = proxyMatcher(settings.trustedProxies);
  // Unknown users are checked against a hash of the users' highest cost, so the answer takes as
  // long (with no users there is nothing to hide, and the lowest cost spares the CPU).
  let dummy: Promise<string> | undefined;
  const dummyHash = () => {
    const cost = Math.max(4, ...options.users.map((user) => getRounds(user.passwordHash)));
    dummy ??= hashPassword(randomBytes(16).toString('hex'), cost);
    return dummy;
  };

  const callerOf = (id: string): Caller | undefined => {
    const session = sessions.touch(id);
    if (!session) return undefined;
    const user = users.get(session.user);
    if (!user || fingerprint(user.passwordHash) !== session.credential) {
      sessions.end(id);
      return undefined;
    }
    return { name: user.name, scopes: grantedScopes(user.scopes) };
  };
  const guard = (id: string) => (c: Context) => {
    assertSameOrigin(c, requestOrigin(c, trusted));
    assertCsrfToken(c, (token) => sessions.checkCsrf(id, token));
  };
  const clearCookie = (c: Context) => deleteCookie(c, sessionCookie, { path: '/' });
  const sessionBody = (caller: Caller, id: string, expiresAt: number) => ({
    caller: { name: caller.name, scopes: scopeList(caller.scopes) },
    csrfToken: sessions.csrfToken(id),
    expiresAt: new Date(expiresAt).toISOString(),
  });

  const middleware: MiddlewareHandler<{ Variables: AuthVariables }> = async (c, next) => {
    const id = getCookie(c, sessionCookie);
    if (id !== undefined && c.req.header('authorization') === undefined) {
      const caller = callerOf(id);
      if (caller) c.set('session', { caller, guardMutation: guard(id) } satisfies SessionAuth);
      else c.set('sessionEnded', true);
    }
    await next();
  };

  const login = async (c: Context) => {
    const origin = requestOrigin(c, trusted);
    assertSameOrigin(c, origin);
    // A cross-site form cannot send JSON without a preflight, which CORS (off) refuses.
    if (!/^application\/json\b/i.test(c.req.header('content-type') ?? ''))
      throw new CoreError('BAD_REQUEST', 'A login is a JSON body: Content-Type must be application/json');
    const body = await jsonBody(c, loginBody);
    const userKey = body.username.toLowerCase();
    const addressKey = origin.address;
    const wait = Math.max(byUser.blockedFor(userKey), addressKey ? byAddress.blockedFor(addressKey) : 0);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      logger.warn('dashboard login refused: too many failures', { address: addressKey ?? 'unknown' });
      c.header('Retry-After', String(seconds));
      throw new CoreError('RATE_LIMITED', `Too many failed logins: try again in ${seconds} s`, {
        retryAfterMs: wait,
      });
    }
    // Counted before the check: parallel guesses cannot all slip in while bcrypt works.
    byUser.fail(userKey);
    if (addressKey) byAddress.fail(addressKey);
    const user = users.get(body.username);
    const fallback = await dummyHash();
    const matches = await verifyPassword(body.password, user?.passwordHash ?? fallback);
    if (!user || !matches) {
      // The name only when it is a user's: a password typed into the name field must not reach the log.
      logger.warn('dashboard login failed', {
        address: addressKey ?? 'unknown',
        ...(user ? { user: user.name } : { user: '(unknown)' }),
      });
      throw new CoreError('UNAUTHORIZED', 'Wrong user name or password');
    }
    byUser.reset(userKey);
    if (addressKey) byAddress.forgive(addressKey);
    const opened = sessions.open(user.name, fingerprint(user.passwordHash));
    setCookie(c, sessionCookie, opened.id, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      secure: settings.secureCookie === 'auto' ? origin.https : settings.secureCookie,
      maxAge: Math.floor(settings.maxAgeMs / 1000),
    });
    logger.info('dashboard login', { user: user.name, address: addressKey ?? 'unknown' });
    c.header('Cache-Control', 'no-store');
    return c.json(
      sessionBody({ name: user.name, scopes: grantedScopes(user.scopes) }, opened.id, opened.expiresAt),
    );
  };

  const logout = (c: Context) => {
    const id = getCookie(c, sessionCookie);
    const session = id === undefined ? undefined : sessions.touch(id);
    if (id !== undefined && session) {
      guard(id)(c);
      sessions.end(id);
      logger.info('dashboard logout', { user: session.user });
    }
    clearCookie(c);
    return c.json({ loggedOut: true });
  };

  const session = (c: Context) => {
    const id = getCookie(c, sessionCookie);
    const caller = id === undefined ? undefined : callerOf(id);
    c.header('Cache-Control', 'no-store');
    if (id === undefined || !caller) {
      if (id !== undefined) clearCookie(c);
      throw new CoreError(
        'UNAUTHORIZED',
        id === undefined ? 'Not logged in' : 'The dashboard session has expired or was ended: log in again',
      );
    }
    const touched = sessions.touch(id)!;
    return c.json(sessionBody(caller, id, sessions.expiresAt(touched)));
  };

  return { middleware, handlers: { login, logout, getSession: session } };
}
