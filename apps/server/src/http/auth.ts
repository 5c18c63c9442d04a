import { timingSafeEqual } from 'node:crypto';
import { CoreError } from '@docker-watcher/core';
import type { MiddlewareHandler } from 'hono';
import { type ApiToken, hashToken } from '../config/load.ts';
import type { TokenScope } from '../config/schema.ts';

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

export type AuthVariables = { caller: Caller };

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
  return { name: found.name, scopes: new Set(found.scopes.flatMap((scope) => grants[scope])) };
}

/** 401 without a valid token, 403 with one that lacks `scope`. */
export function requireScope(
  tokens: readonly ApiToken[],
  scope: TokenScope,
): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const caller = authenticate(tokens, c.req.header('authorization'));
    if (!caller) {
      c.header('WWW-Authenticate', 'Bearer realm="docker-watcher"');
      throw new CoreError('UNAUTHORIZED', 'A valid API token is required (Authorization: Bearer <token>)');
    }
    if (!caller.scopes.has(scope))
      throw new CoreError('FORBIDDEN', `Token ${caller.name} lacks the ${scope} scope`);
    c.set('caller', caller);
    await next();
  };
}
