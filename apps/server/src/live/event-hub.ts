import {
  type DockerWatcherEvent,
  type EventBus,
  type FeedEntry,
  type Logger,
  type StateStore,
  toCoreError,
} from '@docker-watcher/core';
import type { EventJournal } from './event-journal.ts';

export interface EventHubOptions {
  readonly bus: EventBus;
  readonly journal: EventJournal;
  readonly logger: Logger;
  /** The store, for its change feed when it has one (PostgreSQL): other replicas' events arrive at once. */
  readonly store?: StateStore;
  /** Recent events kept here for clients that resume (`Last-Event-ID`). Default 1000. */
  readonly ringSize?: number;
  /** Bytes a client may have waiting before it is dropped. Default 256 KiB. */
  readonly clientBufferBytes?: number;
  /** Keep-alive comment period. Default 15 s. */
  readonly heartbeatMs?: number;
  /** How often a shared journal without a change feed is read for other replicas' events. Default 2 s. */
  readonly pollMs?: number;
}

export interface SubscribeOptions {
  readonly lastEventId?: number;
  /** Only these event types; all when absent. */
  readonly types?: ReadonlySet<string>;
  /**
   * Ends the client's connection when it is dropped (the HTTP server's socket). Without it the
   * stream errors, which a server may report as a failed response.
   */
  readonly disconnect?: () => void;
}

export interface EventHubStats {
  readonly subscribers: number;
  /** Bytes waiting in all clients' buffers. */
  readonly queuedBytes: number;
  readonly dropped: number;
  readonly lastEventId: number;
}

/**
 * The event stream of `GET /api/events`. Every engine event but log lines goes to the journal
 * (the store's feed, numbered across replicas); the hub reads the journal in order, from its own
 * appends and, on a shared store, from other replicas' (woken by the store's change feed), and
 * sends each event to every client as one frame serialised once. Each client has a bounded buffer:
 * a client that does not read is dropped, never waited for. The newest events stay in a ring so
 * that a client resumes after `Last-Event-ID`; an older id gets a `reset` (read the state again).
 */
export class EventHub {
  readonly #options: EventHubOptions;
  readonly #ring: Array<{ readonly seq: number; readonly type: string; readonly frame: Uint8Array }> = [];
  readonly #subscribers = new Set<Subscriber>();
  readonly #listeners = new Set<(entry: FeedEntry) => void>();
  readonly #cleanups: Array<() => void> = [];
  readonly #ready: Promise<void>;
  #pending: DockerWatcherEvent[] = [];
  #appending: Promise<void> = Promise.resolve();
  #pumping: Promise<void> | undefined;
  #again = false;
  #lastSeq = 0;
  #dropped = 0;
  #closed = false;

