import { CoreError, type ErrorCode, throwIfAborted } from '../errors.ts';

export interface FailOptions {
  /** How many calls fail; 1 by default. */
  readonly times?: number;
  /**
   * Let the operation take effect, then throw: the call fails although the backend acted (a start
   * whose answer was lost, a write that timed out after committing). Crash-safety tests need this.
   */
  readonly after?: boolean;
}

/**
 * Fault injection for the in-memory adapters: make operations fail, fail after acting, or stall,
 * and count their calls. Errors given as a code become a `CoreError` with that code.
 */
export interface Faults<Operation extends string> {
  /** The next call (or `times` calls) of `operation` throws `error`. Queued after earlier faults. */
  failNext(operation: Operation, error: Error | ErrorCode, options?: FailOptions): void;
  /** Every call of `operation` throws `error` until `clear()`. */
  failAlways(operation: Operation, error: Error | ErrorCode): void;
  /** Every call of `operation` waits `ms` first (abortable); `Infinity` stalls until aborted. */
  delay(operation: Operation, ms: number): void;
  /** Forgets the faults and delays of one operation, or of all. Call counts stay. */
  clear(operation?: Operation): void;
  /** Calls of one operation so far, or of all operations; failed and aborted calls count too. */
  calls(operation?: Operation): number;
}

interface Planned {
  readonly error: Error;
  readonly after: boolean;
  remaining: number;
}

function asError(error: Error | ErrorCode, operation: string): Error {
  return typeof error === 'string' ? new CoreError(error, `Injected fault in ${operation}`) : error;
}

function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      if (timer !== undefined) clearTimeout(timer);
      reject(new CoreError('ABORTED', 'The operation was aborted', { cause: signal?.reason }));
    };
    const timer = Number.isFinite(ms)
      ? setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, ms)
      : undefined;
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The runner every in-memory adapter puts its operations through: abort, dispose and faults. */
export class FaultInjector<Operation extends string> implements Faults<Operation> {
  readonly #adapterId: string;
  readonly #disposed: () => boolean;
  readonly #planned = new Map<Operation, Planned[]>();
  readonly #always = new Map<Operation, Error>();
  readonly #delays = new Map<Operation, number>();
  readonly #calls = new Map<Operation, number>();

  constructor(adapterId: string, disposed: () => boolean) {
    this.#adapterId = adapterId;
    this.#disposed = disposed;
  }

  failNext(operation: Operation, error: Error | ErrorCode, options: FailOptions = {}): void {
    const queue = this.#planned.get(operation) ?? [];
    queue.push({
      error: asError(error, operation),
      after: options.after ?? false,
      remaining: Math.max(1, options.times ?? 1),
    });
    this.#planned.set(operation, queue);
  }

  failAlways(operation: Operation, error: Error | ErrorCode): void {
    this.#always.set(operation, asError(error, operation));
  }

  delay(operation: Operation, ms: number): void {
    this.#delays.set(operation, ms);
  }

  clear(operation?: Operation): void {
    for (const map of [this.#planned, this.#always, this.#delays]) {
      if (operation === undefined) map.clear();
      else map.delete(operation);
    }
  }

  calls(operation?: Operation): number {
    if (operation !== undefined) return this.#calls.get(operation) ?? 0;
    let total = 0;
    for (const count of this.#calls.values()) total += count;
    return total;
  }

  /** Runs one operation: aborted or disposed → throws; injected faults before or after `effect`. */
  async run<T>(
    operation: Operation,
    signal: AbortSignal | undefined,
    effect: () => T | Promise<T>,
  ): Promise<T> {
    this.#calls.set(operation, (this.#calls.get(operation) ?? 0) + 1);
    throwIfAborted(signal);
    if (this.#disposed()) {
      throw new CoreError('UNAVAILABLE', `${this.#adapterId} is disposed`, {
        retryable: false,
        details: { adapter: this.#adapterId, operation },
      });
    }
    const delay = this.#delays.get(operation);
    if (delay !== undefined && delay > 0) {
      await wait(delay, signal);
      throwIfAborted(signal);
    }
    const fault = this.#take(operation);
    if (fault && !fault.after) throw fault.error;
    const result = await effect();
    if (fault) throw fault.error;
    return result;
  }

  #take(operation: Operation): { error: Error; after: boolean } | undefined {
    const queue = this.#planned.get(operation);
    const next = queue?.[0];
    if (queue && next) {
      next.remaining -= 1;
      if (next.remaining <= 0) queue.shift();
      return next;
    }
    const always = this.#always.get(operation);
    return always ? { error: always, after: false } : undefined;
  }
}
