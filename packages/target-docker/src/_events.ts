import type { Logger } from '@docker-watcher/core';
import type Docker from 'dockerode';

/** One container event of the engine's `/events` stream, as far as the target reads it. */
export interface ContainerEvent {
  readonly id: string;
  readonly action: string;
  /** The container's labels (and `name`, `image`), as the engine puts them on the event. */
  readonly attributes: Readonly<Record<string, string>>;
  /** Seconds since the epoch. */
  readonly time: number;
}

export interface FollowOptions {
  readonly docker: Docker;
  readonly actions: readonly string[];
  readonly labels: readonly string[];
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly onEvent: (event: ContainerEvent) => void;
  /** The stream came back after it broke: events in between may be lost. */
  readonly onGap: () => void;
  /** First pause before reconnecting; doubles up to 30 s. Default 500 ms. */
  readonly retryBaseMs?: number;
}

/** Parses one line of the stream; anything that is not a container event is skipped. */
export function parseContainerEvent(line: string): ContainerEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object') return undefined;
  const { Type, Action, Actor, time } = value as Record<string, unknown>;
  const actor = Actor as { ID?: unknown; Attributes?: unknown } | undefined;
  if (Type !== 'container' || typeof Action !== 'string' || typeof actor?.ID !== 'string') return undefined;
  const attributes: Record<string, string> = Object.create(null);
  for (const [key, item] of Object.entries(actor.Attributes ?? {})) {
    if (typeof item === 'string') attributes[key] = item;
  }
  return {
    id: actor.ID,
    action: Action,
    attributes,
    time: typeof time === 'number' ? time : 0,
  };
}

const wait = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** Reads one stream to its end (or break), event by event; resolves when it ends. */
function drain(stream: NodeJS.ReadableStream, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let rest = '';
    stream.on('data', (chunk: Buffer | string) => {
      rest += chunk.toString();
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') onLine(line);
    });
    stream.on('end', () => resolve());
    stream.on('close', () => resolve());
    stream.on('error', () => resolve());
  });
}

/**
 * Follows the engine's container events with these actions and labels until `signal` aborts,
 * reconnecting after a break (a daemon restart ends the stream) from the last event's time, and
 * telling `onGap` once it is back. Resolves once the first stream is open; rejects only when
 * `signal` aborts before that.
 */
export function followContainerEvents(options: FollowOptions): Promise<void> {
  const { docker, signal, logger } = options;
  const baseMs = options.retryBaseMs ?? 500;
  let since: number | undefined;
  return new Promise<void>((resolve, reject) => {
    let opened = false;
    const loop = async () => {
      let failures = 0;
      while (!signal.aborted) {
        let stream: NodeJS.ReadableStream;
        try {
          stream = await docker.getEvents({
            filters: { type: ['container'], event: [...options.actions], label: [...options.labels] },
            ...(since === undefined ? {} : { since }),
            abortSignal: signal,
          } as Docker.GetEventsOptions);
        } catch (error) {
          if (signal.aborted) break;
          failures += 1;
          if (failures === 1) logger.warn('could not follow the engine’s events', { error: String(error) });
          await wait(Math.min(baseMs * 2 ** (failures - 1), 30_000), signal);
          continue;
        }
        since ??= Math.floor(Date.now() / 1000);
        if (opened) options.onGap();
        opened = true;
        failures = 0;
        resolve();
        const abort = () => (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
        signal.addEventListener('abort', abort, { once: true });
        await drain(stream, (line) => {
          const event = parseContainerEvent(line);
          if (!event) return;
          since = Math.max(since ?? 0, event.time);
          options.onEvent(event);
        });
        signal.removeEventListener('abort', abort);
        if (!signal.aborted) await wait(baseMs, signal);
      }
      reject(signal.reason ?? new Error('aborted'));
    };
    void loop();
  });
}
