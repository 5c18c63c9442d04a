// The records the API answers with, as valibot schemas: the source of the client's types and of the
// OpenAPI document's components. `schemas.test.ts` keeps them equal to core's types.
import * as v from 'valibot';

/** Core's closed set of error codes. */
export const errorCodeSchema = v.picklist([
  'NOT_FOUND',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'CONFLICT',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'TIMEOUT',
  'ABORTED',
  'BAD_RESPONSE',
  'BAD_REQUEST',
  'CONFIG_INVALID',
  'INVALID_TRANSITION',
  'UNSUPPORTED',
  'INTERNAL',
]);

const readonlyArray = <S extends v.GenericSchema>(item: S) => v.pipe(v.array(item), v.readonly());

export const releaseSchema = v.pipe(
  v.object({
    tag: v.string(),
    digest: v.pipe(v.string(), v.description('sha256:<64 hex>')),
  }),
  v.title('Release'),
);

export const deployTriggerSchema = v.picklist(['auto', 'manual', 'promotion', 'rollback', 'pin', 'resume']);

/** The deploy state machine's states (core's `deployStates`). */
export const deployStateSchema = v.picklist([
  'pending',
  'pulling',
  'stopping-old',
  'starting',
  'health-checking',
  'switching-traffic',
  'retiring-old',
  'rolling-back',
  'succeeded',
  'rolled-back',
  'failed',
  'cancelled',
]);

export const journalEntrySchema = v.object({
  seq: v.number(),
  state: deployStateSchema,
  at: v.string(),
  note: v.optional(v.string()),
});

/** A deploy record as the API shows it: everything but the adapters' private `data`. */
export const deploySchema = v.pipe(
  v.object({
    id: v.string(),
    project: v.string(),
    stage: v.string(),
    revision: v.number(),
    release: releaseSchema,
    previous: v.optional(releaseSchema),
    trigger: deployTriggerSchema,
    by: v.optional(v.pipe(v.string(), v.description('The user or token name that asked for it.'))),
    state: deployStateSchema,
    finished: v.boolean(),
    error: v.optional(v.object({ code: v.string(), message: v.string() })),
    journal: readonlyArray(journalEntrySchema),
    createdAt: v.string(),
    updatedAt: v.string(),
  }),
  v.title('Deploy'),
);

/** `closed`: the release was deployed by another route (or runs already), so nobody needs to decide. */
export const approvalStatusSchema = v.picklist(['pending', 'approved', 'rejected', 'closed']);

export const approvalSchema = v.pipe(
  v.object({
    id: v.string(),
    project: v.string(),
    stage: v.string(),
    release: releaseSchema,
    status: approvalStatusSchema,
    requestedAt: v.string(),
    decidedAt: v.optional(v.string()),
    decidedBy: v.optional(v.string()),
    comment: v.optional(v.string()),
    deployId: v.optional(v.pipe(v.string(), v.description('The deploy the approval started.'))),
    reason: v.optional(v.pipe(v.string(), v.description('Why a closed approval was closed.'))),
    kind: v.optional(
      v.pipe(
        v.picklist(['release', 'promotion']),
        v.description(
          "`promotion`: a running deploy's canaries wait for it (approving promotes them, rejecting reverts the deploy); otherwise a release waits to be deployed.",
        ),
      ),
    ),
  }),
  v.title('Approval'),
);

export const auditEventSchema = v.pipe(
  v.object({
    seq: v.number(),
    at: v.string(),
    actor: v.pipe(v.string(), v.description('The user or token name.')),
    action: v.string(),
    target: v.optional(v.string()),
    details: v.optional(v.pipe(v.record(v.string(), v.unknown()), v.readonly())),
  }),
  v.title('AuditEvent'),
);

export const logLineSchema = v.object({
  seq: v.number(),
  at: v.string(),
  level: v.picklist(['debug', 'info', 'warn', 'error']),
  line: v.string(),
});

/** What a stage should do now, and why: the engine's decision. */
export const decisionSchema = v.pipe(
  v.variant('action', [
    v.object({ action: v.literal('none'), reason: v.string(), release: v.optional(releaseSchema) }),
    v.object({ action: v.literal('deploy'), reason: v.string(), release: releaseSchema }),
    v.object({ action: v.literal('await-confirmation'), reason: v.string(), release: releaseSchema }),
    v.object({ action: v.literal('hold'), reason: v.string(), release: releaseSchema }),
  ]),
  v.title('Decision'),
);

/** The last deploy of a stage, in short. */
export const lastDeploySchema = v.object({
  id: v.string(),
  state: deployStateSchema,
  finished: v.boolean(),
  trigger: deployTriggerSchema,
  by: v.optional(v.string()),
  release: releaseSchema,
  createdAt: v.string(),
  updatedAt: v.string(),
});

/** A release a person may act on: one waiting for confirmation, or a newer one a manual stage may deploy. */
export const pendingApprovalSchema = v.object({
  id: v.string(),
  release: releaseSchema,
  requestedAt: v.string(),
});

export const availableReleaseSchema = v.pipe(
  v.object({ release: releaseSchema, reason: v.string() }),
  v.description('A newer allowed release of a stage that deploys by hand ("new version available").'),
);

export const stageSummarySchema = v.pipe(
  v.object({
    name: v.string(),
    policy: v.string(),
    host: v.nullable(v.string()),
    confirm: v.boolean(),
    promoteFrom: v.nullable(v.string()),
    autoDeploy: v.boolean(),
    pin: v.nullable(v.string()),
    actual: v.nullable(releaseSchema),
    desired: v.nullable(v.object({ tag: v.string(), digest: v.string(), reason: v.string() })),
    lastDeploy: v.nullable(lastDeploySchema),
    approval: v.nullable(pendingApprovalSchema),
    available: v.nullable(availableReleaseSchema),
    source: v.optional(
      v.pipe(
        v.literal('labels'),
        v.description('The stage comes from a labelled container (label mode), not the config file.'),
      ),
    ),
    container: v.optional(v.pipe(v.string(), v.description('With source labels: the container.'))),
  }),
  v.title('StageSummary'),
);

export const projectSummarySchema = v.pipe(
  v.object({
    id: v.string(),
    registry: v.string(),
    repository: v.string(),
    image: v.nullable(v.string()),
    stages: readonlyArray(stageSummarySchema),
  }),
  v.title('ProjectSummary'),
);

export { readonlyArray };
