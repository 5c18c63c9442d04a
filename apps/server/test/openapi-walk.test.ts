// Every route the app registers is in the generated OpenAPI document (and nothing else is), and
// every route, called on a real stack (SQLite store, the engine, memory adapters), answers inside
// its response schema: JSON bodies, text, and each event of an event stream.
import { createMemoryWebhookRequest } from '@docker-watcher/core';
import * as v from 'valibot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiRoutes, type RouteName } from '../src/api/index.ts';
import type { RouteContract } from '../src/api/route.ts';
import { openApiDocument } from '../src/http/openapi.ts';
import { hashPassword } from '../src/http/passwords.ts';
import { honoPath } from '../src/http/register.ts';
import { auth, configText, digest, type Harness, harness, post, tokens, webhookSecret } from './support.ts';

const password = 'walker-password-do-not-leak';
const repo = 'team/web-app';
const stage = '/api/projects/web-app/stages';
let h: Harness;

beforeEach(async () => {
  const hash = await hashPassword(password, 4);
  h = await harness({
    config: configText.replace(
      '    tokens:\n',
      `    users:\n      - { name: walker, password_hash: "${hash}", scopes: [deploy] }\n    tokens:\n`,
    ),
    // The test checks answers itself, so that a wrong one fails here with the route's name.
    checkResponses: false,
  });
});
afterEach(async () => {
  await h?.close();
});

/** Server-sent events of a stream until it ends or `count` events came (or 2 s passed). */
async function readEvents(response: Response, count: number) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: Array<{ event?: string; data: string }> = [];
  let text = '';
  const deadline = Date.now() + 2_000;
  while (events.length < count && Date.now() < deadline) {
    const chunk = await Promise.race([
      reader.read(),
      new Promise<undefined>((resolve) =>
        setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now())),
      ),
    ]);
    if (!chunk || chunk.done) break;
    text += decoder.decode(chunk.value, { stream: true });
    let end = text.indexOf('\n\n');
    while (end !== -1) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const data = block.split('\n').filter((line) => line.startsWith('data: '));
      if (data.length > 0)
        events.push({
          ...(block.match(/^event: (.*)$/m)?.[1] ? { event: block.match(/^event: (.*)$/m)![1]! } : {}),
          data: data.map((line) => line.slice(6)).join('\n'),
        });
      end = text.indexOf('\n\n');
    }
  }
  await reader.cancel();
  return events;
}

const get = (path: string, token = tokens.read, headers: Record<string, string> = {}) =>
  h.app.request(path, { headers: auth(token, headers) });

async function settle() {
  await h.composed.engine.idle();
}

describe('the OpenAPI document', () => {
  it('lists exactly the routes the app registers, with their methods', () => {
    // Middleware (ALL) is no route; `GET *` serves the dashboard's files, not the API.
    const registered = new Set(
      h.app.routes
        .filter((route) => route.method !== 'ALL' && !(route.method === 'GET' && route.path === '/*'))
        .map((route) => `${route.method} ${route.path}`),
    );
    const documented = new Set<string>();
    const document = openApiDocument() as { paths: Record<string, Record<string, unknown>> };
    for (const [path, operations] of Object.entries(document.paths))
      for (const method of Object.keys(operations))
        documented.add(`${method.toUpperCase()} ${honoPath(path)}`);
    expect([...registered].filter((route) => !documented.has(route))).toEqual([]);
    expect([...documented].filter((route) => !registered.has(route))).toEqual([]);
  });

  it('gives every operation a real success schema, never an empty one', () => {
    const document = openApiDocument() as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>
      >;
    };
    for (const [path, operations] of Object.entries(document.paths))
      for (const [method, operation] of Object.entries(operations)) {
        const success = Object.entries(operation.responses).find(([status]) => status.startsWith('2'));
        const schema = Object.values(success?.[1].content ?? {})[0]?.schema;
        expect(schema, `${method} ${path}`).toBeDefined();
        expect(Object.keys(schema ?? {}).length, `${method} ${path}`).toBeGreaterThan(0);
      }
  });
});

