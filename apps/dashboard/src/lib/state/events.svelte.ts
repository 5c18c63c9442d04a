// The one event stream every page shares (`GET /api/events`). EventSource resumes by itself with
// Last-Event-ID after a network blip; when it gives up (the server went away, or answered with an
// error) it is opened again with a backoff, and everyone re-reads state, since events may be lost.

import { type DwEvent, parseEvent, streamedEventTypes } from '../api/events.ts';
import { api } from '../api/index.ts';
import { connection } from './connection.svelte.ts';
import { session } from './session.svelte.ts';

type Listener = (event: DwEvent) => void;

const maxBackoffMs = 10_000;
/** Events kept for a page opened after they happened (a deploy's health probes, seen from the board). */
const keptEvents = 500;

class EventStream {
  /** `connecting`, `live`, or `down` (reconnecting). */
  status = $state<'idle' | 'connecting' | 'live' | 'down'>('idle');
  #source: EventSource | undefined;
  #listeners = new Set<Listener>();
  #resyncs = new Set<() => void>();
  #retry: ReturnType<typeof setTimeout> | undefined;
  #backoffMs = 500;
  #everOpened = false;
  #waiters = new Set<() => void>();
  #recent: DwEvent[] = [];
  /** State was read before the stream first opened: read it again then, events may have been missed. */
  #readEarly = false;

  /**
   * Resolves once the stream is open, or after `timeoutMs` (a broken stream must not keep pages
   * empty). State read after this misses no event; state read after a timeout is read again when
   * the stream opens.
   */
  ready(timeoutMs: number): Promise<void> {
    if (this.#everOpened) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#readEarly = true;
        done();
      }, timeoutMs);
      this.#waiters.add(done);
    });
  }

  /** Calls `listener` with every event; returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The events of this stream so far (the newest 500) that `wanted` takes, oldest first. */
  recent<T extends DwEvent>(wanted: (event: DwEvent) => event is T): T[] {
    return this.#recent.filter(wanted);
  }

  /**
   * Calls `resync` after a reconnect (events may have been missed, so state is read again) and
   * after the user's own action.
   */
  onResync(resync: () => void): () => void {
    this.#resyncs.add(resync);
    return () => this.#resyncs.delete(resync);
  }

  /**
   * After the user's own action: everyone reads state again now, so that what it changed shows
   * without waiting for its event (a stream that is reconnecting delivers it seconds later).
   */
  readAgain(): void {
    this.#resync();
  }

  start(): void {
    if (this.#source || this.#retry) return;
    this.#open();
  }

  stop(): void {
    clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#source?.close();
    this.#source = undefined;
    this.#everOpened = false;
    this.#readEarly = false;
    this.#recent = [];
    this.status = 'idle';
    connection.streaming = false;
  }

  #open(): void {
    this.#retry = undefined;
    this.status = this.#everOpened ? 'down' : 'connecting';
    const source = new EventSource('/api/events');
    this.#source = source;
    const deliver = (message: MessageEvent<string>) => {
      const event = parseEvent(message.data);
      if (!event) return;
      this.#recent.push(event);
      if (this.#recent.length > keptEvents) this.#recent.splice(0, this.#recent.length - keptEvents);
      for (const listener of this.#listeners) listener(event);
    };
    source.addEventListener('message', deliver);
    for (const type of streamedEventTypes) source.addEventListener(type, deliver as EventListener);
    // The server says the client missed events it no longer has: read everything again.
    source.addEventListener('reset', () => this.#resync());
    source.addEventListener('open', () => {
      const reopened = this.#everOpened || this.#readEarly;
      this.#everOpened = true;
      this.#readEarly = false;
      for (const waiter of [...this.#waiters]) waiter();
      this.#backoffMs = 500;
      this.status = 'live';
      connection.streaming = true;
      connection.reachable = true;
      if (reopened) this.#resync();
    });
    source.addEventListener('error', () => {
      connection.streaming = false;
      if (source.readyState === EventSource.CONNECTING) {
        this.status = 'down';
        return;
      }
      // Closed for good: the server refused (401 after a restart ended the session) or went away.
      source.close();
      if (this.#source === source) this.#source = undefined;
      this.status = 'down';
      void this.#afterClose();
    });
  }

  async #afterClose(): Promise<void> {
    // The session decides: a 401 sends the user to the login (the client's hook does that).
    const alive = await api.getSession().then(
      () => true,
      (error: { status?: number; message?: string }) => {
        if (error.status === 401) void session.ended(error.message ?? 'The session has ended');
        else connection.reachable = false;
        return error.status !== 401;
      },
    );
    if (!alive || !session.info) return;
    this.#retry = setTimeout(() => this.#open(), this.#backoffMs);
    this.#backoffMs = Math.min(this.#backoffMs * 2, maxBackoffMs);
  }

  #resync(): void {
    for (const resync of this.#resyncs) resync();
  }
}

export const events = new EventStream();
