import type { DockerWatcherEvent, FeedEntry, StateStore } from '@docker-watcher/core';
import { defaultFeedKeep, defaultFeedReadLimit, feedKeepOf } from '@docker-watcher/core/store-kit';

/** Where the event stream's events are numbered and kept: the store's feed, shared by replicas. */
export interface EventJournal {
  /** Whether other processes append to it too (replicas on one store). */
  readonly shared: boolean;
  append(events: readonly DockerWatcherEvent[]): Promise<FeedEntry[]>;
  read(params: {
    readonly after?: number;
    readonly limit?: number;
    readonly newest?: boolean;
  }): Promise<FeedEntry[]>;
}

/** The store's feed when it has one; otherwise a journal in this process's memory. */
export function journalOf(store: StateStore, keep = defaultFeedKeep): EventJournal {
  const { appendFeed, readFeed } = store;
  if (appendFeed && readFeed)
    return {
      shared: store.capabilities.sharedLeases,
      append: (events) => appendFeed.call(store, { events, keep }),
      read: (params) => readFeed.call(store, params),
    };
  return memoryJournal(keep);
}

export function memoryJournal(keep = defaultFeedKeep): EventJournal {
  const entries: FeedEntry[] = [];
  let seq = 0;
  return {
    shared: false,
    append: async (events) => {
      const appended = events.map((event) => ({ seq: ++seq, event }));
      entries.push(...appended);
      entries.splice(0, Math.max(0, entries.length - feedKeepOf(keep)));
      return appended;
    },
    read: async ({ after = 0, limit = defaultFeedReadLimit, newest }) =>
      newest
        ? entries.slice(Math.max(0, entries.length - limit))
        : entries.filter((entry) => entry.seq > after).slice(0, limit),
  };
}
