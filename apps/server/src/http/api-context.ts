import type { DeployRecord, EngineProject, StageRef } from '@docker-watcher/core';
import type { Composed } from '../compose.ts';
import { notFound } from './errors.ts';
import type { AppContext } from './register.ts';

/** What every route handler works with: the composition, and lookups that answer 404 with the name. */
export interface ApiContext {
  readonly composed: Composed;
  /** SSE keep-alive period of deploy logs. */
  readonly heartbeatMs?: number;
  projectOf(id: string): EngineProject;
  refOf(id: string, stage: string): StageRef;
  /** Records who did what; a failed write is logged, never the request's failure. */
  audit(c: AppContext, action: string, target: string, details?: Record<string, unknown>): Promise<void>;
}

export function apiContext(composed: Composed, heartbeatMs?: number): ApiContext {
  const { config, store, logger } = composed;
  const projects = new Map(config.projects.map((project) => [project.id, project]));
  const projectOf = (id: string) => {
    const project = projects.get(id);
    if (!project) throw notFound('project', id);
    return project;
  };
  return {
    composed,
    ...(heartbeatMs === undefined ? {} : { heartbeatMs }),
    projectOf,
    refOf(id, stage) {
      if (!Object.hasOwn(projectOf(id).stages, stage))
        throw notFound('stage', stage, `project ${JSON.stringify(id)}`);
      return { project: id, stage };
    },
    audit: (c, action, target, details) =>
      store
        .appendAudit({
          event: {
            at: new Date().toISOString(),
            actor: c.get('caller').name,
            action,
            target,
            ...(details ? { details } : {}),
          },
        })
        .then(
          () => undefined,
          (error: unknown) => logger.warn('audit write failed', { error: String(error) }),
        ),
  };
}

/** A deploy as the API shows it: without the adapters' private `data`. */
export function deployView(record: DeployRecord) {
  const { data: _data, ...view } = record;
  return view;
}
