import { Hono } from 'hono';
import { apiRoutes } from '../api/index.ts';
import type { Composed } from '../compose.ts';
import { apiContext } from './api-context.ts';
import { dashboardHandler } from './dashboard.ts';
import { errorBody, errorHandler } from './errors.ts';
import { createIdempotencyCache, type IdempotencyCache } from './idempotency.ts';
import { createDashboardLogin, type LoginState } from './login.ts';
import { openApiDocument } from './openapi.ts';
import { type AppEnv, type Handlers, registerRoutes } from './register.ts';
import { registryWatcherHandlers } from './registrywatcher.ts';
import { deployHandlers } from './routes/deploys.ts';
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
}

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
    ...systemHandlers(api, { ready: options.ready ?? (() => true), openApi: () => openApiDocument() }),
    ...login.handlers,
    ...projectHandlers(api),
    ...stageActionHandlers(api),
    ...deployHandlers(api),
    webhook: webhook.handler,
    ...registryWatcherHandlers({
      engine: composed.engine,
      store: composed.store,
      projects: config.projects,
      registries: composed.registries,
      audit: api.audit,
    }),
  };
  registerRoutes(app, apiRoutes, handlers, {
    tokens: config.tokens,
    logger: logger.child({ component: 'http' }),
    idempotency: options.idempotency ?? createIdempotencyCache(),
    middleware: { webhook: [webhook.limit] },
    rawBody: new Set(['login']),
    ...(options.checkResponses ? { checkResponses: true } : {}),
  });
  app.get('*', dashboardHandler(options.dashboardDir ? { dir: options.dashboardDir } : {}));
  return app;
}
