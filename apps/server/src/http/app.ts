import { CoreError, type StageRef, type StateStore, toCoreError } from '@docker-watcher/core';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Composed } from '../compose.ts';
import type { ConfigStatus } from '../serve.ts';
import { stageTags } from '../tags.ts';
import { type AuthVariables, requireScope } from './auth.ts';
import { autoDeployBody, deployBody, deploysQuery, emptyBody, pinBody, promoteBody } from './bodies.ts';
import { dashboardHandler } from './dashboard.ts';
import { errorBody, errorHandler, jsonBody, validate } from './errors.ts';
import { createDashboardLogin, type LoginState } from './login.ts';
import { openApiDocument } from './openapi.ts';
import { registryWatcherRoutes } from './registrywatcher.ts';
import { deployLogStream } from './sse.ts';
import { webhookRoutes } from './webhooks.ts';

export interface AppOptions {
  /** Whether the engine is running and taking work (`/readyz`). */
  readonly ready?: () => boolean;
  /** SSE keep-alive period. */
  readonly heartbeatMs?: number;
  /** Dashboard sessions and login counts from the app this one replaces (a config reload). */
  readonly loginState?: LoginState;
  /** The dashboard's build folder (tests); the packaged or workspace build by default. */
  readonly dashboardDir?: string;
  /** Which config generation runs and how the last reload went, for `/api/status`. */
  readonly configStatus?: () => ConfigStatus;
  /**
   * How long one answer of `/readyz`'s store write check stands (default 1 s): anyone may ask, and
   * each check is a write.
   */
  readonly readyCheckMs?: number;
}

/** How long `/readyz` waits for the store's write before it says the store does not answer. */
const readyWriteTimeoutMs = 2_000;

/**
 * The largest body of an API request (a login, a deploy, a pin: a few hundred bytes). Webhooks have
 * their own limit (`server.webhook_body_limit`), applied by their routes.
 */
export const apiBodyLimit = 64 * 1024;

