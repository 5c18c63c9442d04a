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

export const configStatusSchema = v.object({
  generation: v.pipe(
    v.number(),
    v.description('1 for the config the server started with, one more per reload applied.'),
  ),
  appliedAt: v.string(),
  lastReload: v.optional(v.object({ at: v.string(), applied: v.boolean(), problem: v.optional(v.string()) })),
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
    leftovers: v.pipe(
      readonlyArray(
        v.object({
          project: v.string(),
          stage: v.string(),
          deployId: v.string(),
          instanceId: v.optional(v.string()),
          since: v.string(),
          reason: v.string(),
          attempts: v.number(),
          lastError: v.optional(v.string()),
          nextAttemptAt: v.optional(v.string()),
        }),
      ),
      v.description(
        'Candidates a failed rollback could not remove (their target did not answer); the leader removes each once its target answers.',
      ),
    ),
    config: v.pipe(
      v.nullable(configStatusSchema),
      v.description(
        'Which config generation runs, and how the last reload went (and why it was not applied).',
      ),
    ),
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
    summary: 'Readiness: 503 until the engine runs, while it stops, and while the store cannot write',
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
