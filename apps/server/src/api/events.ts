// The events of `GET /api/events`: every engine event but log lines, as valibot schemas (kept equal
// to core's event types by `schemas.test.ts`), and the stream's own control messages.
import * as v from 'valibot';
import {
  type approvalStatusSchema,
  deployStateSchema,
  deployTriggerSchema,
  errorCodeSchema,
  readonlyArray,
  releaseSchema,
} from './schemas.ts';

const at = v.pipe(v.string(), v.description('When it happened (ISO 8601).'));
const deployBase = { at, deployId: v.string(), project: v.string(), stage: v.string() };
const eventErrorSchema = v.object({
  code: errorCodeSchema,
  message: v.string(),
  retryable: v.boolean(),
  details: v.record(v.string(), v.unknown()),
});

export const streamEventSchemas = {
  'registry:observed': v.object({
    type: v.literal('registry:observed'),
    at,
    registryId: v.string(),
    repository: v.string(),
    tag: v.string(),
    digest: v.optional(v.string()),
    source: v.picklist(['poll', 'webhook']),
    eventId: v.optional(v.string()),
  }),
  'release:selected': v.object({
    type: v.literal('release:selected'),
    at,
    project: v.string(),
    stage: v.string(),
    tag: v.string(),
    digest: v.string(),
    reason: v.string(),
  }),
  'release:available': v.object({
    type: v.literal('release:available'),
    at,
    project: v.string(),
    stage: v.string(),
    release: releaseSchema,
    current: v.optional(releaseSchema),
    reason: v.string(),
  }),
  'deploy:queued': v.object({
    type: v.literal('deploy:queued'),
    ...deployBase,
    release: releaseSchema,
    trigger: deployTriggerSchema,
    by: v.optional(v.string()),
  }),
  'deploy:started': v.object({
    type: v.literal('deploy:started'),
    ...deployBase,
    release: releaseSchema,
    previous: v.optional(releaseSchema),
    trigger: deployTriggerSchema,
    by: v.optional(v.string()),
  }),
  'deploy:state-changed': v.object({
    type: v.literal('deploy:state-changed'),
    ...deployBase,
    from: deployStateSchema,
    to: deployStateSchema,
  }),
  'deploy:health-checked': v.object({
    type: v.literal('deploy:health-checked'),
    ...deployBase,
    attempt: v.number(),
    healthy: v.boolean(),
    status: v.optional(v.number()),
    error: v.optional(v.string()),
    failures: v.number(),
    deadline: v.string(),
  }),
  'deploy:succeeded': v.object({
    type: v.literal('deploy:succeeded'),
    ...deployBase,
    release: releaseSchema,
    previous: v.optional(releaseSchema),
    durationMs: v.optional(v.number()),
  }),
  'deploy:failed': v.object({
    type: v.literal('deploy:failed'),
    ...deployBase,
    release: releaseSchema,
    previous: v.optional(releaseSchema),
    durationMs: v.optional(v.number()),
    error: eventErrorSchema,
  }),
  'deploy:rolled-back': v.object({
    type: v.literal('deploy:rolled-back'),
    ...deployBase,
    release: releaseSchema,
    durationMs: v.optional(v.number()),
    restored: v.optional(releaseSchema),
    reason: v.string(),
  }),
  'deploy:awaiting-confirmation': v.object({
    type: v.literal('deploy:awaiting-confirmation'),
    at,
    project: v.string(),
    stage: v.string(),
    release: releaseSchema,
    approvalId: v.string(),
    current: v.optional(releaseSchema),
  }),
  'approval:decided': v.object({
    type: v.literal('approval:decided'),
    at,
    project: v.string(),
    stage: v.string(),
    approvalId: v.string(),
    release: releaseSchema,
    status: v.picklist(['approved', 'rejected'] satisfies Array<v.InferOutput<typeof approvalStatusSchema>>),
    by: v.string(),
    comment: v.optional(v.string()),
    deployId: v.optional(v.string()),
  }),
  'stage:updated': v.object({
    type: v.literal('stage:updated'),
    at,
    project: v.string(),
    stage: v.string(),
    change: v.picklist(['pin', 'unpin', 'auto-deploy']),
    autoDeploy: v.boolean(),
    pin: v.optional(v.string()),
    by: v.optional(v.string()),
  }),
  'adapter:error': v.object({
    type: v.literal('adapter:error'),
    at,
    adapterId: v.string(),
    operation: v.string(),
    error: eventErrorSchema,
  }),
  'engine:leadership': v.object({
    type: v.literal('engine:leadership'),
    at,
    holder: v.string(),
    leader: v.boolean(),
  }),
  'labels:invalid': v.object({
    type: v.literal('labels:invalid'),
    at,
    container: v.pipe(v.string(), v.description('The name of the container left alone.')),
    problems: readonlyArray(v.object({ label: v.string(), message: v.string() })),
  }),
} as const;

export type StreamEventType = keyof typeof streamEventSchemas;

/** Every type the stream carries, e.g. to validate a `types` filter. */
export const streamEventTypes = Object.keys(streamEventSchemas) as StreamEventType[];

export const streamEventSchema = v.pipe(
  v.variant('type', Object.values(streamEventSchemas)),
  v.title('StreamEvent'),
);

export type StreamEvent = {
  [N in StreamEventType]: v.InferOutput<(typeof streamEventSchemas)[N]>;
}[StreamEventType];

/**
 * The stream's own message `reset`: events were missed (the client's `Last-Event-ID` is older than
 * the server keeps, or the server lost events): read the state again, then go on from here.
 */
export const resetMessageSchema = v.pipe(
  v.object({
    reason: v.string(),
    /** The newest event id the server has; the stream goes on after it. */
    lastEventId: v.number(),
  }),
  v.title('StreamReset'),
);

export type ResetMessage = v.InferOutput<typeof resetMessageSchema>;
