import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '@docker-watcher/core';

export interface ConfigWatcher {
  /** Stops watching; a change already waiting for its debounce is dropped. Idempotent. */
  close(): void;
}

export interface WatchConfigFileOptions {
  readonly file: string;
  /** Called once the file's content differs from what it was; calls never overlap. */
  readonly onChange: () => Promise<unknown>;
  readonly logger: Logger;
  /** Quiet time after the last file event before the content is read. Default 300 ms. */
  readonly debounceMs?: number;
}

const hashOf = (file: string): string | undefined => {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    // Gone for a moment (an editor replacing it), or unreadable: compared as a content of its own.
    return undefined;
  }
};

/**
 * Watches the config file's directory, not the file: editors that save by writing a new file and
 * renaming it over the old one replace the inode a file watch would follow. Bursts of events are
 * debounced, and a content hash keeps a touch (or a save without changes) from reloading.
 */
export function watchConfigFile(options: WatchConfigFileOptions): ConfigWatcher {
  const file = resolve(options.file);
  const name = basename(file);
  const debounceMs = options.debounceMs ?? 300;
  let last = hashOf(file);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const check = async () => {
    const hash = hashOf(file);
    if (hash === last) {
      options.logger.debug('config file event without a change of content; not reloading', { file });
      return;
    }
    last = hash;
    if (hash === undefined) {
      options.logger.warn('config file is gone or unreadable; the running config stays', { file });
      return;
    }
    options.logger.info('config file changed; reloading', { file });
    await options.onChange();
  };
  const run = () => {
    timer = undefined;
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = check()
      .catch((error: unknown) => options.logger.error('config reload failed', { error: String(error) }))
      .finally(() => {
        running = undefined;
        if (again && !closed) {
          again = false;
          run();
        }
      });
  };

  const watcher: FSWatcher = watch(dirname(file), (_event, changed) => {
    // Some platforms give no name; then any event in the directory may be ours.
    if (closed || (changed !== null && changed !== name)) return;
    clearTimeout(timer);
    timer = setTimeout(run, debounceMs);
  });
  watcher.on('error', (error) => {
    options.logger.warn('cannot watch the config file any longer; SIGHUP still reloads', {
      file,
      error: error.message,
    });
    watcher.close();
  });

  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}
