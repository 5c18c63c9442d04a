/** One outgoing request's signal: aborted by its deadline or by any of the signals it follows. */
export interface RequestDeadline {
  readonly signal: AbortSignal;
  /** True once the deadline (not a followed signal) aborted the request. */
  readonly timedOut: boolean;
  /** The request ended: lets go of the timer and of the followed signals' listeners. */
  done(): void;
}

/**
 * A request's abort signal with a deadline, following longer-lived signals (an adapter's lifetime, a
 * caller's cancel). Unlike `AbortSignal.any([AbortSignal.timeout(ms), lifetime])`, `done()` releases
 * everything at once: the timeout signal and its timer otherwise live for the whole `ms` after the
 * request answered, and the lifetime signal keeps a reference per request until they are collected.
 * A server polling 100 repositories every second kept thousands of them and grew its old generation
 * by tens of MB between collections (bench/idle-memory.bench.ts).
 */
export function requestDeadline(ms: number, follow: ReadonlyArray<AbortSignal | undefined>): RequestDeadline {
  const controller = new AbortController();
  let timedOut = false;
  const sources = follow.filter((signal): signal is AbortSignal => signal !== undefined);
  const listeners: Array<[AbortSignal, () => void]> = [];
  const done = () => {
    clearTimeout(timer);
    for (const [source, listener] of listeners) source.removeEventListener('abort', listener);
    listeners.length = 0;
  };
  const timer = setTimeout(() => {
    timedOut = true;
    done();
    controller.abort(new DOMException(`The request did not finish within ${ms} ms`, 'TimeoutError'));
  }, ms);
  for (const source of sources) {
    if (source.aborted) {
      done();
      controller.abort(source.reason);
      break;
    }
    const listener = () => {
      done();
      controller.abort(source.reason);
    };
    source.addEventListener('abort', listener, { once: true });
    listeners.push([source, listener]);
  }
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    done,
  };
}
