import {
  type DeployRecord,
  type Release,
  type StageRef,
  type StageState,
  sameRelease,
  stageKey,
} from '@docker-watcher/core';
import type { projectRoutes } from '../../api/projects.ts';
import { stageTags } from '../../tags.ts';
import { type ApiContext, deployView } from '../api-context.ts';
import type { Handlers } from '../register.ts';

const json = (body: Uint8Array) => new Response(body, { headers: { 'content-type': 'application/json' } });

/** Releases that succeeded in a stage, newest first, with the deploy that proved each. */
async function provenIn(api: ApiContext, ref: StageRef, state: StageState | undefined) {
  const deploys = await api.composed.store.listDeploys({ ...ref, states: ['succeeded'], limit: 100 });
  const seen = new Set<string>();
  const key = (release: Release) => `${release.tag}@${release.digest}`;
  const entries: Array<{
    release: Release;
    deployId?: string;
    succeededAt?: string;
    by?: string;
    running: boolean;
  }> = [];
  const add = (release: Release, deploy?: DeployRecord) => {
    if (seen.has(key(release))) return;
    seen.add(key(release));
    entries.push({
      release,
      ...(deploy ? { deployId: deploy.id, succeededAt: deploy.updatedAt } : {}),
      ...(deploy?.by === undefined ? {} : { by: deploy.by }),
      running: sameRelease(state?.actual, release),
    });
  };
  for (const deploy of deploys) add(deploy.release, deploy);
  for (const release of state?.history ?? []) add(release);
  return entries;
}

export function projectHandlers(api: ApiContext): Handlers<typeof projectRoutes> {
  const { composed } = api;
  const { engine, store, board } = composed;
  return {
    listProjects: async () => json(await board.projectsJson()),
    getBoard: async () => json(await board.boardJson()),
    getProject: async (_c, { params }) => {
      api.projectOf(params.id);
      return json((await board.projectJson(params.id))!);
    },
    getStage: async (_c, { params }) => {
      const ref = api.refOf(params.id, params.stage);
      const [facts, deploys, approvals, plan] = await Promise.all([
        board.stage(ref),
        store.listDeploys({ ...ref, limit: 10 }),
        store.listApprovals({ ...ref, status: 'pending' }),
        engine.plan(ref),
      ]);
      return {
        project: ref.project,
        ...board.summaryOf(facts!),
        decision: plan[0]?.decision ?? null,
        deploys: deploys.map(deployView),
        approvals,
      };
    },
    getStageTags: async (_c, { params }) => {
      const ref = api.refOf(params.id, params.stage);
      const state = await store.getStage(ref);
      return stageTags({
        projects: composed.config.projects,
        registries: composed.limitedRegistries,
        ...ref,
        ...(state ? { state } : {}),
      });
    },
    getStageHistory: async (_c, { params }) => {
      const ref = api.refOf(params.id, params.stage);
      const from = api.projectOf(ref.project).stages[ref.stage]!.promoteFrom;
      const state = await store.getStage(ref);
      const releases = await provenIn(api, ref, state);
      if (from === undefined) return { ...ref, releases, promotable: null };
      const source = { project: ref.project, stage: from };
      const here = new Set(releases.map((entry) => entry.release.digest));
      const proven = await provenIn(api, source, await store.getStage(source));
      return {
        ...ref,
        releases,
        promotable: {
          from,
          releases: proven.map((entry) => ({ ...entry, deployedHere: here.has(entry.release.digest) })),
        },
      };
    },
    getPlan: async (_c, { query }) => {
      if (query.project !== undefined) api.projectOf(query.project);
      if (query.project !== undefined && query.stage !== undefined) api.refOf(query.project, query.stage);
      const plan = await engine.plan({
        ...(query.project ? { project: query.project } : {}),
        ...(query.stage ? { stage: query.stage } : {}),
      });
      return { plan };
    },
    refreshProject: async (c, { params }) => {
      api.projectOf(params.id);
      const refreshed = await engine.refresh({ project: params.id });
      await api.audit(c, 'refresh', params.id);
      return { refreshed };
    },
    refreshStage: async (c, { params }) => {
      const ref = api.refOf(params.id, params.stage);
      const refreshed = await engine.refresh(ref);
      await api.audit(c, 'refresh', stageKey(ref));
      return { refreshed };
    },
  };
}
