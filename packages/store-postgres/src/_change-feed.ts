import type { CoreError, Logger } from '@docker-watcher/core';
import pg from 'pg';
import {
  changeChannel,
  type StoreChange,
  type StoreChangeKind,
  type StoreChangeListener,
} from './changes.ts';

export interface ChangeFeed {
  subscribe(listener: StoreChangeListener): () => void;
  close(): Promise<void>;
}

interface Connection {
  readonly client: pg.Client;
  /** Set once the connection is given up, by failure or on purpose: its late events are ignored. */
  retired: boolean;
  ended?: Promise<void>;
}

/**
 * One dedicated LISTEN connection, opened while someone listens. When it breaks it reconnects with
 * backoff (100 ms doubling up to `retryMaxMs`), and every (re)connection is announced as `resync`:
 * what happened while nobody listened is not replayed, so listeners reload what they show.
 */
export function createChangeFeed(params: {
  readonly config: pg.ClientConfig;
  readonly schema: string;
  readonly logger: Logger;
  readonly retryMaxMs: number;
  readonly toError: (error: unknown) => CoreError;
}): ChangeFeed {
  const { config, schema, logger, retryMaxMs, toError } = params;
  const listeners = new Set<StoreChangeListener>();
  let current: Connection | undefined;
  let timer: NodeJS.Timeout | undefined;
  let delay = 100;
  let closed = false;

  const emit = (change: StoreChange) => {
    for (const listener of [...listeners]) {
      try {
        listener(change);
      } catch (error) {
        logger.warn('An onChange listener threw; the others still got the change', {
          kind: change.kind,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  };

  const wanted = () => !closed && listeners.size > 0;

  const retire = (connection: Connection) => {
    if (connection.retired) return;
    connection.retired = true;
    if (current === connection) current = undefined;
    connection.ended = connection.client.end().catch(() => undefined);
  };

  const schedule = () => {
    if (timer || !wanted()) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    delay = Math.min(delay * 2, retryMaxMs);
  };

  const connect = async () => {
    if (!wanted() || current) return;
    const connection: Connection = { client: new pg.Client(config), retired: false };
    current = connection;
    const lost = (error?: unknown) => {
      if (connection.retired) return;
      retire(connection);
      if (!wanted()) return;
      logger.warn('The change feed lost its LISTEN connection; reconnecting', {
        retryInMs: delay,
        ...(error === undefined ? {} : { error: toError(error) }),
      });
      schedule();
    };
    connection.client.on('error', lost);
    connection.client.on('end', () => lost());
    connection.client.on('notification', (message) => {
      if (connection.retired || message.channel !== changeChannel || !message.payload) return;
      let parsed: { schema?: unknown; kind?: unknown; key?: unknown };
      try {
        parsed = JSON.parse(message.payload);
      } catch {
        return;
      }
      if (parsed.schema !== schema || typeof parsed.kind !== 'string' || typeof parsed.key !== 'string')
        return;
      emit({ kind: parsed.kind as StoreChangeKind, key: parsed.key });
    });
    try {
      await connection.client.connect();
      await connection.client.query(`LISTEN ${changeChannel}`);
    } catch (error) {
      lost(error);
      return;
    }
    if (connection.retired) return;
    if (!wanted()) {
      retire(connection);
      return;
    }
    delay = 100;
    logger.debug('The change feed listens', { channel: changeChannel });
    emit({ kind: 'resync', key: '' });
  };

  const stop = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (current) retire(current);
  };

  return {
    subscribe: (listener) => {
      listeners.add(listener);
      void connect();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) stop();
      };
    },
    close: async () => {
      closed = true;
      const connection = current;
      stop();
      await connection?.ended;
    },
  };
}
