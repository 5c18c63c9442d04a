export interface FailureLimiterOptions {
  /** Failures within the window after which a key is blocked until the window ends. */
  readonly maxFailures: number;
  readonly windowMs: number;
  /** Keys remembered at most; expired ones go first, then the oldest. */
  readonly maxKeys?: number;
}

export interface FailureLimiter {
  /** Milliseconds until `key` may try again; 0 when it may now. */
  blockedFor(key: string): number;
  fail(key: string): void;
  /** Takes back one failure (an attempt counted up front that succeeded). */
  forgive(key: string): void;
  reset(key: string): void;
  readonly size: number;
}

interface Window {
  count: number;
  endsAt: number;
}

/**
 * Counts failures per key in a fixed window that starts with the first failure (e.g. 5 failed
 * logins per 15 minutes). Memory stays bounded: at `maxKeys`, expired windows are dropped, then
 * the oldest.
 */
export function createFailureLimiter(options: FailureLimiterOptions): FailureLimiter {
  const maxKeys = options.maxKeys ?? 10_000;
  const windows = new Map<string, Window>();
  const live = (key: string, now: number): Window | undefined => {
    const window = windows.get(key);
    if (window && window.endsAt <= now) {
      windows.delete(key);
      return undefined;
    }
    return window;
  };
  const makeRoom = (now: number) => {
    if (windows.size < maxKeys) return;
    for (const [key, window] of windows) if (window.endsAt <= now) windows.delete(key);
    // Map order is insertion order, and a window is inserted when it starts: the first is the oldest.
    for (const key of windows.keys()) {
      if (windows.size < maxKeys) break;
      windows.delete(key);
    }
  };
  return {
    blockedFor(key) {
      const now = Date.now();
      const window = live(key, now);
      return window && window.count >= options.maxFailures ? window.endsAt - now : 0;
    },
    fail(key) {
      const now = Date.now();
      const window = live(key, now);
      if (window) {
        window.count += 1;
        return;
      }
      makeRoom(now);
      windows.set(key, { count: 1, endsAt: now + options.windowMs });
    },
    forgive(key) {
      const window = windows.get(key);
      if (window && window.count > 0) window.count -= 1;
    },
    reset(key) {
      windows.delete(key);
    },
    get size() {
      return windows.size;
    },
  };
}
