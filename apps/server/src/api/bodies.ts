// Request bodies and queries of the API: one valibot schema each, used to validate, to write the
// OpenAPI document and to type the client.
import * as v from 'valibot';
import { streamEventTypes } from './events.ts';
import { isoTime, wholeNumber } from './route.ts';
import { approvalStatusSchema, deployStateSchema, deployTriggerSchema } from './schemas.ts';

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

export const decisionBody = v.strictObject({
  comment: v.optional(
    v.pipe(
      v.string(),
      v.maxLength(1000, 'must be at most 1000 characters'),
      v.description('Why, for the audit log and the people who come later.'),
    ),
  ),
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

/** A comma-separated list whose items each pass `item`. */
const listOf = <T extends string>(items: readonly T[], description: string) =>
  v.pipe(
    v.string(),
    v.description(description),
    v.transform((text) => text.split(',').map((item) => item.trim())),
    v.array(v.picklist(items, `must be a comma-separated list of: ${items.join(', ')}`)),
  );

export const deploysQuery = v.strictObject({
  project: v.optional(v.string()),
  stage: v.optional(v.string()),
  state: v.optional(listOf(deployStateSchema.options, 'Deploys in these states (comma-separated).')),
  trigger: v.optional(
    v.pipe(
      v.string(),
      v.picklist(deployTriggerSchema.options, `must be one of: ${deployTriggerSchema.options.join(', ')}`),
    ),
  ),
  since: v.optional(isoTime('Created at or after this time.')),
  until: v.optional(isoTime('Created before this time.')),
  limit: v.optional(wholeNumber(1, 200, 'Page size; 50 by default.')),
  before: v.optional(
    v.pipe(v.string(), v.description('A deploy id (the `next` of the last page): the page after it.')),
  ),
});

export const approvalsQuery = v.strictObject({
  status: v.optional(
    v.pipe(
      v.string(),
      v.picklist(
        [...approvalStatusSchema.options, 'all'],
        'must be one of: pending, approved, rejected, all',
      ),
      v.description('pending by default.'),
    ),
  ),
  project: v.optional(v.string()),
  stage: v.optional(v.string()),
});

export const auditQuery = v.strictObject({
  actor: v.optional(v.pipe(v.string(), v.description('A user or token name.'))),
  action: v.optional(v.string()),
  limit: v.optional(wholeNumber(1, 500, 'Page size; 100 by default.')),
  before: v.optional(
    wholeNumber(1, Number.MAX_SAFE_INTEGER, 'A sequence number (the `next` of the last page).'),
  ),
});

export const planQuery = v.strictObject({
  project: v.optional(v.string()),
  stage: v.optional(v.string()),
});

export const eventsQuery = v.strictObject({
  types: v.optional(listOf(streamEventTypes, 'Only these event types (comma-separated); all by default.')),
});

export const registryQuery = v.strictObject({
  registry: v.optional(
    v.pipe(v.string(), v.description('Which registry, when several take this kind of webhook.')),
  ),
});
