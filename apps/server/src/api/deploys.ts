// Routes of deploys, approvals and the audit log: history, and who did what.
import * as v from 'valibot';
import { approvalsQuery, auditQuery, decisionBody, deploysQuery, emptyBody } from './bodies.ts';
import { defineRoute, idParams } from './route.ts';
import {
  approvalSchema,
  auditEventSchema,
  deploySchema,
  deployStateSchema,
  logLineSchema,
  readonlyArray,
} from './schemas.ts';
import { idempotency } from './stage-actions.ts';

export const deployRoutes = {
  listDeploys: defineRoute({
    method: 'get',
    path: '/api/deploys',
    summary: 'Deploys, newest first, filtered and paged (`next` is the `before` of the next page)',
    scope: 'read',
    query: deploysQuery,
    response: v.object({ deploys: readonlyArray(deploySchema), next: v.nullable(v.string()) }),
  }),
  getDeploy: defineRoute({
    method: 'get',
    path: '/api/deploys/{id}',
    summary: 'One deploy with its journal',
    scope: 'read',
    params: idParams,
    response: v.object({ deploy: deploySchema }),
  }),
  streamDeployLog: defineRoute({
    method: 'get',
    path: '/api/deploys/{id}/logs',
    summary:
      'Live log as server-sent events: `log` (id = line number), `state`, then `end`; replays from Last-Event-ID',
    scope: 'read',
    params: idParams,
    produces: 'text/event-stream',
    headers: { 'Last-Event-ID': 'The last line number seen: the stream goes on after it.' },
    response: v.union([logLineSchema, v.object({ state: deployStateSchema })]),
  }),
  cancelDeploy: defineRoute({
    method: 'post',
    path: '/api/deploys/{id}/cancel',
    summary: 'Cancel a queued or running deploy',
    scope: 'deploy',
    params: idParams,
    body: emptyBody,
    headers: idempotency,
    response: v.object({ deploy: deploySchema }),
  }),
  listApprovals: defineRoute({
    method: 'get',
    path: '/api/approvals',
    summary: 'Approvals (pending by default), oldest first, each linked to the deploy it started',
    scope: 'read',
    query: approvalsQuery,
    response: v.object({ approvals: readonlyArray(approvalSchema) }),
  }),
  approve: defineRoute({
    method: 'post',
    path: '/api/approvals/{id}/approve',
    summary: 'Confirm a release, with an optional comment: deploys it',
    scope: 'deploy',
    params: idParams,
    body: decisionBody,
    status: 202,
    headers: idempotency,
    response: v.object({ deploy: deploySchema, approval: approvalSchema }),
  }),
  reject: defineRoute({
    method: 'post',
    path: '/api/approvals/{id}/reject',
    summary: 'Reject a release, with an optional comment',
    scope: 'deploy',
    params: idParams,
    body: decisionBody,
    headers: idempotency,
    response: v.object({ rejected: v.string(), approval: approvalSchema }),
  }),
  listAudit: defineRoute({
    method: 'get',
    path: '/api/audit',
    summary: 'Who did what (deploys, approvals, pins, toggles, cancels), newest first, paged',
    scope: 'read',
    query: auditQuery,
    response: v.object({ events: readonlyArray(auditEventSchema), next: v.nullable(v.number()) }),
  }),
} as const;
