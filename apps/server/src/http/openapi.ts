import { toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import {
  autoDeployBody,
  deployBody,
  emptyBody,
  pinBody,
  promoteBody,
  registryWatcherBody,
} from './bodies.ts';
import { csrfHeader } from './csrf.ts';
import { loginBody, sessionCookie } from './login.ts';

type Scope = 'read' | 'deploy' | null;

interface Route {
  readonly method: 'get' | 'post';
  readonly path: string;
  readonly summary: string;
  readonly scope: Scope;
  readonly body?: v.GenericSchema;
  /** Success status; 200 by default. */
  readonly status?: number;
  readonly produces?: string;
  readonly query?: readonly string[];
  /** Error answers of routes that are neither scoped nor webhooks. */
  readonly errors?: Readonly<Record<string, string>>;
  /** Authenticated by the session cookie only (the dashboard's own routes). */
  readonly session?: boolean;
}

const stage = '/api/projects/{id}/stages/{stage}';

/** Every route of the server, as `createApp` registers them. */
export const routes: readonly Route[] = [
  { method: 'get', path: '/healthz', summary: 'Liveness', scope: null },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: 503 until the engine runs and while it stops',
    scope: null,
  },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', scope: null, produces: 'text/plain' },
  { method: 'get', path: '/api/openapi.json', summary: 'This document', scope: null },
  {
    method: 'post',
    path: '/api/auth/login',
    summary: 'Dashboard login: sets the session cookie; answers the caller and the CSRF token',
    scope: null,
    body: loginBody,
    errors: {
      '401': 'Wrong user name or password',
      '403': 'Cross-origin request',
      '429': 'Too many failed logins (Retry-After)',
    },
  },
  {
    method: 'post',
    path: '/api/auth/logout',
    summary: 'End the dashboard session and clear its cookie',
    scope: null,
    session: true,
    errors: { '403': `Session without ${csrfHeader}, or cross-origin` },
  },
  {
    method: 'get',
    path: '/api/auth/session',
    summary: "The session's caller, CSRF token and expiry",
    scope: null,
    session: true,
    errors: { '401': 'No session, or it has ended' },
  },
  { method: 'get', path: '/api/projects', summary: 'Projects with their stages', scope: 'read' },
  {
    method: 'get',
    path: '/api/status',
    summary: 'Which config generation runs, and how the last reload went (and why it was not applied)',
    scope: 'read',
  },
  {
    method: 'get',
    path: '/api/plan',
    summary: 'What each stage would do now, and why',
    scope: 'read',
    query: ['project', 'stage'],
  },
  { method: 'get', path: '/api/projects/{id}', summary: 'One project', scope: 'read' },
  {
    method: 'get',
    path: stage,
    summary: 'One stage: state, decision, recent deploys, approvals',
    scope: 'read',
  },
  {
    method: 'get',
    path: `${stage}/tags`,
    summary: "What the stage's policy selects from the repository",
    scope: 'read',
  },
  {
    method: 'post',
    path: `${stage}/deploy`,
    summary: 'Deploy a tag or the current candidate',
    scope: 'deploy',
    body: deployBody,
    status: 202,
  },
  {
    method: 'post',
    path: `${stage}/rollback`,
    summary: 'Deploy the previous successful release; pauses auto-deploy',
    scope: 'deploy',
    body: emptyBody,
    status: 202,
  },
  {
    method: 'post',
    path: `${stage}/promote`,
    summary: 'Deploy what succeeded in the promote_from stage',
    scope: 'deploy',
    body: promoteBody,
    status: 202,
  },
  { method: 'post', path: `${stage}/pin`, summary: 'Pin the stage to a tag', scope: 'deploy', body: pinBody },
  { method: 'post', path: `${stage}/unpin`, summary: 'Unpin the stage', scope: 'deploy' },
  {
    method: 'post',
    path: `${stage}/auto-deploy`,
    summary: 'Turn auto-deploy on or off',
    scope: 'deploy',
    body: autoDeployBody,
  },
  { method: 'get', path: '/api/approvals', summary: 'Pending approvals', scope: 'read' },
  {
    method: 'post',
    path: '/api/approvals/{id}/approve',
    summary: 'Confirm a release',
    scope: 'deploy',
    status: 202,
  },
  { method: 'post', path: '/api/approvals/{id}/reject', summary: 'Reject a release', scope: 'deploy' },
  {
    method: 'get',
    path: '/api/deploys',
    summary: 'Deploys, newest first',
    scope: 'read',
    query: ['project', 'stage', 'limit', 'before'],
  },
  { method: 'get', path: '/api/deploys/{id}', summary: 'One deploy with its journal', scope: 'read' },
  {
    method: 'get',
    path: '/api/deploys/{id}/logs',
    summary: 'Live log as server-sent events (replay, then live lines, until the deploy ends)',
    scope: 'read',
    produces: 'text/event-stream',
  },
  {
    method: 'post',
    path: '/api/deploys/{id}/cancel',
    summary: 'Cancel a queued or running deploy',
    scope: 'deploy',
  },
  {
    method: 'post',
    path: '/api/webhook/gitea',
    summary: 'Gitea package webhook (X-Gitea-Signature)',
    scope: null,
    status: 202,
    query: ['registry'],
  },
  {
    method: 'post',
    path: '/api/webhook/github',
    summary: 'GitHub package webhook (X-Hub-Signature-256)',
    scope: null,
    status: 202,
    query: ['registry'],
  },
  {
    method: 'post',
    path: '/api/webhook/registry',
    summary: 'OCI distribution notifications (shared secret header)',
    scope: null,
    status: 202,
    query: ['registry'],
  },
  { method: 'get', path: '/ping', summary: 'registrywatcher: { message: "pong" }', scope: null },
  {
    method: 'get',
    path: '/repos',
    summary: 'registrywatcher: { <repo>: { auto_deploy, pinned_tag, pinned_tag_value, tags } }',
    scope: 'read',
  },
  {
    method: 'get',
    path: '/tags/{repo}',
    summary: 'registrywatcher: { repo_tag }, the tag the pin stands for',
    scope: 'read',
  },
  {
    method: 'post',
    path: '/tags/{repo}',
    summary: 'registrywatcher: set pinned_tag / auto_deploy, then deploy; { message, deploy_id }',
    scope: 'deploy',
    body: registryWatcherBody,
    status: 200,
  },
  {
    method: 'post',
    path: '/tags/{repo}/reset',
    summary: 'registrywatcher: pinned_tag back to "" (auto_deploy unchanged); { message }',
    scope: 'deploy',
  },
];

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        fields: {
          type: 'array',
          items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    },
  },
};

