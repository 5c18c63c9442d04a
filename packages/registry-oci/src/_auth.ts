import { CoreError, type Logger } from '@docker-watcher/core';
import { parseChallenges } from './_challenge.ts';
import { type RegistryIdentity, registryDetails, statusError, type Transport } from './_http.ts';
import { LruMap } from './_lru.ts';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export interface AuthCounters {
  tokenRequests: number;
}

export interface AuthenticatorOptions {
  readonly identity: RegistryIdentity;
  readonly transport: Transport;
  readonly credentials?: Credentials;
  readonly counters: AuthCounters;
  readonly logger: Logger;
  /** Clock for token expiry; `Date.now` by default. */
  readonly now?: () => number;
}

/**
 * Answers a registry's challenges and remembers what they taught: Basic credentials once the
 * registry asked for them, and Bearer tokens per scope until shortly before they expire. Once the
 * token realm is known, tokens for new scopes are fetched up front, so a request never pays a 401
 * round trip twice.
 */
export interface Authenticator {
  /** The `Authorization` value to send up front for a request needing `scope`, if any is known. */
  current(scope: string | undefined, signal?: AbortSignal): Promise<string | undefined>;
  /**
   * After a 401: the value to retry with, fetched for the challenge in `header`. Throws `UNAUTHORIZED`
   * when there is nothing new to try (no credentials, or the ones just sent were refused).
   */
  answer(
    header: string | null,
    scope: string | undefined,
    sent: string | undefined,
    signal?: AbortSignal,
  ): Promise<string>;
  /** `none` until the registry sent a challenge. */
  readonly scheme: 'none' | 'basic' | 'bearer';
  clear(): void;
}

interface CachedToken {
  readonly header: string;
  readonly expiresAt: number;
}

/** `expires_in` when the token server leaves it out (distribution's token spec). */
export const defaultTokenLifetimeMs = 60_000;

/** Tokens are dropped this much before they expire: clocks drift and requests take time. */
export function tokenSafetyMarginMs(lifetimeMs: number): number {
  return Math.min(10_000, lifetimeMs / 10);
}

