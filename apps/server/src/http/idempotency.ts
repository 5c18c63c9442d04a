import { createHash } from 'node:crypto';
import { CoreError } from '@docker-watcher/core';
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
  readonly size: number;
}

interface Stored {
  readonly status: number;
  readonly body: string;
  readonly headers: ReadonlyArray<[string, string]>;
}

interface Entry {
  readonly fingerprint: string;
  readonly expiresAt: number;
  /** Resolves with the answer to keep, or undefined when it is not kept (not a success). */
  readonly answer: Promise<Stored | undefined>;
}

export interface IdempotencyOptions {
  /** How long an answer is kept. Default 24 h. */
  readonly ttlMs?: number;
  /** How many answers are kept; the oldest go first. Default 10 000. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

const maxKeyLength = 200;

/**
 * Successful answers are kept per caller, route and key for a day: the same request again gets the
 * same answer (with `Idempotency-Replayed: true`), even while the first is still running; the same
 * key with another body is a 409. Failed answers are not kept: the retry acts, as the first did not.
 */
export function createIdempotencyCache(options: IdempotencyOptions = {}): IdempotencyCache {
  const ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();

  const sweep = () => {
    const at = now();
    for (const [key, entry] of entries) if (entry.expiresAt <= at) entries.delete(key);
    while (entries.size >= maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done) break;
      entries.delete(oldest.value);
    }
  };

  const replay = (stored: Stored) => {
    const headers = new Headers(stored.headers as Array<[string, string]>);
    headers.set('Idempotency-Replayed', 'true');
    return new Response(stored.body, { status: stored.status, headers });
  };

  return {
    get size() {
      return entries.size;
    },
    async run(request, answer) {
      if (request.key === '' || request.key.length > maxKeyLength)
        throw new CoreError('BAD_REQUEST', `Idempotency-Key must be 1 to ${maxKeyLength} characters`, {
          details: {
            fields: [{ path: 'Idempotency-Key', message: `must be 1 to ${maxKeyLength} characters` }],
          },
        });
      const id = JSON.stringify([request.caller, request.method, request.path, request.key]);
      const fingerprint = createHash('sha256')
        .update(await request.c.req.text())
        .digest('base64url');
      const existing = entries.get(id);
      if (existing && existing.expiresAt > now()) {
        if (existing.fingerprint !== fingerprint)
          throw new CoreError('CONFLICT', 'This Idempotency-Key was used for a different request body');
        const stored = await existing.answer;
        if (stored) return replay(stored);
        // The first try failed and was not kept: this one acts.
      }
      sweep();
      let settle!: (stored: Stored | undefined) => void;
      entries.set(id, {
        fingerprint,
        expiresAt: now() + ttlMs,
        answer: new Promise((resolve) => {
          settle = resolve;
        }),
      });
      try {
        const response = await answer();
        if (response.status >= 200 && response.status < 300) {
          settle({
            status: response.status,
            body: await response.clone().text(),
            headers: [...response.headers.entries()],
          });
        } else {
          entries.delete(id);
          settle(undefined);
        }
        return response;
      } catch (error) {
        entries.delete(id);
        settle(undefined);
        throw error;
      }
    },
  };
}
