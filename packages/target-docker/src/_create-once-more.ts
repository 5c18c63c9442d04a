import { type Logger, throwIfAborted } from '@docker-watcher/core';
import { engineMessage, statusOf } from './_errors.ts';

/** What a container create found missing on the engine, though it was ensured just before. */
export type MissingForCreate = 'image' | 'network';

/** Which ensured thing a failed create says is missing (the engine's 404), if any. */
export function missingForCreate(error: unknown): MissingForCreate | undefined {
  if (statusOf(error) !== 404) return undefined;
  const message = engineMessage(error);
  if (/no such image/i.test(message)) return 'image';
  return /network/i.test(message) ? 'network' : undefined;
}

/**
 * Runs `create`, and once more after `ensure` brought back what the engine says it lost since it
 * was ensured: the image (a CI job on the same engine removing its tag after the push, which drops
 * the digest reference too; an image prune) or the network (a `docker network prune`). Only what
 * `restores` names (default: both) is brought back; for anything else the create's own error stands.
 */
export async function createOnceMore<T>(params: {
  readonly create: () => Promise<T>;
  readonly ensure: (missing: MissingForCreate) => Promise<unknown>;
  readonly restores?: readonly MissingForCreate[];
  readonly onLog?: ((line: string) => void) | undefined;
  /** Gets the engine's own message, which the deploy log does not. */
  readonly logger?: Pick<Logger, 'warn'> | undefined;
  readonly signal?: AbortSignal | undefined;
}): Promise<T> {
  try {
    return await params.create();
  } catch (error) {
    const missing = missingForCreate(error);
    if (!missing || !(params.restores ?? ['image', 'network']).includes(missing)) throw error;
    const line = `the ${missing} went away before the container was created: ensuring it again`;
    params.onLog?.(line);
    params.logger?.warn(line, { engine: engineMessage(error) });
    await params.ensure(missing);
    throwIfAborted(params.signal);
    return params.create();
  }
}
