import { CoreError, type Engine, isCoreError, type Logger, type Registry } from '@docker-watcher/core';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { intakeRoutes } from '../api/intake.ts';
import type { ResolvedConfig } from '../config/load.ts';
import { errorBody } from './errors.ts';
import type { ServerMetrics, WebhookOutcome } from './metrics.ts';
import type { AppEnv, Handler } from './register.ts';

/** Which registry types each webhook endpoint serves. */
export const webhookSources: Readonly<Record<string, readonly string[]>> = {
  gitea: ['gitea'],
  github: ['ghcr'],
  registry: ['oci', 'dockerhub', 'memory'],
};

const outcomeOf = (error: unknown): WebhookOutcome => {
  if (!isCoreError(error)) return 'error';
  switch (error.code) {
    case 'UNAUTHORIZED':
    case 'FORBIDDEN':
      return 'unauthorized';
    case 'BAD_REQUEST':
      return 'bad_request';
    case 'NOT_FOUND':
      return 'not_found';
    case 'UNSUPPORTED':
      return 'unsupported';
    default:
      return 'error';
  }
};

export interface WebhookDeps {
  readonly engine: Engine;
  readonly config: ResolvedConfig;
  readonly registries: Readonly<Record<string, Registry>>;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
}

/**
 * `POST /api/webhook/:source`: verified by the registry adapter (a secret is required: a registry
 * without one takes no webhooks), replays dropped by the engine, answered 202 before any listing or
 * deploy runs (the engine coalesces and works asynchronously). The body limit runs first.
 */
export function webhookRoute(deps: WebhookDeps): {
  readonly handler: Handler<typeof intakeRoutes.webhook>;
  readonly limit: MiddlewareHandler<AppEnv>;
} {
  const { config, metrics } = deps;

  const registryFor = (source: string, requested: string | undefined): string => {
    const types = webhookSources[source];
    if (!types) throw new CoreError('NOT_FOUND', `No webhook endpoint ${source}`);
    const takes = (name: string) => {
      const spec = config.registries[name];
      return (
        spec !== undefined &&
        types.includes(spec.type) &&
        deps.registries[name]?.capabilities.webhooks === true
      );
    };
    if (requested !== undefined) {
      if (!takes(requested))
        throw new CoreError(
          'NOT_FOUND',
          `Registry ${requested} takes no ${source} webhooks (is its secret set?)`,
        );
      return requested;
    }
    const candidates = Object.keys(config.registries).filter(takes);
    if (candidates.length === 0)
      throw new CoreError('NOT_FOUND', `No registry takes ${source} webhooks (set webhook_secret_env)`);
    if (candidates.length > 1)
      throw new CoreError('BAD_REQUEST', `Several registries take ${source} webhooks: add ?registry=<name>`);
    return candidates[0]!;
  };

  const limit = bodyLimit({
    maxSize: config.webhookBodyLimit,
    onError: (c) => {
      metrics.webhook(c.req.param('source') ?? 'unknown', 'too_large');
      return c.json(
        errorBody('BAD_REQUEST', `The body is larger than ${config.webhookBodyLimit} bytes`),
        413,
      );
    },
  });
  const handler: Handler<typeof intakeRoutes.webhook> = async (c, { params, query }) => {
    const { source } = params;
    try {
      const registry = registryFor(source, query.registry);
      const body = new Uint8Array(await c.req.arrayBuffer());
      const headers: Record<string, string> = {};
      c.req.raw.headers.forEach((value, key) => {
        headers[key.toLowerCase()] = value;
      });
      const observations = await deps.engine.ingestWebhook({ registry, request: { headers, body } });
      metrics.webhook(source, 'accepted');
      deps.logger.info('webhook accepted', { source, registry, observations: observations.length });
      return { accepted: observations.length };
    } catch (error) {
      metrics.webhook(source, outcomeOf(error));
      deps.logger.warn('webhook refused', {
        source,
        code: isCoreError(error) ? error.code : 'INTERNAL',
      });
      throw error;
    }
  };
  return { handler, limit };
}