  constructor(options: EventHubOptions) {
    this.#options = options;
    this.#cleanups.push(
      options.bus.onAny((event) => {
        if (event.type === 'deploy:log' || this.#closed) return;
        this.#pending.push(event);
        if (this.#pending.length === 1) queueMicrotask(() => this.#flush());
      }),
    );
    this.#ready = this.#prefill();
    const heartbeat = setInterval(() => this.#broadcast(keepAlive), options.heartbeatMs ?? 15_000);
    heartbeat.unref();
    this.#cleanups.push(() => clearInterval(heartbeat));
    const onChange = changeFeedOf(options.store);
    if (onChange) {
      this.#cleanups.push(
        onChange((change) => {
          if (change.kind === 'feed' || change.kind === 'resync') this.#pump();
        }),
      );
    } else if (options.journal.shared) {
      const poll = setInterval(() => this.#pump(), options.pollMs ?? 2_000);
      poll.unref();
      this.#cleanups.push(() => clearInterval(poll));
    }
  }

  /** The newest event id delivered to clients. */
  get lastEventId(): number {
    return this.#lastSeq;
  }

  /** Resolves once the hub knows where the journal stands (its newest events are in the ring). */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Calls `listener` with every event in journal order, this replica's and the others'. */
  onEntry(listener: (entry: FeedEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A client's stream: replay after `lastEventId` (or `reset`), then every event as it comes. */
  async subscribe(options: SubscribeOptions = {}): Promise<ReadableStream<Uint8Array>> {
    await this.#ready;
    const limit = this.#options.clientBufferBytes ?? 256 * 1024;
    let subscriber: Subscriber | undefined;
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          subscriber = new Subscriber(controller, limit, options.types, options.disconnect, () => {
            this.#dropped += 1;
            this.#subscribers.delete(subscriber!);
          });
        },
        cancel: () => {
          if (subscriber) this.#subscribers.delete(subscriber);
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: limit }),
    );
    const client = subscriber!;
    // Sent at once, so that the response's headers go out before the first event.
    client.send(encoder.encode('retry: 2000\n\n'));
    if (this.#closed) {
      client.close();
      return stream;
    }
    this.#replay(client, options.lastEventId);
    this.#subscribers.add(client);
    return stream;
  }

  stats(): EventHubStats {
    let queuedBytes = 0;
    for (const subscriber of this.#subscribers) queuedBytes += subscriber.queued;
    return {
      subscribers: this.#subscribers.size,
      queuedBytes,
      dropped: this.#dropped,
      lastEventId: this.#lastSeq,
    };
  }

  /** Stops taking events and ends every client's stream (clients resume elsewhere with `Last-Event-ID`). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const cleanup of this.#cleanups) cleanup();
    await this.#appending;
    await this.#pumping;
    for (const subscriber of this.#subscribers) subscriber.close();
    this.#subscribers.clear();
  }

  #replay(client: Subscriber, lastEventId: number | undefined): void {
    if (lastEventId === undefined || lastEventId >= this.#lastSeq) return;
    const oldest = this.#ring[0]?.seq;
    if (oldest === undefined || oldest > lastEventId + 1) {
      client.send(
        reset(`Last-Event-ID ${lastEventId} is older than the events this server keeps`, this.#lastSeq),
      );
      return;
    }
    for (const item of this.#ring) if (item.seq > lastEventId) client.send(item.frame, item.type);
  }

  async #prefill(): Promise<void> {
    try {
      const newest = await this.#options.journal.read({ newest: true, limit: this.#ringSize() });
      for (const entry of newest) this.#remember(entry);
    } catch (error) {
      this.#options.logger.warn('the event stream could not read the newest events; it starts empty', {
        error: toCoreError(error).toJSON(),
      });
    }
  }

  #ringSize(): number {
    return this.#options.ringSize ?? 1000;
  }

  /** Appends what the bus emitted, one batch at a time and in order, then delivers it. */
  #flush(): void {
    this.#appending = this.#appending.then(async () => {
      await this.#ready;
      const batch = this.#pending;
      this.#pending = [];
      if (batch.length === 0) return;
      try {
        await this.#options.journal.append(batch);
      } catch (error) {
        // The store is down: these events reach no client; clients are told to read the state again.
        this.#options.logger.warn('events could not be written to the feed; clients are told to reload', {
          events: batch.length,
          error: toCoreError(error).toJSON(),
        });
        this.#broadcast(reset('the server could not record some events', this.#lastSeq));
        return;
      }
      this.#pump();
    });
  }

  /** Reads the journal after the last delivered event until it has nothing newer; one reader at a time. */
  #pump(): void {
    if (this.#closed) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = (async () => {
      await this.#ready;
      do {
        this.#again = false;
        let entries: FeedEntry[];
        try {
          entries = await this.#options.journal.read({ after: this.#lastSeq, limit: 500 });
        } catch (error) {
          this.#options.logger.warn('the event stream could not read the feed', {
            error: toCoreError(error).toJSON(),
          });
          return;
        }
        for (const entry of entries) this.#deliver(entry);
        if (entries.length === 500) this.#again = true;
      } while (this.#again && !this.#closed);
    })().finally(() => {
      this.#pumping = undefined;
    });
  }

  #deliver(entry: FeedEntry): void {
    if (entry.seq <= this.#lastSeq) return;
    if (this.#lastSeq > 0 && entry.seq > this.#lastSeq + 1)
      this.#broadcast(reset('events were dropped from the feed before this server read them', entry.seq - 1));
    const item = this.#remember(entry);
    for (const listener of this.#listeners) {
      try {
        listener(entry);
      } catch (error) {
        this.#options.logger.warn('an event listener failed', { error: toCoreError(error).toJSON() });
      }
    }
    for (const subscriber of this.#subscribers) subscriber.send(item.frame, item.type);
  }

  #remember(entry: FeedEntry) {
    const item = { seq: entry.seq, type: entry.event.type, frame: frameOf(entry) };
    this.#ring.push(item);
    if (this.#ring.length > this.#ringSize()) this.#ring.shift();
    this.#lastSeq = Math.max(this.#lastSeq, entry.seq);
    return item;
  }

  #broadcast(frame: Uint8Array): void {
    for (const subscriber of this.#subscribers) subscriber.send(frame);
  }
}

/** One client: a stream whose buffer is bounded; over the bound, the client is dropped at once. */
class Subscriber {
  readonly #controller: ReadableStreamDefaultController<Uint8Array>;
  readonly #limit: number;
  readonly #types: ReadonlySet<string> | undefined;
  readonly #disconnect: (() => void) | undefined;
  readonly #onDrop: () => void;
  #open = true;

  constructor(
    controller: ReadableStreamDefaultController<Uint8Array>,
    limit: number,
    types: ReadonlySet<string> | undefined,
    disconnect: (() => void) | undefined,
    onDrop: () => void,
  ) {
    this.#controller = controller;
    this.#limit = limit;
    this.#types = types;
    this.#disconnect = disconnect;
    this.#onDrop = onDrop;
  }

  /** Bytes waiting for the client. */
  get queued(): number {
    return this.#open ? this.#limit - (this.#controller.desiredSize ?? this.#limit) : 0;
  }

  send(frame: Uint8Array, type?: string): void {
    if (!this.#open || (type !== undefined && this.#types !== undefined && !this.#types.has(type))) return;
    if ((this.#controller.desiredSize ?? 0) < frame.byteLength) {
      this.#open = false;
      // Ending the connection cancels the stream, which drops what waits in it; so does an error.
      if (this.#disconnect) this.#disconnect();
      else this.#controller.error(new Error('The client reads its event stream too slowly'));
      this.#onDrop();
      return;
    }
    this.#controller.enqueue(frame);
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#controller.close();
  }
}

const encoder = new TextEncoder();
const keepAlive = encoder.encode(': keep-alive\n\n');

function frameOf(entry: FeedEntry): Uint8Array {
  return encoder.encode(
    `id: ${entry.seq}\nevent: ${entry.event.type}\ndata: ${JSON.stringify(entry.event)}\n\n`,
  );
}

function reset(reason: string, lastEventId: number): Uint8Array {
  return encoder.encode(`event: reset\ndata: ${JSON.stringify({ reason, lastEventId })}\n\n`);
}

type ChangeListener = (change: { readonly kind: string }) => void;

/** The store's change feed (store-postgres has one), found by shape: it is not part of the contract. */
function changeFeedOf(store: StateStore | undefined): ((listener: ChangeListener) => () => void) | undefined {
  const onChange = (store as { onChange?: unknown } | undefined)?.onChange;
  return typeof onChange === 'function'
    ? (listener) => (onChange as (listener: ChangeListener) => () => void).call(store, listener)
    : undefined;
}
