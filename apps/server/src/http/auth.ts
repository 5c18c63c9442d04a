import { timingSafeEqual } from 'node:crypto';
import { CoreError } from '@docker-watcher/core';
import type { Context, MiddlewareHandler } from 'hono';
import { type ApiToken, hashToken } from '../config/load.ts';
import { type TokenScope, tokenScopes } from '../config/schema.ts';

/** What each scope allows: `admin` ⊇ `deploy` ⊇ `read`. */
const grants: Readonly<Record<TokenScope, readonly TokenScope[]>> = {
  read: ['read'],
  deploy: ['read', 'deploy'],
  admin: ['read', 'deploy', 'admin'],
};

export interface Caller {
  readonly name: string;
  readonly scopes: ReadonlySet<TokenScope>;
}

/** A request authenticated by the dashboard's session cookie instead of a token. */
export interface SessionAuth {
  readonly caller: Caller;
  /** Throws 403 unless a mutating request is same-origin and carries the session's CSRF token. */
  guardMutation(c: Context): void;
}

export type AuthVariables = {
  caller: Caller;
  /** Set by the session middleware for a valid cookie (and no Authorization header). */
  session?: SessionAuth;
  /** A session cookie came, but its session has expired or was ended. */
  sessionEnded?: boolean;
};

/** Configured scopes with what they imply. */
export const grantedScopes = (scopes: readonly TokenScope[]): ReadonlySet<TokenScope> =>
  new Set(scopes.flatMap((scope) => grants[scope]));

/** The granted scopes in a stable order, for responses. */
export const scopeList = (scopes: ReadonlySet<TokenScope>): TokenScope[] =>
  tokenScopes.filter((scope) => scopes.has(scope));

/**
 * The token of an `Authorization: Bearer …` header, compared as SHA-256 hashes in constant time
 * against every configured token (so timing does not tell which one, or how much, matched).
 */
export function authenticate(tokens: readonly ApiToken[], header: string | undefined): Caller | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const hash = hashToken(match[1]!);
  let found: ApiToken | undefined;
  for (const token of tokens) {
    if (timingSafeEqual(hash, token.hash) && found === undefined) found = token;
  }
  if (!found) return undefined;
  return { name: found.name, scopes: grantedScopes(found.scopes) };
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The caller of a request that needs `scope`: 401 without a valid token or session, 403 with one
 * that lacks it. A Bearer token wins over the session cookie; a mutating request authenticated by
 * the cookie must pass the CSRF guard.
 */
export function authorize(
  c: Context<{ Variables: AuthVariables }>,
  tokens: readonly ApiToken[],
  scope: TokenScope,
): Caller {
  const header = c.req.header('authorization');
  const session = header === undefined ? c.get('session') : undefined;
  const caller = session ? session.caller : authenticate(tokens, header);
  if (!caller) {
    c.header('WWW-Authenticate', 'Bearer realm="docker-watcher"');
    throw new CoreError(
      'UNAUTHORIZED',
      header === undefined && c.get('sessionEnded')
        ? 'The dashboard session has expired or was ended: log in again'
        : 'A valid API token (Authorization: Bearer <token>) or dashboard session is required',
    );
  }
  if (session && !safeMethods.has(c.req.method)) session.guardMutation(c);
  if (!caller.scopes.has(scope))
    throw new CoreError('FORBIDDEN', `${session ? 'User' : 'Token'} ${caller.name} lacks the ${scope} scope`);
  c.set('caller', caller);
  return caller;
}

/** `authorize` as a middleware. */
export function requireScope(
  tokens: readonly ApiToken[],
  scope: TokenScope,
): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    authorize(c, tokens, scope);
    await next();
  };
}
