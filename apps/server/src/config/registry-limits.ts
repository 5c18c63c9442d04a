import { defaultRegistryConcurrency, type RegistryLimits } from '@docker-watcher/core';
import * as v from 'valibot';

/**
 * The keys every registry section has besides its adapter's options: how many requests it gets at
 * once and how many in a window (the engine's `RegistryLimiter`), in the file's spelling.
 */
export const registryLimitEntries = {
  concurrency: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.description(
        'Requests to this registry at once: poll cycles, webhook looks and API calls together (a tag listing with all its pages counts as one).',
      ),
    ),
    defaultRegistryConcurrency,
  ),
  rate_limit: v.optional(
    v.pipe(
      v.strictObject({
        requests: v.pipe(
          v.number(),
          v.integer(),
          v.minValue(1),
          v.description('At most this many requests…'),
        ),
        per_seconds: v.pipe(
          v.number(),
          v.finite(),
          v.gtValue(0),
          v.description('…start in any window of this many seconds.'),
        ),
      }),
      v.description(
        'Spreads requests over time: the others wait their turn, in order. Either way a registry that answers 429 with Retry-After gets no request until then.',
      ),
      v.examples([{ requests: 100, per_seconds: 60 }]),
    ),
  ),
};

/** A registry section's limits, for the engine. */
export function registryLimitsOf(section: Readonly<Record<string, unknown>>): RegistryLimits {
  const concurrency = section.concurrency as number | undefined;
  const rate = section.rate_limit as { requests: number; per_seconds: number } | undefined;
  return {
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(rate === undefined ? {} : { rateLimit: { requests: rate.requests, perMs: rate.per_seconds * 1000 } }),
  };
}
