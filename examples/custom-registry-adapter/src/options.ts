import * as v from 'valibot';

export const staticIndexRegistryOptions = v.strictObject({
  url: v.pipe(
    v.string(),
    v.url(),
    v.description(
      'URL of the JSON index: `{ "repositories": { "<name>": { "tags": { "<tag>": "sha256:…" } } } }`.',
    ),
  ),
  token: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1),
      v.description('Sent as `Authorization: Bearer <token>` with every request.'),
    ),
  ),
  timeoutMs: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.description('Time allowed for one request, in milliseconds.'),
    ),
    10_000,
  ),
});

/** What SDK users pass to `createStaticIndexRegistry`. */
export type StaticIndexRegistryOptions = v.InferInput<typeof staticIndexRegistryOptions>;