/** The whole HTTP API as a Hono app: use `app.fetch` with any server, or `app.request()` in tests. */
export function createApp(composed: Composed, options: AppOptions = {}): Hono<{ Variables: AuthVariables }> {
  const { engine, store, config, logger } = composed;
  const tokens = config.tokens;
  const read = requireScope(tokens, 'read');
  const deployScope = requireScope(tokens, 'deploy');
  const app = new Hono<{ Variables: AuthVariables }>();
  app.onError(errorHandler(logger.child({ component: 'http' })));
  app.notFound((c) => c.json(errorBody('NOT_FOUND', `No route ${c.req.method} ${c.req.path}`), 404));
  const login = createDashboardLogin({
    users: config.users,
    settings: config.session,
    logger: logger.child({ component: 'auth' }),
    ...(options.loginState ? { state: options.loginState } : {}),
  });
  // Before anything reads a body, authentication included: a body no route needs is never held.
  const limitBody = bodyLimit({
    maxSize: apiBodyLimit,
    onError: (c) =>
      c.json(errorBody('BAD_REQUEST', `The body is larger than ${apiBodyLimit} bytes (too large)`), 413),
  });
  app.use('*', (c, next) => (c.req.path.startsWith('/api/webhook/') ? next() : limitBody(c, next)));
  app.use('*', login.middleware);
  app.route('/api/auth', login.routes);

  const projectOf = (id: string) => {
    const project = config.projects.find((p) => p.id === id);
    if (!project) throw new CoreError('NOT_FOUND', `No project ${id}`);
    return project;
  };
  const refOf = (id: string, stage: string): StageRef => {
    // Own keys only: `constructor` or `__proto__` from a URL is no stage.
    if (!Object.hasOwn(projectOf(id).stages, stage))
      throw new CoreError('NOT_FOUND', `No stage ${stage} in project ${id}`);
    return { project: id, stage };
  };
  const stageSummary = async (ref: StageRef) => {
    const stage = projectOf(ref.project).stages[ref.stage]!;
    const state = await store.getStage(ref);
    return {
      name: ref.stage,
      policy: stage.policy.kind,
      host: stage.deploy.host ?? null,
      confirm: stage.confirm === true,
      promoteFrom: stage.promoteFrom ?? null,
      autoDeploy: state?.autoDeploy ?? stage.autoDeploy,
      pin: (state ? state.pin : stage.pin) ?? null,
      actual: state?.actual ?? null,
      desired: state?.desired ?? null,
    };
  };
  const projectSummary = async (id: string) => {
    const project = projectOf(id);
    return {
      id,
      registry: project.registry,
      repository: project.repository,
      image: Object.values(project.stages)[0]?.deploy.image ?? null,
      stages: await Promise.all(
        Object.keys(project.stages).map((stage) => stageSummary({ project: id, stage })),
      ),
    };
  };
  const audit = (
    s: StateStore,
    actor: string,
    action: string,
    target: string,
    details?: Record<string, unknown>,
  ) =>
    s
      .appendAudit({
        event: { at: new Date().toISOString(), actor, action, target, ...(details ? { details } : {}) },
      })
      .catch((error: unknown) => logger.warn('audit write failed', { error: String(error) }));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  // Ready means taking work, and work needs a store that writes (leases, deploy records): a store
  // that only reads keeps the API up and the replica out of rotation.
  let storeCheck: { at: number; problem: Promise<string | undefined> } | undefined;
  const storeProblem = () => {
    const now = Date.now();
    if (storeCheck && now - storeCheck.at < (options.readyCheckMs ?? 1_000)) return storeCheck.problem;
    const { holder } = engine.leadership();
    const problem = store
      .acquireLease({
        name: `readyz:${holder}`,
        holder,
        ttlMs: 60_000,
        signal: AbortSignal.timeout(readyWriteTimeoutMs),
      })
      .then(
        () => undefined,
        (error: unknown) =>
          `the store cannot write (${toCoreError(error).code}: ${toCoreError(error).message})`,
      );
    storeCheck = { at: now, problem };
    return problem;
  };
  app.get('/readyz', async (c) => {
    if (!(options.ready?.() ?? true)) return c.json(errorBody('UNAVAILABLE', 'Not ready'), 503);
    const problem = await storeProblem();
    return problem === undefined
      ? c.json({ status: 'ready' })
      : c.json(errorBody('UNAVAILABLE', `Not ready: ${problem}`), 503);
  });
  app.get('/metrics', (c) =>
    c.body(composed.metrics.render(), 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }),
  );
  app.get('/api/openapi.json', (c) => c.json(openApiDocument()));
  app.get('/api/status', read, (c) => c.json({ config: options.configStatus?.() ?? null }));

  app.get('/api/projects', read, async (c) =>
    c.json({ projects: await Promise.all(config.projects.map((p) => projectSummary(p.id))) }),
  );
  app.get('/api/plan', read, async (c) => {
    const project = c.req.query('project');
    const stage = c.req.query('stage');
    if (project !== undefined) projectOf(project);
    if (project !== undefined && stage !== undefined) refOf(project, stage);
    const plan = await engine.plan({ ...(project ? { project } : {}), ...(stage ? { stage } : {}) });
    return c.json({ plan });
  });
  app.get('/api/projects/:id', read, async (c) => c.json(await projectSummary(c.req.param('id'))));
  app.get('/api/projects/:id/stages/:stage', read, async (c) => {
    const ref = refOf(c.req.param('id'), c.req.param('stage'));
    const [summary, deploys, approvals, plan] = await Promise.all([
      stageSummary(ref),
      store.listDeploys({ ...ref, limit: 10 }),
      store.listApprovals({ ...ref, status: 'pending' }),
      engine.plan(ref),
    ]);
    return c.json({
      project: ref.project,
      ...summary,
      decision: plan[0]?.decision ?? null,
      deploys,
      approvals,
    });
  });
  app.get('/api/projects/:id/stages/:stage/tags', read, async (c) => {
    const ref = refOf(c.req.param('id'), c.req.param('stage'));
    const state = await store.getStage(ref);
    return c.json(
      await stageTags({
        projects: config.projects,
        registries: composed.registries,
        ...ref,
        ...(state ? { state } : {}),
      }),
    );
  });

  const stagePath = '/api/projects/:id/stages/:stage';
  app.post(`${stagePath}/deploy`, deployScope, async (c) => {
    const ref = refOf(c.req.param('id'), c.req.param('stage'));
    const body = await jsonBody(c, deployBody);
    const deploy = await engine.deploy({ ...ref, ...(body.tag ? { tag: body.tag } : {}) });
    await audit(store, c.get('caller').name, 'deploy', `${ref.project}/${ref.stage}`, {
      deployId: deploy.id,
    });
    return c.json({ deploy }, 202);
  });
  app.post(`${stagePath}/rollback`, deployScope, async (c) => {
    const ref = refOf(c.req.param('id'), c.req.param('stage'));
    await jsonBody(c, emptyBody);
    const deploy = await engine.rollback(ref);
    await audit(store, c.get('caller').name, 'rollback', `${ref.project}/${ref.stage}`, {
      deployId: deploy.id,
    });
    return c.json({ deploy }, 202);
  });
  app.post(`${stagePath}/promote`, deployScope, async (c) => {
    const ref = refOf(c.req.param('id'), c.req.param('stage'));
    const body = await jsonBody(c, promoteBody);
    const deploy = await engine.promote({ ...ref, ...(body.digest ? { digest: body.digest } : {}) });
    await audit(store, c.get('caller').name, 'promote', `${ref.project}/${ref.stage}`, {
      deployId: deploy.id,
    });
    return c.json({ deploy }, 202);
  });
  app.post(`${stagePath}/pin`, deployScope, async (c) => {
    const ref = refOf(c.req.param('id'), c.req.param('stage'));
    const body = await jsonBody(c, pinBody);
    await engine.pin({ ...ref, tag: body.tag });
    await audit(store, c.get('caller').name, 'pin', `${ref.project}/${ref.stage}`, { tag: body.tag });
    return c.json(await stageSummary(ref));
  });
  app.post(`${stagePath}/unpin`, deployScope, async (c) => {
    const ref = refOf(c.req.param('id'), c.req.param('stage'));
    await engine.pin({ ...ref, tag: undefined });
    await audit(store, c.get('caller').name, 'unpin', `${ref.project}/${ref.stage}`);
    return c.json(await stageSummary(ref));
  });
  app.post(`${stagePath}/auto-deploy`, deployScope, async (c) => {
    const ref = refOf(c.req.param('id'), c.req.param('stage'));
    const body = await jsonBody(c, autoDeployBody);
    await engine.setAutoDeploy({ ...ref, enabled: body.enabled });
    await audit(store, c.get('caller').name, 'auto-deploy', `${ref.project}/${ref.stage}`, {
      enabled: body.enabled,
    });
    return c.json(await stageSummary(ref));
  });

  app.get('/api/approvals', read, async (c) => {
    const approvals = [];
    for (const project of config.projects)
      for (const stage of Object.keys(project.stages))
        approvals.push(...(await store.listApprovals({ project: project.id, stage, status: 'pending' })));
    return c.json({ approvals });
  });
  app.post('/api/approvals/:id/approve', deployScope, async (c) => {
    const deploy = await engine.approve({ id: c.req.param('id'), by: c.get('caller').name });
    await audit(store, c.get('caller').name, 'approve', c.req.param('id'), { deployId: deploy.id });
    return c.json({ deploy }, 202);
  });
  app.post('/api/approvals/:id/reject', deployScope, async (c) => {
    await engine.reject({ id: c.req.param('id'), by: c.get('caller').name });
    await audit(store, c.get('caller').name, 'reject', c.req.param('id'));
    return c.json({ rejected: c.req.param('id') });
  });

  app.get('/api/deploys', read, async (c) => {
    const query = validate(deploysQuery, c.req.query(), 'query');
    const deploys = await store.listDeploys({
      ...(query.project ? { project: query.project } : {}),
      ...(query.stage ? { stage: query.stage } : {}),
      ...(query.before ? { before: query.before } : {}),
      limit: query.limit ?? 50,
    });
    return c.json({ deploys });
  });
  app.get('/api/deploys/:id', read, async (c) => {
    const deploy = await store.getDeploy({ id: c.req.param('id') });
    if (!deploy) throw new CoreError('NOT_FOUND', `No deploy ${c.req.param('id')}`);
    return c.json({ deploy });
  });
  app.get('/api/deploys/:id/logs', read, (c) =>
    deployLogStream(c, {
      store,
      bus: engine.bus,
      deployId: c.req.param('id'),
      ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
    }),
  );
  app.post('/api/deploys/:id/cancel', deployScope, async (c) => {
    const deploy = await engine.cancel({ id: c.req.param('id'), by: c.get('caller').name });
    await audit(store, c.get('caller').name, 'cancel', c.req.param('id'));
    return c.json({ deploy });
  });

  app.route(
    '/api/webhook',
    webhookRoutes({
      engine,
      config,
      registries: composed.registries,
      metrics: composed.metrics,
      logger: logger.child({ component: 'webhooks' }),
    }),
  );
  app.route(
    '/',
    registryWatcherRoutes({
      engine,
      store,
      projects: config.projects,
      registries: composed.registries,
      tokens,
      logger: logger.child({ component: 'http' }),
    }),
  );
  app.get('*', dashboardHandler(options.dashboardDir ? { dir: options.dashboardDir } : {}));
  return app;
}
