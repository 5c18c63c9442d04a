import { createHash, randomUUID } from 'node:crypto';
import {
  CoreError,
  type IdempotencyClaim,
  type IdempotentAnswer,
  type Logger,
  type StateStore,
  silentLogger,
} from '@docker-watcher/core';
import type { Context } from 'hono';

export interface IdempotentRequest {
  readonly caller: string;
  readonly key: string;
  readonly method: string;
  readonly path: string;
  readonly c: Context;
}

/** Answers of POSTs by `Idempotency-Key`, so that a client may retry one without acting twice. */
export interface IdempotencyCache {
  run(request: IdempotentRequest, answer: () => Promise<Response>): Promise<Response>;
}

export interface IdempotencyOptions {
  /**
   * Where keys are kept: a store with `claimIdempotencyKey` (SQLite, PostgreSQL) shares them with
   * every server on it, so a retry sent to another replica gets the first answer. Without one, or
   * with a store that has none, they are kept in this process.
   */
  readonly store?: StateStore;
  /** How long an answer is kept. Default 24 h. */
  readonly ttlMs?: number;
  /** How long a request may hold its key before the key is free again (its server died). Default 5 min. */
  readonly claimTtlMs?: number;
  /** How many keys this process keeps when there is no store for them; the oldest go first. Default 10 000. */
  readonly maxEntries?: number;
  readonly logger?: Logger;
}

/** Claims and answers by key: the store's, or this process's. */
interface Keeper {
  claim(params: {
    key: string;
    fingerprint: string;
    claim: string;
    claimTtlMs: number;
  }): Promise<IdempotencyClaim>;
  finish(params: { key: string; claim: string; answer?: IdempotentAnswer; ttlMs: number }): Promise<void>;
}

const maxKeyLength = 200;

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

/**
 * Successful answers are kept per caller, route and key for a day: the same request again gets the
 * same answer (with `Idempotency-Replayed: true`), from any server on a shared store. The same key
 * with another body is a 409; so is a retry while the first request still runs (with `Retry-After`):
 * a server cannot wait for a request another replica runs, and answering both the same way keeps a
 * client's retry logic one rule. Failed answers are not kept: the retry acts, as the first did not.
 */
export function createIdempotencyCache(options: IdempotencyOptions = {}): IdempotencyCache {
  const ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
  const claimTtlMs = options.claimTtlMs ?? 5 * 60 * 1000;
  const logger = options.logger ?? silentLogger;
  const keeper = storeKeeper(options.store) ?? memoryKeeper(options.maxEntries ?? 10_000);

  const replay = (answer: IdempotentAnswer) =>
    new Response(answer.body, {
      status: answer.status,
      headers: {
        ...(answer.contentType ? { 'content-type': answer.contentType } : {}),
        'Idempotency-Replayed': 'true',
      },
    });

  return {
    async run(request, answer) {
      if (request.key === '' || request.key.length > maxKeyLength)
        throw new CoreError('BAD_REQUEST', `Idempotency-Key must be 1 to ${maxKeyLength} characters`, {
          details: {
            fields: [{ path: 'Idempotency-Key', message: `must be 1 to ${maxKeyLength} characters` }],
          },
        });
      // Hashed: the key is the client's text, kept as a fixed-size name that says nothing of it.
      const key = sha256(JSON.stringify([request.caller, request.method, request.path, request.key]));
      const fingerprint = sha256(await request.c.req.text());
      const claim = randomUUID();
      const found = await keeper.claim({ key, fingerprint, claim, claimTtlMs });
      if (found.state !== 'claimed' && found.fingerprint !== fingerprint)
        throw new CoreError('CONFLICT', 'This Idempotency-Key was used for a different request body');
      if (found.state === 'done') return replay(found.answer);
      if (found.state === 'running')
        throw new CoreError(
          'CONFLICT',
          'A request with this Idempotency-Key is still running: send it again once that one has finished to get its answer',
          { retryAfterMs: 1_000 },
        );
      let kept: IdempotentAnswer | undefined;
      try {
        const response = await answer();
        if (response.status >= 200 && response.status < 300) {
          const contentType = response.headers.get('content-type');
          kept = {
            status: response.status,
            body: await response.clone().text(),
            ...(contentType ? { contentType } : {}),
          };
        }
        return response;
      } finally {
        // Without an answer (the request failed) the key is free again at once.
        await keeper
          .finish({ key, claim, ...(kept ? { answer: kept } : {}), ttlMs })
          .catch((error: unknown) =>
            // The request acted and is answered; a retry finds the claim until it expires, and acts then.
            logger.warn('could not keep the answer of an idempotent request', { error: String(error) }),
          );
      }
    },
  };
}

function storeKeeper(store: StateStore | undefined): Keeper | undefined {
  const claim = store?.claimIdempotencyKey?.bind(store);
  const finish = store?.finishIdempotencyKey?.bind(store);
  return claim && finish ? { claim, finish } : undefined;
}

/** Keys in this process, at most `maxEntries`, the oldest dropped first. */
function memoryKeeper(maxEntries: number): Keeper {
  const entries = new Map<
    string,
    { fingerprint: string; claim: string; answer?: IdempotentAnswer; expiresAt: number }
  >();
  const sweep = (now: number) => {
    for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
    while (entries.size >= maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done) break;
      entries.delete(oldest.value);
    }
  };
  return {
    async claim({ key, fingerprint, claim, claimTtlMs }) {
      const now = Date.now();
      const found = entries.get(key);
      if (found && found.expiresAt > now)
        return found.answer
          ? { state: 'done', fingerprint: found.fingerprint, answer: found.answer }
          : { state: 'running', fingerprint: found.fingerprint };
      sweep(now);
      entries.set(key, { fingerprint, claim, expiresAt: now + claimTtlMs });
      return { state: 'claimed' };
    },
    async finish({ key, claim, answer, ttlMs }) {
      const found = entries.get(key);
      if (!found || found.claim !== claim || found.answer) return;
      if (answer) entries.set(key, { ...found, answer, expiresAt: Date.now() + ttlMs });
      else entries.delete(key);
    },
  };
}
