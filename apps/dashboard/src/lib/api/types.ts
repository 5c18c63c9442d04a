// The API's answers as the dashboard reads them: derived from the server's typed client, so they are
// the server's own route schemas (apps/server/src/api).
import type { ApiClient, RouteName, StreamEvent } from '@docker-watcher/server/client';

type Answer<K extends RouteName> = Awaited<ReturnType<ApiClient[K]>>;

export type Scope = 'read' | 'deploy' | 'admin';
export type SessionInfo = Answer<'getSession'>;
export type ProjectSummary = Answer<'getProject'>;
export type StageSummary = ProjectSummary['stages'][number];
export type StageDetail = Answer<'getStage'>;
export type StageTags = Answer<'getStageTags'>;
export type StageHistory = Answer<'getStageHistory'>;
export type PlanEntry = Answer<'getPlan'>['plan'][number];
export type StageDecision = PlanEntry['decision'];
export type DeployRecord = Answer<'getDeploy'>['deploy'];
export type DeployState = DeployRecord['state'];
export type Release = DeployRecord['release'];
export type Approval = Answer<'listApprovals'>['approvals'][number];
export type AuditEvent = Answer<'listAudit'>['events'][number];
export type Status = Answer<'getStatus'>;
export type ConfigView = Answer<'getConfig'>;
export type DwEvent = StreamEvent;

/** One line of a deploy's log (`GET /api/deploys/:id/logs`, event `log`). */
export interface LogLine {
  readonly seq: number;
  readonly at: string;
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly line: string;
}
