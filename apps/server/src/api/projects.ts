// Routes that read projects and stages: summaries, the board, one stage, its tags, history and plan.
import * as v from 'valibot';
import { planQuery } from './bodies.ts';
import { defineRoute, projectParams, stageParams } from './route.ts';
import {
  approvalSchema,
  decisionSchema,
  deploySchema,
  deployStateSchema,
  projectSummarySchema,
  readonlyArray,
  releaseSchema,
  stageSummarySchema,
} from './schemas.ts';

const boardStageSchema = v.object({
  name: v.string(),
  autoDeploy: v.boolean(),
  pin: v.optional(v.string()),
  /** What runs. */
  actual: v.optional(releaseSchema),
  /** The last deploy, in short. */
  deploy: v.optional(
    v.object({
      id: v.string(),
      state: deployStateSchema,
      finished: v.boolean(),
      tag: v.string(),
      by: v.optional(v.string()),
    }),
  ),
  /** A release waiting for confirmation. */
  approval: v.optional(v.object({ id: v.string(), tag: v.string(), digest: v.string() })),
  /** A newer release a manual stage may deploy. */
  available: v.optional(releaseSchema),
});

export const boardSchema = v.pipe(
  v.object({
    lastEventId: v.pipe(
      v.number(),
      v.description(
        'The newest event this summary includes: open GET /api/events with it as Last-Event-ID to miss nothing.',
      ),
    ),
    generatedAt: v.string(),
    projects: readonlyArray(v.object({ id: v.string(), stages: readonlyArray(boardStageSchema) })),
  }),
  v.title('Board'),
);

const planEntrySchema = v.object({ project: v.string(), stage: v.string(), decision: decisionSchema });

const historyEntrySchema = v.object({
  release: releaseSchema,
  deployId: v.optional(v.string()),
  succeededAt: v.optional(v.pipe(v.string(), v.description('When its deploy succeeded.'))),
  by: v.optional(v.string()),
  running: v.pipe(v.boolean(), v.description('Whether it runs in the stage now.')),
});

export const stageHistorySchema = v.pipe(
  v.object({
    project: v.string(),
    stage: v.string(),
    releases: v.pipe(
      readonlyArray(historyEntrySchema),
      v.description('Releases that succeeded here, newest first.'),
    ),
    promotable: v.nullable(
      v.object({
        from: v.pipe(v.string(), v.description('The promote_from stage.')),
        releases: v.pipe(
          readonlyArray(v.object({ ...historyEntrySchema.entries, deployedHere: v.boolean() })),
          v.description('Releases proven in the source stage (what can be promoted), newest first.'),
        ),
      }),
    ),
  }),
  v.title('StageHistory'),
);

const refreshedSchema = v.object({ refreshed: readonlyArray(planEntrySchema) });

export const projectRoutes = {
  listProjects: defineRoute({
    method: 'get',
    path: '/api/projects',
    summary: 'Projects with their stages',
    scope: 'read',
    response: v.object({ projects: readonlyArray(projectSummarySchema) }),
  }),
  getBoard: defineRoute({
    method: 'get',
    path: '/api/board',
    summary:
      'Every stage in short, kept current by events: what runs, the last deploy, what waits for a person',
    scope: 'read',
    response: boardSchema,
  }),
  getProject: defineRoute({
    method: 'get',
    path: '/api/projects/{id}',
    summary: 'One project',
    scope: 'read',
    params: projectParams,
    response: projectSummarySchema,
  }),
  getStage: defineRoute({
    method: 'get',
    path: '/api/projects/{id}/stages/{stage}',
    summary: 'One stage: state, decision, recent deploys, pending approvals',
    scope: 'read',
    params: stageParams,
    response: v.object({
      project: v.string(),
      ...stageSummarySchema.pipe[0].entries,
      decision: v.nullable(decisionSchema),
      deploys: readonlyArray(deploySchema),
      approvals: readonlyArray(approvalSchema),
    }),
  }),
  getStageTags: defineRoute({
    method: 'get',
    path: '/api/projects/{id}/stages/{stage}/tags',
    summary: "What the stage's policy selects from the repository (asks the registry)",
    scope: 'read',
    params: stageParams,
    response: v.object({
      project: v.string(),
      stage: v.string(),
      repository: v.string(),
      tags: readonlyArray(v.string()),
      allowed: readonlyArray(v.string()),
      selected: v.optional(v.string()),
      reason: v.string(),
    }),
  }),
  getStageHistory: defineRoute({
    method: 'get',
    path: '/api/projects/{id}/stages/{stage}/history',
    summary: 'Releases that succeeded in the stage; for a promoted stage, what its source stage proved',
    scope: 'read',
    params: stageParams,
    response: stageHistorySchema,
  }),
  getPlan: defineRoute({
    method: 'get',
    path: '/api/plan',
    summary: 'What each stage would do now, and why',
    scope: 'read',
    query: planQuery,
    response: v.object({ plan: readonlyArray(planEntrySchema) }),
  }),
  refreshProject: defineRoute({
    method: 'post',
    path: '/api/projects/{id}/refresh',
    summary: "Look at the project's repository now and act on what it holds; answers each stage's decision",
    scope: 'deploy',
    params: projectParams,
    status: 202,
    response: refreshedSchema,
  }),
  refreshStage: defineRoute({
    method: 'post',
    path: '/api/projects/{id}/stages/{stage}/refresh',
    summary: "Look at the stage's repository now and act on what it holds; answers the stage's decision",
    scope: 'deploy',
    params: stageParams,
    status: 202,
    response: refreshedSchema,
  }),
} as const;
