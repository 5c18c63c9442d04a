import { CoreError, type ErrorCode } from '@docker-watcher/core';

/** A deploy as the API returns it; only the fields the CLI prints. */
export interface DeploySummary {
  readonly id: string;
  readonly project: string;
  readonly stage: string;
  readonly release: { readonly tag: string; readonly digest: string };
  readonly state: string;
  readonly finished: boolean;
  readonly error?: { readonly code: string; readonly message: string };
  readonly journal: ReadonlyArray<{ readonly seq: number; readonly state: string; readonly note?: string }>;
}

export interface DeployLogLine {
  readonly seq: number;
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
  const read = async () => {
    const response = await fetch(`${base}/api/deploys/${encodeURIComponent(deployId)}`, {
      headers: headersOf(token),
    });
    if (!response.ok) throw await answerError(response);
    const { deploy } = (await response.json()) as { deploy: DeploySummary };
    for (const entry of deploy.journal) {
      if (entry.seq <= lastStep) continue;
      lastStep = entry.seq;
      options.onState?.(entry.state, entry.note);
    }
    return deploy;
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
      if (response.status >= 400 && response.status < 500) throw await answerError(response);
      if (!response.ok || !response.body) {
        throw new CoreError(
          'UNAVAILABLE',
          `The log stream of deploy ${deployId} answered ${response.status}`,
        );
      }
      for await (const event of sseEvents(response.body)) {
        if (event.id !== undefined) lastId = event.id;
        if (event.event === 'log') options.onLog?.(JSON.parse(event.data) as DeployLogLine);
        else if (event.event === 'state') await read();
        else if (event.event === 'end') ended = true;
      }
    } catch (error) {
      if (error instanceof AnswerError) throw error.error;
      failure = error;
    }
    if (ended) break;
    if (attempt >= retries) {
      throw new CoreError(
        'UNAVAILABLE',
        `Lost the log stream of deploy ${deployId} (${failure instanceof Error ? failure.message : 'it ended early'}); the deploy goes on on the server: GET /api/deploys/${deployId}`,
        failure === undefined ? {} : { cause: failure },
      );
    }
  }
  try {
    return await read();
  } catch (error) {
    throw error instanceof AnswerError ? error.error : error;
  }
}

/** An error answer of the API, kept apart from connection failures (which are retried). */
class AnswerError extends Error {
  readonly error: CoreError;
  constructor(error: CoreError) {
    super(error.message);
    this.error = error;
  }
}

async function answerError(response: Response): Promise<AnswerError> {
  const body = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  const codes: Record<number, ErrorCode> = { 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND' };
  const code = codes[response.status] ?? 'BAD_RESPONSE';
  return new AnswerError(
    new CoreError(code, `${body.error?.code ?? response.status}: ${body.error?.message ?? 'request failed'}`),
  );
}
