import * as v from 'valibot';
import { parseOptions } from './config.ts';
import type { Registry } from './contracts/registry.ts';
import { CoreError, isCoreError, throwIfAborted } from './errors.ts';
import { type Logger, silentLogger } from './logger.ts';

/** The default number of requests a registry gets at once. */
export const defaultRegistryConcurrency = 4;

/** A pause a registry asks for (`Retry-After`) is kept at most this long: a bad header cannot stall a registry for days. */
const maxPauseMs = 30 * 60_000;

export const registryLimits = v.strictObject({
  concurrency: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.description(
        'Requests to the registry at once, polling and on-demand looks together (a listing of all its pages is one).',
      ),
    ),
    defaultRegistryConcurrency,
  ),
  rateLimit: v.optional(
    v.pipe(
      v.strictObject({
        requests: v.pipe(v.number(), v.integer(), v.minValue(1), v.description('Requests at most…')),
        perMs: v.pipe(v.number(), v.finite(), v.gtValue(0), v.description('…in any window of this many ms.')),
      }),
      v.description(
        'At most `requests` requests start in any window of `perMs`; the others wait their turn, in order.',
      ),
    ),
  ),
});

export type RegistryLimits = v.InferInput<typeof registryLimits>;

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/**
 * The requests one registry gets: at most `concurrency` at once, at most `rateLimit.requests` started
 * in any window of `rateLimit.perMs`, none while the registry asked to wait (a `RATE_LIMITED` answer
 * with `retryAfterMs`). Requests wait in order. One limiter is shared by every caller of a registry
 * (the poll cycle, webhook looks, the API), so that together they keep to it.
 */
export class RegistryLimiter {
  readonly concurrency: number;
  readonly #rate: { readonly requests: number; readonly perMs: number } | undefined;
  readonly #logger: Logger;
  #running = 0;
  readonly #waiting: Waiter[] = [];
  /** Start times of the last `rate.requests` requests, as a ring: `#starts[#oldest]` is the oldest. */
  readonly #starts: number[] = [];
  #oldest = 0;
  #pausedUntil = 0;
  #timer: { readonly handle: NodeJS.Timeout; readonly at: number } | undefined;

  /** `path` names the limits in a `CONFIG_INVALID` error (e.g. `registries.hub`). */
  constructor(
    limits: RegistryLimits = {},
    options: { readonly logger?: Logger; readonly path?: string } = {},
  ) {
    const parsed = parseOptions(registryLimits, limits, {
      subject: 'registry limits',
      ...(options.path === undefined ? {} : { path: options.path }),
    });
    this.concurrency = parsed.concurrency;
    this.#rate = parsed.rateLimit;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Requests running now (for tests and metrics). */
  get running(): number {
    return this.#running;
  }

  /**
   * Runs `call` when the limits allow. Its `RATE_LIMITED` error with `retryAfterMs` is still the
   * answer (the engine backs the repository off by it), and holds every other request until then.
   */
  async run<T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.#acquire(signal);
    try {
      return await call();
    } catch (error) {
      if (isCoreError(error, 'RATE_LIMITED') && error.retryAfterMs !== undefined)
        this.#pause(error.retryAfterMs);
      throw error;
    } finally {
      this.#running--;
      this.#pump();
    }
  }

  #pause(ms: number): void {
    const until = Date.now() + Math.min(Math.max(ms, 0), maxPauseMs);
    if (until <= this.#pausedUntil) return;
    this.#pausedUntil = until;
    this.#logger.warn(`the registry asked to wait ${ms} ms: no request to it until then`, {
      retryAfterMs: ms,
    });
  }

  /** When a request may start by time (pause and rate), whatever runs. */
  #startsAt(): number {
    let at = this.#pausedUntil;
    if (this.#rate && this.#starts.length >= this.#rate.requests)
      at = Math.max(at, this.#starts[this.#oldest]! + this.#rate.perMs);
    return at;
  }

  #start(now: number): void {
    this.#running++;
    if (!this.#rate) return;
    if (this.#starts.length < this.#rate.requests) this.#starts.push(now);
    else {
      this.#starts[this.#oldest] = now;
      this.#oldest = (this.#oldest + 1) % this.#rate.requests;
    }
  }

  #acquire(signal: AbortSignal | undefined): Promise<void> {
    throwIfAborted(signal);
    const now = Date.now();
    if (this.#waiting.length === 0 && this.#running < this.concurrency && this.#startsAt() <= now) {
      this.#start(now);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = this.#waiting.indexOf(waiter);
          if (index >= 0) this.#waiting.splice(index, 1);
          reject(new CoreError('ABORTED', 'The operation was aborted', { cause: signal?.reason }));
          this.#pump();
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.#waiting.push(waiter);
      this.#pump();
    });
  }

  /** Starts waiting requests while the limits allow; wakes up when time is what holds them. */
  #pump(): void {
    while (this.#waiting.length > 0 && this.#running < this.concurrency) {
      const now = Date.now();
      const at = this.#startsAt();
      if (at > now) {
        this.#wakeAt(at);
        return;
      }
      const waiter = this.#waiting.shift()!;
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      this.#start(now);
      waiter.resolve();
    }
  }

  #wakeAt(at: number): void {
    if (this.#timer && this.#timer.at <= at) return;
    if (this.#timer) clearTimeout(this.#timer.handle);
    const handle = setTimeout(
      () => {
        this.#timer = undefined;
        this.#pump();
      },
      Math.max(at - Date.now(), 0),
    );
    this.#timer = { handle, at };
  }
}

/**
 * `registry` with every request (listings, digest and image-config reads) run through `limiter`;
 * webhooks are not requests to the registry and pass straight through.
 */
export function limitRegistry(registry: Registry, limiter: RegistryLimiter): Registry {
  const { readImageConfig, parseWebhook } = registry;
  return {
    id: registry.id,
    capabilities: registry.capabilities,
    listTags: (params) => limiter.run(() => registry.listTags(params), params.signal),
    resolveReference: (params) => limiter.run(() => registry.resolveReference(params), params.signal),
    dispose: () => registry.dispose(),
    ...(readImageConfig
      ? {
          readImageConfig: (params: Parameters<typeof readImageConfig>[0]) =>
            limiter.run(() => readImageConfig.call(registry, params), params.signal),
        }
      : {}),
    ...(parseWebhook ? { parseWebhook: parseWebhook.bind(registry) } : {}),
  };
}