const tokenCacheSize = 4096;
const maxTokenBodyBytes = 1024 * 1024;

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { identity, transport, credentials, counters, logger } = options;
  const now = options.now ?? Date.now;
  const basic = credentials
    ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
    : undefined;
  const tokens = new LruMap<string, CachedToken>(tokenCacheSize);
  const pending = new Map<string, Promise<string>>();
  let scheme: 'none' | 'basic' | 'bearer' = 'none';
  let bearer: { realm: URL; service: string | undefined } | undefined;

  const where = `${identity.id} (${identity.url})`;
  const unauthorized = (message: string, more: Record<string, unknown> = {}) =>
    new CoreError('UNAUTHORIZED', `${where} ${message}`, { details: registryDetails(identity, more) });

  const keyOf = (realm: URL, service: string | undefined, scopes: readonly string[]) =>
    `${realm.href} ${service ?? ''} ${[...scopes].sort().join(' ')}`;

  const fetchToken = async (
    realm: URL,
    service: string | undefined,
    scopes: readonly string[],
    signal: AbortSignal | undefined,
  ): Promise<string> => {
    const url = new URL(realm);
    if (service !== undefined) url.searchParams.set('service', service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const what = scopes.length > 0 ? `a token for ${scopes.join(' ')}` : 'a token';
    counters.tokenRequests++;
    const started = now();
    const response = await transport({
      method: 'GET',
      url,
      headers: { accept: 'application/json' },
      ...(basic ? { authorization: basic, authorizedOrigin: realm.origin } : {}),
      ...(signal ? { signal } : {}),
      maxBodyBytes: maxTokenBodyBytes,
      what,
    });
    if (response.status === 401 || response.status === 403) {
      throw unauthorized(
        credentials
          ? `refused the credentials: its token server ${realm.origin} answered ${response.status}`
          : `needs credentials: its token server ${realm.origin} refused an anonymous token (${response.status})`,
        { tokenServer: realm.origin, status: response.status },
      );
    }
    if (response.status !== 200) throw statusError(identity, response, what, { tokenServer: realm.origin });
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(response.body));
    } catch (cause) {
      throw new CoreError(
        'BAD_RESPONSE',
        `${where}: its token server ${realm.origin} answered with a body that is not JSON`,
        {
          details: registryDetails(identity, { tokenServer: realm.origin }),
          cause,
        },
      );
    }
    const body = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    const token = [body.token, body.access_token].find(
      (value): value is string => typeof value === 'string' && value !== '',
    );
    if (token === undefined) {
      throw new CoreError(
        'BAD_RESPONSE',
        `${where}: its token server ${realm.origin} answered without a token`,
        {
          details: registryDetails(identity, { tokenServer: realm.origin }),
        },
      );
    }
    const expiresIn = body.expires_in;
    const lifetimeMs =
      typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0
        ? expiresIn * 1000
        : defaultTokenLifetimeMs;
    const header = `Bearer ${token}`;
    tokens.set(keyOf(realm, service, scopes), {
      header,
      expiresAt: started + lifetimeMs - tokenSafetyMarginMs(lifetimeMs),
    });
    logger.debug('fetched a registry token', { scopes, lifetimeMs, tokenServer: realm.origin });
    return header;
  };

  /** A valid cached token, or one fetch per key however many callers ask at once. */
  const tokenFor = (
    realm: URL,
    service: string | undefined,
    scopes: readonly string[],
    signal: AbortSignal | undefined,
    rejected?: string,
  ): Promise<string> => {
    const key = keyOf(realm, service, scopes);
    const cached = tokens.get(key);
    if (cached && cached.header !== rejected && cached.expiresAt > now())
      return Promise.resolve(cached.header);
    if (cached) tokens.delete(key);
    let fetching = pending.get(key);
    if (!fetching) {
      // Not tied to the first caller's signal: a caller that gives up must not fail the others.
      fetching = fetchToken(realm, service, scopes, undefined).finally(() => pending.delete(key));
      pending.set(key, fetching);
    }
    return signal ? raceAbort(fetching, signal, identity) : fetching;
  };

  return {
    get scheme() {
      return scheme;
    },

    async current(scope, signal) {
      if (scheme === 'basic') return basic;
      if (scheme === 'bearer' && bearer) {
        return tokenFor(bearer.realm, bearer.service, scope === undefined ? [] : [scope], signal);
      }
      return undefined;
    },

    async answer(header, scope, sent, signal) {
      const challenges = parseChallenges(header);
      const bearerChallenge = challenges.find(
        (challenge) => challenge.scheme === 'bearer' && challenge.params.realm,
      );
      if (bearerChallenge) {
        let realm: URL;
        try {
          realm = new URL(bearerChallenge.params.realm ?? '');
          if (realm.protocol !== 'https:' && realm.protocol !== 'http:') throw new Error(realm.protocol);
        } catch (cause) {
          throw new CoreError(
            'BAD_RESPONSE',
            `${where} sent a Bearer challenge whose realm is not an http(s) URL`,
            {
              details: registryDetails(identity),
              cause,
            },
          );
        }
        scheme = 'bearer';
        bearer = { realm, service: bearerChallenge.params.service };
        const asked = bearerChallenge.params.scope?.split(' ').filter(Boolean);
        const scopes = asked && asked.length > 0 ? asked : scope === undefined ? [] : [scope];
        return tokenFor(realm, bearer.service, scopes, signal, sent);
      }
      if (challenges.some((challenge) => challenge.scheme === 'basic')) {
        scheme = 'basic';
        if (!basic) throw unauthorized('needs credentials (username and password)');
        if (sent === basic) throw unauthorized('refused the credentials');
        return basic;
      }
      throw unauthorized('answered 401 without a challenge this adapter can answer', {
        schemes: challenges.map((challenge) => challenge.scheme),
      });
    },

    clear() {
      tokens.clear();
      pending.clear();
    },
  };
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, identity: RegistryIdentity): Promise<T> {
  if (signal.aborted) return Promise.reject(aborted(signal, identity));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted(signal, identity));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function aborted(signal: AbortSignal, identity: RegistryIdentity): CoreError {
  return new CoreError('ABORTED', `Token request of ${identity.id} was aborted`, {
    details: registryDetails(identity),
    cause: signal.reason,
  });
}
