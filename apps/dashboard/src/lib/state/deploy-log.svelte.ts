// A deploy's live log (`GET /api/deploys/:id/logs`, server-sent events): the lines so far, then each
// new one, until the deploy ends. EventSource resumes with Last-Event-ID by itself; lines a resumed
// stream repeats are dropped by sequence number.
import type { DeployState, LogLine } from '../api/types.ts';
import { FrameBatch } from '../model/frame-batch.ts';
import { appendLines } from '../model/log.ts';

export class DeployLogStream {
  lines = $state.raw<LogLine[]>([]);
  /** The deploy's state as the log stream last said. */
  state = $state<DeployState | undefined>(undefined);
  ended = $state(false);
  connected = $state(false);
  #source: EventSource | undefined;
  // Lines arrive in bursts: the view takes them once per frame.
  #batch = new FrameBatch<LogLine>((lines) => (this.lines = appendLines(this.lines, lines)));
  #retry: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  readonly deployId: string;

  constructor(deployId: string) {
    this.deployId = deployId;
  }

  start(): () => void {
    this.#closed = false;
    this.#open();
    return () => this.close();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#batch.flush();
    this.#source?.close();
    this.#source = undefined;
    this.connected = false;
  }

  #open(): void {
    const source = new EventSource(`/api/deploys/${encodeURIComponent(this.deployId)}/logs`);
    this.#source = source;
    source.addEventListener('open', () => (this.connected = true));
    source.addEventListener('log', (message) => {
      try {
        this.#batch.push(JSON.parse((message as MessageEvent<string>).data) as LogLine);
      } catch {
        // Not a line: dropped.
      }
    });
    source.addEventListener('state', (message) => {
      this.state = (JSON.parse((message as MessageEvent<string>).data) as { state: DeployState }).state;
    });
    source.addEventListener('end', (message) => {
      this.state = (JSON.parse((message as MessageEvent<string>).data) as { state: DeployState }).state;
      this.#batch.flush();
      this.ended = true;
      this.close();
    });
    source.addEventListener('error', () => {
      this.connected = false;
      if (source.readyState !== EventSource.CLOSED || this.#closed || this.ended) return;
      // Given up (the server went away): open again; repeated lines are dropped by sequence.
      this.#retry = setTimeout(() => this.#open(), 2000);
    });
  }
}
