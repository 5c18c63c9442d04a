import { CoreError, toCoreError } from '../errors.ts';

/**
 * Runs one step with a deadline: resolves or rejects with the step, or rejects with `TIMEOUT` when
 * `ms` pass first, or with the cancel's reason when `outer` fires first. The step gets a signal that
 * fires in both cases, but the answer never waits for a step that ignores it (an engine that accepts
 * the connection and never answers): the deploy moves on, and the abandoned call settles unheard.
 */
export function withDeadline<T>(
  step: string,
  ms: number,
  run: (signal: AbortSignal) => Promise<T>,
  outer?: AbortSignal,
): Promise<T> {
  const timeout = AbortSignal.timeout(ms);
  const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      if (outer?.aborted) reject(toCoreError(outer.reason, 'ABORTED'));
      else
        reject(
          new CoreError('TIMEOUT', `${step} did not finish within ${ms} ms`, {
            details: { step, deadlineMs: ms },
          }),
        );
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    let running: Promise<T>;
    try {
      running = run(signal);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
