import { createHash } from 'node:crypto';
import type { ResolveContext } from './context.ts';
import type { TokenScope } from './schema.ts';

export interface ApiToken {
  readonly name: string;
  /** SHA-256 of the token: the value itself is not kept. */
  readonly hash: Buffer;
  readonly scopes: readonly TokenScope[];
}

/** A dashboard user: the bcrypt hash of the password, never the password. */
export interface DashboardUser {
  readonly name: string;
  readonly passwordHash: string;
  readonly scopes: readonly TokenScope[];
}

/** Dashboard sessions and the login's rate limit (`global.server.session`). */
export interface SessionSettings {
  readonly idleTimeoutMs: number;
  readonly maxAgeMs: number;
  readonly secureCookie: boolean | 'auto';
  readonly trustedProxies: readonly string[];
  readonly loginMaxFailures: number;
  readonly loginWindowMs: number;
}

export const hashToken = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

interface TokenInput {
  readonly name: string;
  readonly token?: string;
  readonly scopes: readonly TokenScope[];
}

interface UserInput {
  readonly name: string;
  readonly password_hash?: string;
  readonly scopes: readonly TokenScope[];
}

export function resolveTokens(ctx: ResolveContext, tokens: readonly TokenInput[]): ApiToken[] {
  const out: ApiToken[] = [];
  const names = new Map<string, number>();
  const values = new Map<string, number>();
  tokens.forEach((token, index) => {
    const path = `global.server.tokens.${index}`;
    const other = names.get(token.name);
    if (other !== undefined) ctx.problem(`${path}.name`, `tokens.${other} is named ${token.name} already`);
    names.set(token.name, index);
    if (token.token === undefined) return;
    const hash = hashToken(token.token);
    // One value under two names would make the audit log name the wrong caller (and mix scopes).
    const twin = values.get(hash.toString('hex'));
    if (twin !== undefined) {
      const where = ctx.origins.get(`${path}.token`)?.path ?? `${path}.token`;
      ctx.problem(
        where,
        `the same token value as tokens.${twin} (${tokens[twin]!.name}): each token needs its own`,
      );
      return;
    }
    values.set(hash.toString('hex'), index);
    out.push({ name: token.name, hash, scopes: token.scopes });
  });
  return out;
}

export function resolveUsers(
  ctx: ResolveContext,
  users: readonly UserInput[],
  tokenNames: ReadonlySet<string>,
) {
  const out: DashboardUser[] = [];
  const seen = new Set<string>();
  users.forEach((user, index) => {
    const path = `global.server.users.${index}`;
    if (seen.has(user.name)) ctx.problem(`${path}.name`, `another user is named ${user.name}`);
    // Audit entries name the caller: a user and a token of the same name could not be told apart.
    else if (tokenNames.has(user.name)) ctx.problem(`${path}.name`, `a token is named ${user.name} already`);
    seen.add(user.name);
    if (user.password_hash === undefined) {
      ctx.problem(
        path,
        'needs password_hash or password_hash_env (make one with `docker-watcher hash-password`)',
      );
      return;
    }
    out.push({ name: user.name, passwordHash: user.password_hash, scopes: user.scopes });
  });
  return out;
}

export function resolveListen(ctx: ResolveContext, listen: string, path: string) {
  const colon = listen.lastIndexOf(':');
  const port = Number(listen.slice(colon + 1));
  if (port > 65_535) ctx.problem(path, 'the port must be at most 65535');
  const host = listen.slice(0, colon).replace(/^\[|\]$/g, '') || '0.0.0.0';
  return { host, port };
}
