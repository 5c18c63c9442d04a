import { CoreError, isCoreError } from '@docker-watcher/core';

/**
 * Errors of the inner OCI adapter name it (`registry:oci/…`); callers should see this adapter's id
 * instead. Code, retryability, retry-after and details are kept; the original is the cause.
 */
export function rebrand(error: unknown, innerId: string, id: string): unknown {
  if (!isCoreError(error)) return error;
  return new CoreError(error.code, error.message.replaceAll(innerId, id), {
    details: { ...error.details, registry: id },
    cause: error,
    retryable: error.retryable,
    ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
  });
}

/** Runs `call`, rebranding what it throws. */
export async function rebranded<T>(innerId: string, id: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw rebrand(error, innerId, id);
  }
}
