// No import of the core here: the CLI's remote commands load only what they use, and start fast.
import { CliError, type ServerApi } from './cli-api.ts';
import type { DeployView } from './cli-output.ts';

/** A deploy as the API returns it (its schema's type). */
export type DeploySummary = DeployView;

/** One line of a deploy's log, as the log stream sends it. */
export interface DeployLogLine {
  readonly seq: number;
  readonly at?: string;
  readonly level: string;
  readonly line: string;
}

export interface FollowDeployOptions {
  /** The running server (`serverApi`): its calls fail only with a `CliError`. */
  readonly api: ServerApi;
  readonly deployId: string;
  /** Each step of the deploy's journal, once, in order (with the engine's note, if any). */
  readonly onState?: (state: string, note: string | undefined) => void;
  readonly onLog?: (line: DeployLogLine) => void;
  /** Reconnections after the stream broke off before the deploy ended. Default 3. */
  readonly retries?: number;
  /** Stop once the lines written so far are read, instead of following the deploy to its end. */
  readonly untilCaughtUp?: boolean;
}

/**
 * Follows a deploy through the server's log stream (`GET /api/deploys/:id/logs`) until it ends,
 * reporting each log line and each step; resumes after the last line seen when the stream breaks
 * off. Returns the finished deploy record.
 *
 * The stream's `state` event carries only the state at the moment it looks, so quick steps would be
 * missed; each one wakes a read of the deploy's journal instead, which holds every step.
 */
export async function followDeploy(options: FollowDeployOptions): Promise<DeploySummary> {
  const { api, deployId } = options;
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
    const { deploy } = await api.call.getDeploy({ params: { id: deployId } });
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
      // On the same millisecond a line goes first: a step is journaled after the work that ends the one
      // before. Except `pending`: nothing of a deploy logs before it is queued.
      ...due.map((step) => ({
        at: step.at ?? '',
        order: step.state === 'pending' ? -1 : 1,
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
      const stream = api.call.streamDeployLog({
        params: { id: deployId },
        ...(lastId === undefined ? {} : { lastEventId: lastId }),
      });
      for await (const event of stream) {
        if (event.id !== undefined) lastId = event.id;
        if (event.event === 'log' && 'line' in event.data) onLine(event.data);
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
      // The server said no (token, unknown deploy) or answered outside the schema: asking again
      // changes nothing. A lost connection or a failing server is worth another try.
      if (!isTransient(error)) throw error;
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
  return (await flush(true))!;
}

/** Whether a failure may pass on a new try: a `CliError` says so; anything else is a broken stream. */
const isTransient = (error: unknown) => !(error instanceof CliError) || error.transient;
