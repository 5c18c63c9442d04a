// Every API call the dashboard makes, typed (one function per route).
import { apiPath, query, type Requester } from './client.ts';
import type {
  Approval,
  DeployRecord,
  PlanEntry,
  ProjectSummary,
  SessionInfo,
  StageDetail,
  StageSummary,
  StageTags,
} from './types.ts';

export interface DeployQuery {
  readonly project?: string;
  readonly stage?: string;
  readonly limit?: number;
  /** A deploy id: the page after it. */
  readonly before?: string;
}

export function apiRoutes(request: Requester) {
  const stagePath = (project: string, stage: string, ...rest: string[]) =>
    apiPath('projects', project, 'stages', stage, ...rest);
  return {
    session: () => request<SessionInfo>('GET', '/api/auth/session', { quietUnauthorized: true }),
    login: (username: string, password: string) =>
      request<SessionInfo>('POST', '/api/auth/login', {
        body: { username, password },
        quietUnauthorized: true,
      }),
    logout: () => request<{ loggedOut: true }>('POST', '/api/auth/logout', { body: {} }),

    projects: () => request<{ projects: ProjectSummary[] }>('GET', '/api/projects'),
    project: (id: string) => request<ProjectSummary>('GET', apiPath('projects', id)),
    plan: (params: { project?: string; stage?: string } = {}) =>
      request<{ plan: PlanEntry[] }>('GET', `/api/plan${query(params)}`),
    stage: (project: string, stage: string) => request<StageDetail>('GET', stagePath(project, stage)),
    tags: (project: string, stage: string) => request<StageTags>('GET', stagePath(project, stage, 'tags')),

    deploy: (project: string, stage: string, tag?: string) =>
      request<{ deploy: DeployRecord }>('POST', stagePath(project, stage, 'deploy'), {
        body: tag === undefined ? {} : { tag },
      }),
    rollback: (project: string, stage: string) =>
      request<{ deploy: DeployRecord }>('POST', stagePath(project, stage, 'rollback'), { body: {} }),
    promote: (project: string, stage: string, digest?: string) =>
      request<{ deploy: DeployRecord }>('POST', stagePath(project, stage, 'promote'), {
        body: digest === undefined ? {} : { digest },
      }),
    pin: (project: string, stage: string, tag: string) =>
      request<StageSummary>('POST', stagePath(project, stage, 'pin'), { body: { tag } }),
    unpin: (project: string, stage: string) =>
      request<StageSummary>('POST', stagePath(project, stage, 'unpin'), { body: {} }),
    autoDeploy: (project: string, stage: string, enabled: boolean) =>
      request<StageSummary>('POST', stagePath(project, stage, 'auto-deploy'), { body: { enabled } }),

    approvals: () => request<{ approvals: Approval[] }>('GET', '/api/approvals'),
    approve: (id: string) =>
      request<{ deploy: DeployRecord }>('POST', apiPath('approvals', id, 'approve'), { body: {} }),
    reject: (id: string) =>
      request<{ rejected: string }>('POST', apiPath('approvals', id, 'reject'), { body: {} }),

    deploys: (params: DeployQuery = {}) =>
      request<{ deploys: DeployRecord[] }>('GET', `/api/deploys${query({ ...params })}`),
    deployRecord: (id: string) => request<{ deploy: DeployRecord }>('GET', apiPath('deploys', id)),
    cancel: (id: string) =>
      request<{ deploy: DeployRecord }>('POST', apiPath('deploys', id, 'cancel'), { body: {} }),
  };
}

export type ApiRoutes = ReturnType<typeof apiRoutes>;
