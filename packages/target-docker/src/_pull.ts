import type Docker from 'dockerode';

/** One JSON line of the engine's pull stream. */
export interface PullEvent {
  readonly status?: string;
  readonly id?: string;
  readonly progress?: string;
  readonly error?: string;
  readonly errorDetail?: { readonly message?: string };
}

/** Statuses that repeat with a progress bar; each layer reports them once. */
const repeating = new Set(['Downloading', 'Extracting', 'Waiting', 'Verifying Checksum']);

/**
 * Turns the pull stream into readable lines: every status change of a layer once, progress bars
 * left out (a 1 GB layer would otherwise log thousands of lines).
 */
export function createPullLogger(onLog: (line: string) => void): (event: PullEvent) => void {
  const seen = new Set<string>();
  return (event) => {
    if (!event.status) return;
    const key = `${event.id ?? ''}\0${event.status}`;
    if (repeating.has(event.status) && seen.has(key)) return;
    seen.add(key);
    onLog(event.id ? `pull ${event.id}: ${event.status}` : `pull: ${event.status}`);
  };
}

/** Follows a pull stream to its end; an error line in the stream rejects with its message. */
export function followPull(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  onEvent: (event: PullEvent) => void,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed = false;
    const abort = () => {
      (stream as NodeJS.ReadableStream & { destroy?: (error?: Error) => void }).destroy?.();
      reject(signal?.reason ?? new DOMException('The pull was aborted', 'AbortError'));
    };
    signal?.addEventListener('abort', abort, { once: true });
    docker.modem.followProgress(
      stream,
      (error: Error | null) => {
        signal?.removeEventListener('abort', abort);
        if (failed) return;
        if (error) reject(error);
        else resolve();
      },
      (event: PullEvent) => {
        if (event.error !== undefined && !failed) {
          failed = true;
          reject(new PullStreamError(event.errorDetail?.message ?? event.error));
          return;
        }
        onEvent(event);
      },
    );
  });
}

/** An error the engine reported inside a pull stream (after answering 200). */
export class PullStreamError extends Error {
  override readonly name = 'PullStreamError';
  /** Shaped like docker-modem's errors, so one mapper reads both. */
  readonly json: { message: string };
  constructor(message: string) {
    super(message);
    this.json = { message };
  }
}
