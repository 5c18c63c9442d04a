// No import of the core here: the CLI's remote commands load only what they use, and start fast.
import { answerError as apiError, CliError } from './cli-api.ts';

/** A deploy as the API returns it; only the fields the CLI prints. */
export interface DeploySummary {
  readonly id: string;
  readonly project: string;
  readonly stage: string;
  readonly release: { readonly tag: string; readonly digest: string };
  readonly state: string;
  readonly finished: boolean;
  readonly error?: { readonly code: string; readonly message: string };
  readonly journal: ReadonlyArray<{
    readonly seq: number;
    readonly state: string;
    readonly at?: string;
    readonly note?: string;
  }>;
}

export interface DeployLogLine {
  readonly seq: number;
  readonly at?: string;
  readonly level: string;
  readonly line: string;
}

export interface FollowDeployOptions {
  /** The server's base URL, without a trailing slash. */
  readonly base: string;
  readonly token?: string | undefined;
  readonly deployId: string;
  /** Each step of the deploy's journal, once, in order (with the engine's note, if any). */
  readonly onState?: (state: string, note: string | undefined) => void;
  readonly onLog?: (line: DeployLogLine) => void;
  /** Reconnections after the stream broke off before the deploy ended. Default 3. */
  readonly retries?: number;
  /** Stop once the lines written so far are read, instead of following the deploy to its end. */
  readonly untilCaughtUp?: boolean;
}

interface SseEvent {
  readonly event: string;
  readonly data: string;
  readonly id?: string;
}

/** Splits a server-sent event stream into events (`event`, `data` and `id` fields; comments dropped). */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  let id: string | undefined;
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline = buffer.search(/\r?\n/);
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(buffer[newline] === '\r' ? newline + 2 : newline + 1);
      if (line === '') {
        if (data.length > 0) yield { event, data: data.join('\n'), ...(id === undefined ? {} : { id }) };
        event = 'message';
        data = [];
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id') id = value;
      }
      newline = buffer.search(/\r?\n/);
    }
  }
}

const headersOf = (token: string | undefined, extra: Record<string, string> = {}) => ({
  ...(token ? { authorization: `Bearer ${token}` } : {}),
  ...extra,
});

/**
 * Follows a deploy through the server's log stream (`GET /api/deploys/:id/logs`) until it ends,
 * reporting each log line and each step; resumes after the last line seen when the stream breaks
 * off. Returns the finished deploy record.
 *
 * The stream's `state` event carries only the state at the moment it looks, so quick steps would be
 * missed; each one wakes a read of the deploy's journal instead, which holds every step.
 */
export async function followDeploy(options: FollowDeployOptions): Promise<DeploySummary> {
  const { base, token, deployId } = options;
  const retries = options.retries ?? 3;
  let lastId: string | undefined;
  let lastStep = 0;
  // Lines wait here until the journal is read, and steps until the lines before them came (the
  // stream may send a step's state before the last line of the step it ends): each line prints
  // under the step it belongs to.
  let pending: DeployLogLine[] = [];
  let held: Array<DeploySummary['journal'][number]> = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<DeploySummary | undefined> = Promise.resolve(undefined);
  const read = async (force: boolean) => {
    const response = await fetch(`${base}/api/deploys/${encodeURIComponent(deployId)}`, {
      headers: headersOf(token),
    });
    if (!response.ok) throw await answerError(response, base, token);
    const { deploy } = (await response.json()) as { deploy: DeploySummary };
    held.push(...deploy.journal.filter((entry) => entry.seq > lastStep));
    lastStep = Math.max(lastStep, ...deploy.journal.map((entry) => entry.seq));
    const lines = pending;
    pending = [];
    const newest =
      lines
        .map((line) => line.at ?? '')
        .sort()
        .pop() ?? '';
    const due = force ? held : held.filter((step) => (step.at ?? '') < newest);
    held = held.filter((step) => !due.includes(step));
    const events = [
      // On the same millisecond a line goes first: a step is journaled after the work that ends the one before.
      ...due.map((step) => ({
        at: step.at ?? '',
        order: 1,
        emit: () => options.onState?.(step.state, step.note),
      })),
      ...lines.map((line) => ({ at: line.at ?? '', order: 0, emit: () => options.onLog?.(line) })),
    ];
    events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.order - b.order));
    for (const event of events) event.emit();
    if (held.length > 0) arm();
    return deploy;
  };
  const flush = (force = false) => {
    clearTimeout(timer);
    timer = undefined;
    const run = () => read(force);
    flushing = flushing.then(run, run);
    return flushing;
  };
  /** Nothing waits longer than this for what orders it. */
  const arm = () => {
    timer ??= setTimeout(() => void flush(true).catch(() => undefined), 150);
  };
  const onLine = (line: DeployLogLine) => {
    pending.push(line);
    arm();
  };
  for (let attempt = 0; ; attempt += 1) {
    let ended = false;
    let failure: unknown;
    try {
      const response = await fetch(`${base}/api/deploys/${encodeURIComponent(deployId)}/logs`, {
        headers: headersOf(token, {
          accept: 'text/event-stream',
          ...(lastId === undefined ? {} : { 'last-event-id': lastId }),
        }),
      });
      // The server said no (token, unknown deploy): asking again changes nothing.
      if (response.status >= 400 && response.status < 500) throw await answerError(response, base, token);
      if (!response.ok || !response.body) {
        throw new CliError('UNAVAILABLE', `The log stream of deploy ${deployId} answered ${response.status}`);
      }
      for await (const event of sseEvents(response.body)) {
        if (event.id !== undefined) lastId = event.id;
        if (event.event === 'log') onLine(JSON.parse(event.data) as DeployLogLine);
        else if (event.event === 'state') {
          await flush();
          // The stream sends the state after replaying the lines written so far.
          if (options.untilCaughtUp) {
            ended = true;
            break;
          }
        } else if (event.event === 'end') ended = true;
      }
    } catch (error) {
      if (error instanceof AnswerError) throw error.error;
      failure = error;
    }
    if (ended) break;
    if (attempt >= retries) {
      throw new CliError(
        'UNAVAILABLE',
        `Lost the log stream of deploy ${deployId} (${failure instanceof Error ? failure.message : 'it ended early'}); the deploy goes on on the server: GET /api/deploys/${deployId}`,
      );
    }
  }
  try {
    return (await flush(true))!;
  } catch (error) {
    throw error instanceof AnswerError ? error.error : error;
  }
}

/** An error answer of the API, kept apart from connection failures (which are retried). */
class AnswerError extends Error {
  readonly error: CliError;
  constructor(error: CliError) {
    super(error.message);
    this.error = error;
  }
}

async function answerError(
  response: Response,
  base: string,
  token: string | undefined,
): Promise<AnswerError> {
  return new AnswerError(await apiError(base, token, response));
}
