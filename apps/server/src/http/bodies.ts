// Request bodies and queries of the API: one valibot schema each, used to validate and to write the OpenAPI document.
import * as v from 'valibot';

const tag = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be a valid tag (letters, digits, _ . -, at most 128)'),
);

export const deployBody = v.strictObject({
  tag: v.optional(v.pipe(tag, v.description('Tag to deploy; the current candidate when absent.'))),
});

/** Endpoints that take no fields still refuse unknown ones. */
export const emptyBody = v.strictObject({});

export const promoteBody = v.strictObject({
  digest: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^sha256:[a-f0-9]{64}$/, 'must be sha256:<64 hex>'),
      v.description('A digest that succeeded in the source stage; its current release when absent.'),
    ),
  ),
});

export const pinBody = v.strictObject({ tag: v.pipe(tag, v.description('Tag to pin the stage to.')) });

export const autoDeployBody = v.strictObject({
  enabled: v.pipe(v.boolean(), v.description('Whether new releases deploy on their own.')),
});

export const registryWatcherBody = v.strictObject({
  pinned_tag: v.optional(
    v.pipe(
      v.union([v.literal(''), tag]),
      v.description('"" follows the newest vX.Y.Z tag (unpins); any other tag pins it.'),
    ),
  ),
  auto_deploy: v.optional(v.boolean()),
});

export const deploysQuery = v.strictObject({
  project: v.optional(v.string()),
  stage: v.optional(v.string()),
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,3}$/, 'must be a number from 1 to 200'),
      v.transform(Number),
      v.number(),
      v.minValue(1, 'must be a number from 1 to 200'),
      v.maxValue(200, 'must be a number from 1 to 200'),
    ),
  ),
  before: v.optional(v.pipe(v.string(), v.description('A deploy id: the page after it.'))),
});
