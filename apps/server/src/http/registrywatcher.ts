import type { Engine } from '@docker-watcher/core';
import { CoreError, type EngineProject, type Registry, type StateStore } from '@docker-watcher/core';
import { Hono } from 'hono';
import type { ApiToken } from '../config/load.ts';
import { stageTags } from '../tags.ts';
import type { AuthVariables } from './auth.ts';
import { requireScope } from './auth.ts';
import { registryWatcherBody } from './bodies.ts';
import { jsonBody } from './errors.ts';

export interface RegistryWatcherDeps {
  readonly engine: Engine;
  readonly store: StateStore;
  readonly projects: readonly EngineProject[];
  readonly registries: Readonly<Record<string, Registry>>;
  readonly tokens: readonly ApiToken[];
}

/**
 * registrywatcher's API, kept for its users. A "repo" is a project-stage, named `<project>.<stage>`,
 * or just `<project>` when the project has one stage.
 */
export function registryWatcherRoutes(deps: RegistryWatcherDeps): Hono<{ Variables: AuthVariables }> {
  const app = new Hono<{ Variables: AuthVariables }>();
  const repos = deps.projects.flatMap((project) => {
    const stages = Object.keys(project.stages);
    return stages.map((stage) => ({
      name: stages.length === 1 ? project.id : `${project.id}.${stage}`,
      project: project.id,
      stage,
    }));
  });
  const repoOf = (name: string) => {
    const repo = repos.find((r) => r.name === name || `${r.project}.${r.stage}` === name);
    if (!repo) throw new CoreError('NOT_FOUND', `No repo ${name}`);
    return repo;
  };
  const describe = async (repo: (typeof repos)[number]) => {
    const state = await deps.store.getStage({ project: repo.project, stage: repo.stage });
    const config = deps.projects.find((p) => p.id === repo.project)!.stages[repo.stage]!;
    return {
      repo: repo.name,
      project: repo.project,
      stage: repo.stage,
      pinned_tag: (state ? state.pin : config.pin) ?? '',
      auto_deploy: state?.autoDeploy ?? config.autoDeploy,
      deployed_tag: state?.actual?.tag ?? '',
      deployed_digest: state?.actual?.digest ?? '',
    };
  };

  app.get('/ping', (c) => c.text('pong'));
  app.get('/repos', requireScope(deps.tokens, 'read'), async (c) =>
    c.json({ repos: await Promise.all(repos.map(describe)) }),
  );
  app.get('/tags/:repo', requireScope(deps.tokens, 'read'), async (c) => {
    const repo = repoOf(c.req.param('repo'));
    const state = await deps.store.getStage({ project: repo.project, stage: repo.stage });
    const tags = await stageTags({
      projects: deps.projects,
      registries: deps.registries,
      project: repo.project,
      stage: repo.stage,
      ...(state ? { state } : {}),
    });
    return c.json({ ...(await describe(repo)), tags: tags.allowed, selected_tag: tags.selected ?? '' });
  });
  app.post('/tags/:repo', requireScope(deps.tokens, 'deploy'), async (c) => {
    const repo = repoOf(c.req.param('repo'));
    const body = await jsonBody(c, registryWatcherBody);
    const ref = { project: repo.project, stage: repo.stage };
    if (body.pinned_tag !== undefined)
      await deps.engine.pin({ ...ref, tag: body.pinned_tag === '' ? undefined : body.pinned_tag });
    if (body.auto_deploy !== undefined)
      await deps.engine.setAutoDeploy({ ...ref, enabled: body.auto_deploy });
    const state = await deps.store.getStage(ref);
    // A fresh listing, as registrywatcher did: the engine's cached one may be older than the push.
    const tag =
      state?.pin ??
      (
        await stageTags({
          projects: deps.projects,
          registries: deps.registries,
          ...ref,
          ...(state ? { state } : {}),
        })
      ).selected;
    const deploy = await deps.engine.deploy({ ...ref, ...(tag ? { tag } : {}) });
    return c.json({ ...(await describe(repo)), deploy_id: deploy.id }, 202);
  });
  app.post('/tags/:repo/reset', requireScope(deps.tokens, 'deploy'), async (c) => {
    const repo = repoOf(c.req.param('repo'));
    const ref = { project: repo.project, stage: repo.stage };
    // registrywatcher's reset: no pin, auto-deploy on, so the stage follows its newest release again.
    await deps.engine.pin({ ...ref, tag: undefined });
    await deps.engine.setAutoDeploy({ ...ref, enabled: true });
    return c.json(await describe(repo));
  });
  return app;
}
