// Routes about the server itself: health, metrics, this document, status, config, the event stream.
import * as v from 'valibot';
import { eventsQuery } from './bodies.ts';
import { resetMessageSchema, streamEventSchema } from './events.ts';
import { defineRoute } from './route.ts';
import { readonlyArray, releaseSchema } from './schemas.ts';

const registryStatusSchema = v.object({
  name: v.string(),
  type: v.string(),
  lastPoll: v.nullable(v.object({ at: v.string(), ok: v.boolean(), tags: v.optional(v.number()) })),
  lastWebhook: v.nullable(v.object({ at: v.string(), repository: v.string(), tag: v.string() })),
  lastError: v.nullable(
    v.object({ at: v.string(), operation: v.string(), code: v.string(), message: v.string() }),
  ),
});

const nextStepSchema = v.object({
  action: v.picklist(['deploying', 'awaiting-confirmation', 'available', 'none']),
  release: v.optional(releaseSchema),
  deployId: v.optional(v.string()),
  approvalId: v.optional(v.string()),
});

export const statusSchema = v.pipe(
  v.object({
    version: v.string(),
    startedAt: v.string(),
    store: v.object({ id: v.string(), durable: v.boolean(), sharedLeases: v.boolean() }),
    replica: v.object({ holder: v.string(), leader: v.boolean() }),
    leader: v.pipe(v.nullable(v.string()), v.description('The replica that polls, as last announced.')),
    replicas: readonlyArray(v.object({ holder: v.string(), leader: v.boolean(), lastSeenAt: v.string() })),
    registries: readonlyArray(registryStatusSchema),
    stages: readonlyArray(v.object({ project: v.string(), stage: v.string(), next: nextStepSchema })),
  }),
  v.title('Status'),
);

export const configValueSchema = v.object({
  path: v.pipe(v.string(), v.description('Dotted path in the config file, e.g. global.domain.')),
  value: v.unknown(),
  source: v.picklist(['file', 'env', 'default']),
  secret: v.optional(v.pipe(v.literal(true), v.description('The value is masked.'))),
});

export const systemRoutes = {
  healthz: defineRoute({
    method: 'get',
    path: '/healthz',
    summary: 'Liveness',
    scope: null,
    response: v.object({ status: v.literal('ok') }),
  }),
  readyz: defineRoute({
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: 503 until the engine runs and while it stops',
    scope: null,
    response: v.object({ status: v.literal('ready') }),
    errors: { '503': 'Not ready' },
  }),
  metrics: defineRoute({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    scope: null,
    produces: 'text/plain',
    response: v.string(),
  }),
  openApi: defineRoute({
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This document',
    scope: null,
    response: v.record(v.string(), v.unknown()),
  }),
  getStatus: defineRoute({
    method: 'get',
    path: '/api/status',
    summary:
      "The server's health: version, store, replicas and leader, each registry's last poll, webhook and error, each stage's next step",
    scope: 'read',
    response: statusSchema,
  }),
  getConfig: defineRoute({
    method: 'get',
    path: '/api/config',
    summary: 'The running config, secrets masked, with where each value came from (file, env, default)',
    scope: 'read',
    response: v.object({
      file: v.nullable(v.string()),
      loadedAt: v.string(),
      values: readonlyArray(configValueSchema),
    }),
  }),
  streamEvents: defineRoute({
    method: 'get',
    path: '/api/events',
    summary:
      'Engine events as server-sent events (no log lines): `id` = event number, `event` = its type, `data` = the event; `reset` when events were missed',
    scope: 'read',
    query: eventsQuery,
    produces: 'text/event-stream',
    headers: {
      'Last-Event-ID':
        'The last event id seen: the stream goes on after it, or says `reset` when it is older than the server keeps.',
    },
    response: v.union([streamEventSchema, resetMessageSchema]),
  }),
} as const;