describe('every route answers inside its schema', () => {
  it('walks every route on a real stack', async () => {
    h.registry.push(repo, 'dev-1', digest(1));
    h.registry.push(repo, 'v1.0.0', digest(3));
    expect((await h.app.request(`${stage}/dev/deploy`, post(tokens.deploy, {}))).status).toBe(202);
    await settle();
    const rel = await h.app.request(`${stage}/rel/deploy`, post(tokens.deploy, { tag: 'v1.0.0' }));
    expect(rel.status).toBe(202);
    await settle();
    const [pending] = await h.store.listApprovals({ project: 'web-app', stage: 'prod', status: 'pending' });
    expect(pending).toBeDefined();
    const [devDeploy] = await h.store.listDeploys({ project: 'web-app', stage: 'dev', limit: 1 });

    const calls: Record<RouteName, () => Response | Promise<Response>> = {
      healthz: () => h.app.request('/healthz'),
      readyz: () => h.app.request('/readyz'),
      metrics: () => h.app.request('/metrics'),
      openApi: () => h.app.request('/api/openapi.json'),
      getStatus: () => get('/api/status'),
      getConfig: () => get('/api/config'),
      streamEvents: () => get('/api/events', tokens.read, { 'last-event-id': '0' }),
      login: () =>
        h.app.request('/api/auth/login', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'walker', password }),
        }),
      getSession: async () => {
        const login = await calls.login();
        const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
        return h.app.request('/api/auth/session', { headers: { cookie } });
      },
      logout: async () => {
        const login = await calls.login();
        const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
        const { csrfToken } = (await login.json()) as { csrfToken: string };
        return h.app.request('/api/auth/logout', {
          method: 'POST',
          headers: { cookie, 'x-csrf-token': csrfToken },
        });
      },
      listProjects: () => get('/api/projects'),
      getBoard: () => get('/api/board'),
      getProject: () => get('/api/projects/web-app'),
      getStage: () => get(`${stage}/prod`),
      getStageTags: () => get(`${stage}/dev/tags`),
      getStageHistory: () => get(`${stage}/prod/history`),
      getPlan: () => get('/api/plan?project=web-app'),
      refreshProject: () => h.app.request('/api/projects/web-app/refresh', post(tokens.deploy)),
      refreshStage: () => h.app.request(`${stage}/dev/refresh`, post(tokens.deploy)),
      listDeploys: () => get('/api/deploys?project=web-app&limit=1'),
      getDeploy: () => get(`/api/deploys/${devDeploy!.id}`),
      streamDeployLog: () => get(`/api/deploys/${devDeploy!.id}/logs`),
      listApprovals: () => get('/api/approvals'),
      approve: async () => {
        const response = await h.app.request(
          `/api/approvals/${pending!.id}/approve`,
          post(tokens.deploy, { comment: 'proven on rel' }),
        );
        await settle();
        return response;
      },
      reject: async () => {
        h.registry.push(repo, 'v1.1.0', digest(4));
        await h.app.request(`${stage}/rel/deploy`, post(tokens.deploy, { tag: 'v1.1.0' }));
        await settle();
        const [next] = await h.store.listApprovals({ project: 'web-app', stage: 'prod', status: 'pending' });
        return h.app.request(
          `/api/approvals/${next!.id}/reject`,
          post(tokens.deploy, { comment: 'not today' }),
        );
      },
      listAudit: () => get('/api/audit?limit=5'),
      deployStage: async () => {
        // A release dev does not run yet: the one it runs is a no-op (409).
        h.registry.push(repo, 'dev-3', digest(5));
        const response = await h.app.request(`${stage}/dev/deploy`, post(tokens.deploy, { tag: 'dev-3' }));
        await settle();
        return response;
      },
      cancelDeploy: async () => {
        // A deploy no replica has taken up yet (as one a stopped server left queued).
        const queued = await h.store.createDeploy({
          deploy: {
            id: 'walk-queued',
            project: 'web-app',
            stage: 'dev',
            release: { tag: 'dev-2', digest: digest(2) },
            trigger: 'manual',
            state: 'pending',
            data: {},
          },
        });
        return h.app.request(`/api/deploys/${queued.id}/cancel`, post(tokens.deploy, {}));
      },
      rollbackStage: async () => {
        const response = await h.app.request(`${stage}/rel/rollback`, post(tokens.deploy, {}));
        await settle();
        return response;
      },
      promoteStage: async () => {
        // A release rel proved and prod does not run: promoting what runs is a no-op (409).
        h.registry.push(repo, 'v1.2.0', digest(6));
        await h.app.request(`${stage}/rel/deploy`, post(tokens.deploy, { tag: 'v1.2.0' }));
        await settle();
        return h.app.request(`${stage}/prod/promote`, post(tokens.deploy, {}));
      },
      pinStage: () => h.app.request(`${stage}/rel/pin`, post(tokens.deploy, { tag: 'v1.0.0' })),
      unpinStage: () => h.app.request(`${stage}/rel/unpin`, post(tokens.deploy, {})),
      setAutoDeploy: () => h.app.request(`${stage}/rel/auto-deploy`, post(tokens.deploy, { enabled: false })),
      webhook: () => {
        const request = createMemoryWebhookRequest({
          observations: [
            { eventId: 'walk-1', action: 'pushed', repository: repo, tag: 'dev-1', digest: digest(1) },
          ],
          secret: webhookSecret,
        });
        return h.app.request('/api/webhook/registry', {
          method: 'POST',
          headers: request.headers as Record<string, string>,
          body: request.body,
        });
      },
      ping: () => h.app.request('/ping'),
      pingSlash: () => h.app.request('/ping/'),
      // Label mode is off here (empty list); label-mode.test.ts checks a full answer on a real engine.
      listLabelled: () => get('/api/labels'),
      listRepos: () => get('/repos'),
      getRepoTag: () => get('/tags/web-app.dev'),
      setRepoTag: () => h.app.request('/tags/web-app.dev', post(tokens.deploy, { auto_deploy: true })),
      resetRepoTag: () => h.app.request('/tags/web-app.dev/reset', post(tokens.deploy)),
    };
    for (const name of Object.keys(calls) as RouteName[]) {
      const route: RouteContract = apiRoutes[name];
      const response = await calls[name]();
      const text = route.produces === 'text/event-stream' ? '' : await response.clone().text();
      expect(response.status, `${name}: ${text}`).toBe(route.status ?? 200);
      if (route.produces === 'text/event-stream') {
        const events = await readEvents(response, 5);
        expect(events.length, name).toBeGreaterThan(0);
        for (const event of events) {
          const checked = v.safeParse(route.response, JSON.parse(event.data));
          expect(checked.issues, `${name} ${event.event}: ${event.data}`).toBeUndefined();
        }
      } else {
        const body = route.produces === 'text/plain' ? text : JSON.parse(text);
        const checked = v.safeParse(route.response, body);
        expect(checked.issues, `${name}: ${text.slice(0, 500)}`).toBeUndefined();
      }
    }
  });
});
