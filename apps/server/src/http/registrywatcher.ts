import type { Engine, StageState } from '@docker-watcher/core';
import {
  CoreError,
  type EngineProject,
  isCoreError,
  type Registry,
  type StateStore,
  stageKey,
} from '@docker-watcher/core';
import type { intakeRoutes } from '../api/intake.ts';
import { stageTags } from '../tags.ts';
import type { ApiContext } from './api-context.ts';
import { fieldError } from './errors.ts';
import type { Handlers } from './register.ts';

export interface RegistryWatcherDeps {
  readonly engine: Engine;
  readonly store: StateStore;
  readonly projects: readonly EngineProject[];
  readonly registries: Readonly<Record<string, Registry>>;
  /** Records who pinned, toggled or deployed. */
  readonly audit: ApiContext['audit'];
}

type RegistryWatcherRoutes = Omit<typeof intakeRoutes, 'webhook'>;

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
export function registryWatcherHandlers(deps: RegistryWatcherDeps): Handlers<RegistryWatcherRoutes> {
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

  const pong = () => ({ message: 'pong' as const });
  return {
    ping: pong,
    pingSlash: pong,
    listRepos: async () => {
      const described = await Promise.all(
        repos.map(async (repo) => [repo.name, await describe(repo)] as const),
      );
      // A null prototype: repo names come from the config and must not reach Object.prototype.
      return Object.assign(
        Object.create(null) as Record<string, Awaited<ReturnType<typeof describe>>>,
        Object.fromEntries(described),
      );
    },
    getRepoTag: async (_c, { params }) => {
      const described = await describe(repoOf(params.repo));
      return { repo_tag: described.pinned_tag_value, ...described };
    },
    setRepoTag: async (c, { params, body }) => {
      const repo = repoOf(params.repo);
      if (body.pinned_tag === undefined && body.auto_deploy === undefined)
        throw fieldError(
          [{ path: '', message: 'give pinned_tag, auto_deploy or both' }],
          'Nothing to change',
        );
      const ref = { project: repo.project, stage: repo.stage };
      const by = c.get('caller').name;
      if (body.pinned_tag !== undefined)
        await deps.engine.pin({ ...ref, tag: body.pinned_tag === '' ? undefined : body.pinned_tag, by });
      if (body.auto_deploy !== undefined)
        await deps.engine.setAutoDeploy({ ...ref, enabled: body.auto_deploy, by });
      // A fresh listing, as registrywatcher did: the engine's cached one may be older than the push.
      const state = await stateOf(repo);
      const tag = state?.pin ?? (await tagsOf(repo, state)).selected;
      // registrywatcher deploys whatever runs; ours says when that is a no-op (it runs, or is on its way).
      const answer = await deps.engine.deploy({ ...ref, ...(tag ? { tag } : {}), by }).then(
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
      await deps.audit(c, 'registrywatcher-set', stageKey(ref), {
        ...body,
        ...(answer.deploy_id ? { deployId: answer.deploy_id } : {}),
      });
      return { ...answer, ...(await describe(repo)) };
    },
    resetRepoTag: async (c, { params }) => {
      const repo = repoOf(params.repo);
      // registrywatcher's reset: pinned_tag back to "" (its default), the stage follows its newest release.
      await deps.engine.pin({
        project: repo.project,
        stage: repo.stage,
        tag: undefined,
        by: c.get('caller').name,
      });
      await deps.audit(c, 'unpin', stageKey(repo));
      return { message: `${repo.name}: pinned_tag reset`, ...(await describe(repo)) };
    },
  };
}
