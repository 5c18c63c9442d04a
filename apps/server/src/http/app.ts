import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { apiRoutes } from '../api/index.ts';
import type { LabelledContainersView } from '../api/labels.ts';
import type { Composed } from '../compose.ts';
import type { ConfigStatus } from '../serve.ts';
import { apiContext } from './api-context.ts';
import { dashboardHandler } from './dashboard.ts';
import { errorBody, errorHandler } from './errors.ts';
import { createIdempotencyCache, type IdempotencyCache } from './idempotency.ts';
import { createDashboardLogin, type LoginState } from './login.ts';
import { openApiDocument } from './openapi.ts';
import { storeReadiness } from './readiness.ts';
import { type AppEnv, type Handlers, registerRoutes } from './register.ts';
import { registryWatcherHandlers } from './registrywatcher.ts';
import { deployHandlers } from './routes/deploys.ts';
import { labelHandlers } from './routes/labels.ts';
import { projectHandlers } from './routes/projects.ts';
import { stageActionHandlers } from './routes/stage-actions.ts';
import { systemHandlers } from './routes/system.ts';
import { webhookRoute } from './webhooks.ts';

export interface AppOptions {
  /** Whether the engine is running and taking work (`/readyz`). */
  readonly ready?: () => boolean;
  /** SSE keep-alive period of deploy logs. */
  readonly heartbeatMs?: number;
  /** Dashboard sessions and login counts from the app this one replaces (a config reload). */
  readonly loginState?: LoginState;
  /** Answers of idempotent POSTs from the app this one replaces (a config reload). */
  readonly idempotency?: IdempotencyCache;
  /** Validates every JSON answer against its route's schema; one outside it is a 500 (tests). */
  readonly checkResponses?: boolean;
  /** The dashboard's build folder (tests); the packaged or workspace build by default. */
  readonly dashboardDir?: string;
  /** Which config generation runs and how the last reload went, for `/api/status`. */
  readonly configStatus?: () => ConfigStatus;
  /**
   * How long one answer of `/readyz`'s store write check stands (default 1 s): anyone may ask, and
   * each check is a write.
   */
  readonly readyCheckMs?: number;
  /** Label mode's containers now, for `/api/labels` (label mode off: none). */
  readonly labels?: () => LabelledContainersView;
}

/**
 * The largest body of an API request (a login, a deploy, a pin: a few hundred bytes). Webhooks have
 * their own limit (`server.webhook_body_limit`), applied by their routes.
 */
export const apiBodyLimit = 64 * 1024;

/** The whole HTTP API as a Hono app: use `app.fetch` with any server, or `app.request()` in tests. */
export function createApp(composed: Composed, options: AppOptions = {}): Hono<AppEnv> {
  const { config, logger } = composed;
  const app = new Hono<AppEnv>();
  app.onError(errorHandler(logger.child({ component: 'http' })));
  app.notFound((c) =>
    c.json(errorBody('NOT_FOUND', `No route ${c.req.method} ${JSON.stringify(c.req.path)}`), 404),
  );
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
  // Not for GET and HEAD: no route reads their body, and asking a request for its body stream makes
  // the Node adapter build a whole Fetch Request, most of a small read's cost.
  app.use('*', (c, next) =>
    c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.path.startsWith('/api/webhook/')
      ? next()
      : limitBody(c, next),
  );
  app.use('*', login.middleware);

  const api = apiContext(composed, options.heartbeatMs);
  const webhook = webhookRoute({
    engine: composed.engine,
    config,
    registries: composed.registries,
    metrics: composed.metrics,
    logger: logger.child({ component: 'webhooks' }),
  });
  const handlers: Handlers<typeof apiRoutes> = {
    ...systemHandlers(api, {
      ready: options.ready ?? (() => true),
      storeProblem: storeReadiness(composed.engine, composed.store, options.readyCheckMs),
      openApi: () => openApiDocument(),
      ...(options.configStatus ? { configStatus: options.configStatus } : {}),
    }),
    ...login.handlers,
    ...projectHandlers(api),
    ...stageActionHandlers(api),
    ...deployHandlers(api),
    ...labelHandlers(options.labels),
    webhook: webhook.handler,
    ...registryWatcherHandlers({
      engine: composed.engine,
      store: composed.store,
      projects: config.projects,
      registries: composed.limitedRegistries,
      audit: api.audit,
    }),
  };
  registerRoutes(app, apiRoutes, handlers, {
    tokens: config.tokens,
    logger: logger.child({ component: 'http' }),
    idempotency:
      options.idempotency ??
      createIdempotencyCache({ store: composed.store, logger: logger.child({ component: 'http' }) }),
    middleware: { webhook: [webhook.gate, webhook.limit] },
    rawBody: new Set(['login']),
    ...(options.checkResponses ? { checkResponses: true } : {}),
  });
  app.get('*', dashboardHandler(options.dashboardDir ? { dir: options.dashboardDir } : {}));
  return app;
}
