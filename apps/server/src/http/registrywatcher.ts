import type { Engine, StageState } from '@docker-watcher/core';
import {
  CoreError,
  type EngineProject,
  isCoreError,
  type Logger,
  type Registry,
  type StateStore,
  silentLogger,
} from '@docker-watcher/core';
import { type Context, Hono } from 'hono';
import type { ApiToken } from '../config/load.ts';
import { stageTags } from '../tags.ts';
import type { AuthVariables } from './auth.ts';
import { requireScope } from './auth.ts';
import { registryWatcherBody } from './bodies.ts';
import { errorBody, errorHandler, fieldError, jsonBody } from './errors.ts';

export interface RegistryWatcherDeps {
  readonly engine: Engine;
  readonly store: StateStore;
  readonly projects: readonly EngineProject[];
  readonly registries: Readonly<Record<string, Registry>>;
  readonly tokens: readonly ApiToken[];
  /** Where failures that are not ours to explain are logged (never into the answer). */
  readonly logger?: Logger;
}

/**
 * registrywatcher's API, kept for its users in the shapes its README documents: `GET /ping/` →
 * `{ message: "pong" }`; `GET /repos` → `{ <repo>: { auto_deploy, pinned_tag, pinned_tag_value, tags } }`;
 * `GET /tags/<repo>` → `{ repo_tag }`; `POST /tags/<repo>` with `pinned_tag` and/or `auto_deploy` →
 * `{ message }`, deploying the pinned (or newest) tag whatever runs; `POST /tags/<repo>/reset` →
 * `{ message }`, back to following the newest `vX.Y.Z`. Errors are `{ message }` (with our
 * `error: { code, message }` beside it); an unknown repo is a 400, as there. Answers carry a few
 * more fields of ours (project, stage, what runs). A "repo" is a project-stage, named
 * `<project>.<stage>`, or just `<project>` when the project has one stage.
 */
export function registryWatcherRoutes(deps: RegistryWatcherDeps): Hono<{ Variables: AuthVariables }> {
  const app = new Hono<{ Variables: AuthVariables }>();
  // registrywatcher's errors are `{ message }`; ours stand beside it.
  app.onError(
    errorHandler(deps.logger ?? silentLogger, (code, message, fields) => ({
      message,
      ...errorBody(code, message, fields),
    })),
  );
  const repos = deps.projects.flatMap((project) => {
    const stages = Object.keys(project.stages);
    return stages.map((stage) => ({
      name: stages.length === 1 ? project.id : `${project.id}.${stage}`,
      project: project.id,
      stage,
    }));
  });
  type Repo = (typeof repos)[number];
  const repoOf = (name: string) => {
    const repo = repos.find((r) => r.name === name || `${r.project}.${r.stage}` === name);
    if (!repo) throw new CoreError('BAD_REQUEST', `No watched repo ${name}`);
    return repo;
  };
  const stateOf = (repo: Repo) => deps.store.getStage({ project: repo.project, stage: repo.stage });
  const tagsOf = async (repo: Repo, state: StageState | undefined) =>
    stageTags({
      projects: deps.projects,
      registries: deps.registries,
      project: repo.project,
      stage: repo.stage,
      ...(state ? { state } : {}),
    });
  /** The documented fields, and ours beside them. */
  const describe = async (repo: Repo) => {
    const state = await stateOf(repo);
    const config = deps.projects.find((p) => p.id === repo.project)!.stages[repo.stage]!;
    // A repository nothing was pushed to yet has no tags (the registry says NOT_FOUND).
    const tags = await tagsOf(repo, state).catch((error: unknown) => {
      if (isCoreError(error, 'NOT_FOUND')) return { allowed: [], selected: state?.pin ?? config.pin };
      throw error;
    });
    return {
      auto_deploy: state?.autoDeploy ?? config.autoDeploy,
      pinned_tag: (state ? state.pin : config.pin) ?? '',
      // The tag the pin stands for now: the pinned tag, or the newest release when unpinned.
      pinned_tag_value: tags.selected ?? '',
      tags: [...tags.allowed],
      project: repo.project,
      stage: repo.stage,
      deployed_tag: state?.actual?.tag ?? '',
      deployed_digest: state?.actual?.digest ?? '',
    };
  };

  const pong = (c: Context) => c.json({ message: 'pong' });
  app.get('/ping', pong);
  app.get('/ping/', pong);
  app.get('/repos', requireScope(deps.tokens, 'read'), async (c) => {
    const described = await Promise.all(
      repos.map(async (repo) => [repo.name, await describe(repo)] as const),
    );
    return c.json(Object.fromEntries(described));
  });
  app.get('/tags/:repo', requireScope(deps.tokens, 'read'), async (c) => {
    const described = await describe(repoOf(c.req.param('repo')));
    return c.json({ repo_tag: described.pinned_tag_value, ...described });
  });
  app.post('/tags/:repo', requireScope(deps.tokens, 'deploy'), async (c) => {
    const repo = repoOf(c.req.param('repo'));
    const body = await jsonBody(c, registryWatcherBody);
    if (body.pinned_tag === undefined && body.auto_deploy === undefined)
      throw fieldError([{ path: '', message: 'give pinned_tag, auto_deploy or both' }], 'Nothing to change');
    const ref = { project: repo.project, stage: repo.stage };
    if (body.pinned_tag !== undefined)
      await deps.engine.pin({ ...ref, tag: body.pinned_tag === '' ? undefined : body.pinned_tag });
    if (body.auto_deploy !== undefined)
      await deps.engine.setAutoDeploy({ ...ref, enabled: body.auto_deploy });
    // A fresh listing, as registrywatcher did: the engine's cached one may be older than the push.
    const state = await stateOf(repo);
    const tag = state?.pin ?? (await tagsOf(repo, state)).selected;
    // registrywatcher deploys whatever runs; ours says when that is a no-op (it runs, or is on its way).
    const answer = await deps.engine.deploy({ ...ref, ...(tag ? { tag } : {}) }).then(
      (deploy) => ({ message: `${repo.name}: deploying ${deploy.release.tag}`, deploy_id: deploy.id }),
      (error: unknown) => {
        if (!isCoreError(error, 'CONFLICT') || error.details.noop === undefined) throw error;
        const { noop, deployId } = error.details;
        return {
          message: `${repo.name}: ${tag ?? 'the release'} ${noop === 'already-running' ? 'runs already' : 'is being deployed'}`,
          ...(typeof deployId === 'string' ? { deploy_id: deployId } : {}),
        };
      },
    );
    return c.json({ ...answer, ...(await describe(repo)) });
  });
  app.post('/tags/:repo/reset', requireScope(deps.tokens, 'deploy'), async (c) => {
    const repo = repoOf(c.req.param('repo'));
    // registrywatcher's reset: pinned_tag back to "" (its default), the stage follows its newest release.
    await deps.engine.pin({ project: repo.project, stage: repo.stage, tag: undefined });
    return c.json({ message: `${repo.name}: pinned_tag reset`, ...(await describe(repo)) });
  });
  return app;
}