/** The OpenAPI 3.1 document of the API, built from the route table and the bodies' valibot schemas. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const query = (route.query ?? []).map((name) => ({
      name,
      in: 'query',
      required: false,
      schema: { type: 'string' },
    }));
    const csrf =
      route.method === 'post' && (route.scope || route.session)
        ? [
            {
              name: csrfHeader,
              in: 'header',
              required: false,
              description: 'Required when the session cookie authenticates the request',
              schema: { type: 'string' },
            },
          ]
        : [];
    const error = (description: string) => ({
      description,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    });
    const responses: Record<string, unknown> = {
      [String(route.status ?? 200)]: {
        description: 'OK',
        content: { [route.produces ?? 'application/json']: { schema: {} } },
      },
      '404': error('Unknown project, stage, deploy, approval or repo'),
      '500': error('Internal error'),
    };
    if (route.body || route.query) responses['400'] = error('Invalid request, with field errors');
    if (route.scope) {
      responses['401'] = error('Missing or wrong token, or no valid session');
      responses['403'] = error(
        route.method === 'post'
          ? `Token or user without the scope; session request without ${csrfHeader} or cross-origin`
          : 'Token or user without the scope',
      );
    }
    for (const [status, description] of Object.entries(route.errors ?? {}))
      responses[status] = error(description);
    if (route.path.startsWith('/api/webhook')) {
      responses['401'] = error('Forged or unsigned webhook');
      responses['413'] = error('Body over the limit');
    }
    if (route.method === 'post' && route.scope)
      responses['409'] = error('Conflict (e.g. unproven promotion)');
    paths[route.path] = {
      ...paths[route.path],
      [route.method]: {
        summary: route.summary,
        ...(route.scope
          ? { security: [{ bearer: [] }, { session: [] }], 'x-scope': route.scope }
          : { security: route.session ? [{ session: [] }] : [] }),
        ...(params.length + query.length + csrf.length > 0
          ? { parameters: [...params, ...query, ...csrf] }
          : {}),
        ...(route.body
          ? {
              requestBody: {
                required: false,
                content: {
                  'application/json': { schema: toJsonSchema(route.body, { errorMode: 'ignore' }) },
                },
              },
            }
          : {}),
        responses,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Docker Watcher', version: '0.0.0' },
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        session: { type: 'apiKey', in: 'cookie', name: sessionCookie },
      },
      schemas: { Error: errorSchema },
    },
  };
}
