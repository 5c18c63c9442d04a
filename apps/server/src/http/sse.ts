import { CoreError, type EventBus, type StateStore } from '@docker-watcher/core';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';

export interface DeployLogStreamOptions {
  readonly store: StateStore;
  readonly bus: EventBus;
  readonly deployId: string;
  /** Keep-alive comment period. Default 15 s. */
  readonly heartbeatMs?: number;
}

/**
 * A deploy's log as server-sent events: earlier lines from the store first (after `Last-Event-ID`
 * when the client resumes), then each new line as the engine writes it, until the deploy ends.
 * Bus events only wake the stream; lines are read from the store by sequence number, so none is
 * lost or sent twice between the replay and the live part.
 *
 * Events: `log` (`{ seq, at, level, line }`, id = seq), `state` (`{ state }`), `end` (`{ state }`).
 */
export async function deployLogStream(c: Context, options: DeployLogStreamOptions): Promise<Response> {
  const { store, bus, deployId } = options;
  const initial = await store.getDeploy({ id: deployId });
  if (!initial) throw new CoreError('NOT_FOUND', `No deploy ${deployId}`);
  const resumeFrom = Number(c.req.header('last-event-id') ?? '0');
  return streamSSE(c, async (stream) => {
    let after = Number.isInteger(resumeFrom) && resumeFrom > 0 ? resumeFrom : 0;
    let lastState: string | undefined;
    let pending = false;
    let wake: (() => void) | undefined;
    const poke = () => {
      pending = true;
      wake?.();
    };
    const off = bus.onAny((event) => {
      if ('deployId' in event && event.deployId === deployId) poke();
    });
    stream.onAbort(poke);
    try {
      while (!stream.aborted) {
        pending = false;
        for (const line of await store.readLog({ deployId, after })) {
          await stream.writeSSE({ id: String(line.seq), event: 'log', data: JSON.stringify(line) });
          after = line.seq;
        }
        const record = await store.getDeploy({ id: deployId });
        if (record && record.state !== lastState) {
          lastState = record.state;
          await stream.writeSSE({ event: 'state', data: JSON.stringify({ state: record.state }) });
        }
        if (!record || record.finished) {
          // Lines written while the deploy finished.
          for (const line of await store.readLog({ deployId, after })) {
            await stream.writeSSE({ id: String(line.seq), event: 'log', data: JSON.stringify(line) });
            after = line.seq;
          }
          await stream.writeSSE({
            event: 'end',
            data: JSON.stringify({ state: record?.state ?? 'unknown' }),
          });
          break;
        }
        if (!pending) {
          const beat = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(true), options.heartbeatMs ?? 15_000);
            wake = () => {
              clearTimeout(timer);
              resolve(false);
            };
          });
          wake = undefined;
          if (beat && !stream.aborted) await stream.write(': keep-alive\n\n');
        }
      }
    } finally {
      off();
    }
  });
}
