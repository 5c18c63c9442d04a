import { CoreError, type Engine, isCoreError, type Logger, type Registry } from '@docker-watcher/core';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ResolvedConfig } from '../config/load.ts';
import { errorBody } from './errors.ts';
import type { ServerMetrics, WebhookOutcome } from './metrics.ts';

/**
 * Which registry types each webhook endpoint serves. A Map: the source is a name from the URL, and
 * `constructor` or `__proto__` must not find anything.
 */
export const webhookSources: ReadonlyMap<string, readonly string[]> = new Map([
  ['gitea', ['gitea']],
  ['github', ['ghcr']],
  ['registry', ['oci', 'dockerhub', 'memory']],
]);

/**
 * JSON (distribution's `application/vnd.docker.distribution.events.v2+json` among them); Gitea may
 * also send its JSON form-encoded, as `payload=`. Anything else is refused before it is read.
 */
function takesContentType(source: string, header: string | undefined): boolean {
  const type = header?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type)) return true;
  return source === 'gitea' && type === 'application/x-www-form-urlencoded';
}

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
 * deploy runs (the engine coalesces and works asynchronously).
 */
export function webhookRoutes(deps: WebhookDeps): Hono {
  const app = new Hono();
  const { config, metrics } = deps;

  const registryFor = (source: string, requested: string | undefined): string => {
    const types = webhookSources.get(source);
    if (!types) throw new CoreError('NOT_FOUND', `No webhook endpoint ${source}`);
    const takes = (name: string) => {
      const spec = Object.hasOwn(config.registries, name) ? config.registries[name] : undefined;
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

  app.post(
    '/:source',
    // An unknown source is answered before its body is read, and leaves nothing behind: no metrics
    // series per name (anyone could make up names), no log line.
    async (c, next) => {
      if (!webhookSources.has(c.req.param('source')))
        return c.json(errorBody('NOT_FOUND', 'No such webhook endpoint'), 404);
      await next();
    },
    bodyLimit({
      maxSize: config.webhookBodyLimit,
      onError: (c) => {
        metrics.webhook(c.req.param('source') ?? 'unknown', 'too_large');
        return c.json(
          errorBody('BAD_REQUEST', `The body is larger than ${config.webhookBodyLimit} bytes`),
          413,
        );
      },
    }),
    async (c) => {
      const source = c.req.param('source');
      try {
        const registry = registryFor(source, c.req.query('registry'));
        if (!takesContentType(source, c.req.header('content-type'))) {
          metrics.webhook(source, 'unsupported');
          return c.json(
            errorBody('UNSUPPORTED', 'A webhook body is JSON: send Content-Type application/json'),
            415,
          );
        }
        const body = new Uint8Array(await c.req.arrayBuffer());
        const headers: Record<string, string> = {};
        c.req.raw.headers.forEach((value, key) => {
          headers[key.toLowerCase()] = value;
        });
        const observations = await deps.engine.ingestWebhook({ registry, request: { headers, body } });
        metrics.webhook(source, 'accepted');
        deps.logger.info('webhook accepted', { source, registry, observations: observations.length });
        return c.json({ accepted: observations.length }, 202);
      } catch (error) {
        metrics.webhook(source, outcomeOf(error));
        deps.logger.warn('webhook refused', {
          source,
          code: isCoreError(error) ? error.code : 'INTERNAL',
        });
        throw error;
      }
    },
  );
  return app;
}
