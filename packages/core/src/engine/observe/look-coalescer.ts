/**
 * Turns notifications about a repository into looks at it. A notification that arrives alone is
 * looked at at once (on the next turn of the event loop, so the events of one delivery share a
 * look); the ones that follow within `windowMs` of a look cost a single look more at the window's
 * end, however many they are. A lone push so waits for no window, and a burst (a multi-platform
 * push, several tags) costs two looks at most.
 */
export class LookCoalescer<T> {
  readonly #windowMs: number;
  readonly #look: (key: string, value: T) => void;
  /** Keys whose look waits for the next turn of the event loop, with the latest value. */
  readonly #soon = new Map<string, { readonly handle: NodeJS.Immediate; value: T }>();
  /** Keys looked at within the window; `next` is set when a notification came in since. */
  readonly #windows = new Map<string, { readonly timer: NodeJS.Timeout; next?: { value: T } }>();

  constructor(windowMs: number, look: (key: string, value: T) => void) {
    this.#windowMs = windowMs;
    this.#look = look;
  }

  observe(key: string, value: T): void {
    const window = this.#windows.get(key);
    if (window) {
      window.next = { value };
      return;
    }
    const soon = this.#soon.get(key);
    if (soon) {
      soon.value = value;
      return;
    }
    const handle = setImmediate(() => {
      const latest = this.#soon.get(key)?.value ?? value;
      this.#soon.delete(key);
      this.#lookNow(key, latest);
    });
    this.#soon.set(key, { handle, value });
  }

  /** Whether a look at `key` is due and not yet started. */
  has(key: string): boolean {
    return this.#soon.has(key) || this.#windows.get(key)?.next !== undefined;
  }

  clear(): void {
    for (const { handle } of this.#soon.values()) clearImmediate(handle);
    for (const { timer } of this.#windows.values()) clearTimeout(timer);
    this.#soon.clear();
    this.#windows.clear();
  }

  #lookNow(key: string, value: T): void {
    if (this.#windowMs > 0) {
      const window: { readonly timer: NodeJS.Timeout; next?: { value: T } } = {
        timer: setTimeout(() => {
          this.#windows.delete(key);
          if (window.next) this.#lookNow(key, window.next.value);
        }, this.#windowMs),
      };
      this.#windows.set(key, window);
    }
    this.#look(key, value);
  }
}
