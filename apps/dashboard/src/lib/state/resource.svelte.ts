// One thing a page reads from the API, kept current: read again (merged within a short window) when
// the event stream reports something that concerns it, and after a reconnect.
import { isApiError } from '../api/errors.ts';
import type { DwEvent } from '../api/events.ts';
import { events } from './events.svelte.ts';

const mergeMs = 80;
/** A read that got no answer (or a 5xx) is tried again: after 1 s, then twice as long, up to 30 s. */
const firstRetryMs = 1_000;
const maxRetryMs = 30_000;

/** No answer (a dropped connection, status 0) or a server error: worth reading again. */
const transient = (error: unknown) => !isApiError(error) || error.status === 0 || error.status >= 500;

export class Resource<T> {
  value = $state.raw<T | undefined>(undefined);
  error = $state.raw<unknown>(undefined);
  /** The first read is done (with a value or an error). */
  ready = $state(false);
  #fetch: () => Promise<T>;
  #concerns: ((event: DwEvent) => boolean) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #retryMs = firstRetryMs;
  #generation = 0;

  constructor(fetch: () => Promise<T>, concerns?: (event: DwEvent) => boolean) {
    this.#fetch = fetch;
    this.#concerns = concerns;
  }

  /** Reads now and follows events until the returned function is called (an `$effect` cleanup). */
  start(): () => void {
    this.#retryMs = firstRetryMs;
    void this.load();
    const offEvents = this.#concerns
      ? events.subscribe((event) => {
          if (this.#concerns?.(event)) this.later();
        })
      : () => undefined;
    const offResync = events.onResync(() => void this.load());
    return () => {
      this.#generation++;
      clearTimeout(this.#timer);
      clearTimeout(this.#retry);
      this.#retry = undefined;
      offEvents();
      offResync();
    };
  }

  /** Reads again soon, once for several calls in a row. */
  later(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.load();
    }, mergeMs);
  }

  /** Reads again after a growing pause, unless stopped or read again meanwhile. */
  #retryLater(generation: number): void {
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (generation === this.#generation) void this.load();
    }, this.#retryMs);
    this.#retryMs = Math.min(this.#retryMs * 2, maxRetryMs);
  }

  async load(): Promise<void> {
    const generation = this.#generation;
    try {
      const value = await this.#fetch();
      if (generation !== this.#generation) return;
      this.value = value;
      this.error = undefined;
      this.#retryMs = firstRetryMs;
      clearTimeout(this.#retry);
      this.#retry = undefined;
    } catch (error) {
      if (generation !== this.#generation) return;
      this.error = error;
      if (transient(error)) this.#retryLater(generation);
    } finally {
      if (generation === this.#generation) this.ready = true;
    }
  }
}

/** Whether an event concerns a project (and a stage, when given). */
export const concerns =
  (project: string, stage?: string) =>
  (event: DwEvent): boolean =>
    'project' in event && event.project === project && (stage === undefined || event.stage === stage);
