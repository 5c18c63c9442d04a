// Routes that change a stage: deploy, roll back, promote, pin, unpin, auto-deploy.
import * as v from 'valibot';
import { autoDeployBody, deployBody, emptyBody, pinBody, promoteBody } from './bodies.ts';
import { defineRoute, stageParams } from './route.ts';
import { deploySchema, stageSummarySchema } from './schemas.ts';

const stagePath = '/api/projects/{id}/stages/{stage}';

const queuedSchema = v.object({
  deploy: deploySchema,
  reused: v.optional(
    v.pipe(
      v.literal(true),
      v.description('The release was queued or deploying in the stage already: this is that deploy.'),
    ),
  ),
});

const idempotency = {
  'Idempotency-Key':
    'Any string up to 200 characters: a retry with the same key (and caller) within 24 h gets the first answer again, without acting twice, from any replica on the same store. A retry while the first request still runs is a 409 with Retry-After; the same key with another body is a 409.',
} as const;

export const stageActionRoutes = {
  deployStage: defineRoute({
    method: 'post',
    path: `${stagePath}/deploy`,
    summary:
      'Deploy a tag or the current candidate; a release already queued or deploying there answers that deploy',
    scope: 'deploy',
    params: stageParams,
    body: deployBody,
    status: 202,
    headers: idempotency,
    response: queuedSchema,
  }),
  rollbackStage: defineRoute({
    method: 'post',
    path: `${stagePath}/rollback`,
    summary: 'Deploy the previous successful release; pauses auto-deploy',
    scope: 'deploy',
    params: stageParams,
    body: emptyBody,
    status: 202,
    headers: idempotency,
    response: queuedSchema,
  }),
  promoteStage: defineRoute({
    method: 'post',
    path: `${stagePath}/promote`,
    summary: 'Deploy what succeeded in the promote_from stage',
    scope: 'deploy',
    params: stageParams,
    body: promoteBody,
    status: 202,
    headers: idempotency,
    response: queuedSchema,
  }),
  pinStage: defineRoute({
    method: 'post',
    path: `${stagePath}/pin`,
    summary: 'Pin the stage to a tag',
    scope: 'deploy',
    params: stageParams,
    body: pinBody,
    headers: idempotency,
    response: stageSummarySchema,
  }),
  unpinStage: defineRoute({
    method: 'post',
    path: `${stagePath}/unpin`,
    summary: 'Unpin the stage',
    scope: 'deploy',
    params: stageParams,
    body: emptyBody,
    headers: idempotency,
    response: stageSummarySchema,
  }),
  setAutoDeploy: defineRoute({
    method: 'post',
    path: `${stagePath}/auto-deploy`,
    summary: 'Turn auto-deploy on or off',
    scope: 'deploy',
    params: stageParams,
    body: autoDeployBody,
    headers: idempotency,
    response: stageSummarySchema,
  }),
} as const;

export { idempotency };
