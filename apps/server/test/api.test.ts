import { hostname } from 'node:os';
import { createMemoryWebhookRequest } from '@docker-watcher/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compose } from '../src/compose.ts';
import { loadConfigText } from '../src/config/load.ts';
import {
  auth,
  configText,
  digest,
  env,
  type Harness,
  harness,
  post,
  registryToken,
  tokens,
  webhookSecret,
} from './support.ts';

let h: Harness;
const stage = '/api/projects/web-app/stages';
const repo = 'team/web-app';

beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: response shapes are asserted field by field
const json = async (response: Response) => (await response.json()) as Record<string, any>;

async function deployDev(tag = 'dev-1', n = 1) {
  h.registry.push(repo, tag, digest(n));
  const response = await h.app.request(`${stage}/dev/deploy`, post(tokens.deploy, { tag }));
  expect(response.status).toBe(202);
  const { deploy } = await json(response);
  await h.composed.engine.idle();
  return deploy as { id: string };
}

describe('auth', () => {
  it('needs a token for reads and mutations: 401 without or with a wrong one', async () => {
    for (const [path, init] of [
      ['/api/projects', {}],
      [`${stage}/dev/deploy`, post(undefined, {})],
      ['/api/deploys', { headers: auth('wrong-token-0123456789') }],
    ] as const) {
      const response = await h.app.request(path, init);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('Bearer');
      expect((await json(response)).error.code).toBe('UNAUTHORIZED');
    }
  });

  it('answers 403 to a token without the scope', async () => {
    const response = await h.app.request(`${stage}/dev/deploy`, post(tokens.read, {}));
    expect(response.status).toBe(403);
    expect(await json(response)).toEqual({
      error: { code: 'FORBIDDEN', message: 'Token reader lacks the deploy scope' },
    });
  });

  it('lets admin do what deploy and read do', async () => {
    expect((await h.app.request('/api/projects', { headers: auth(tokens.admin) })).status).toBe(200);
    expect((await h.app.request('/api/projects', { headers: auth(tokens.deploy) })).status).toBe(200);
  });
});

describe('projects and stages', () => {
  it('lists projects with their stages', async () => {
    const response = await h.app.request('/api/projects', { headers: auth(tokens.read) });
    const body = await json(response);
    expect(body.projects).toHaveLength(1);
    expect(body.projects[0].id).toBe('web-app');
    expect(body.projects[0].stages.map((s: { name: string }) => s.name)).toEqual(['dev', 'rel', 'prod']);
    expect(body.projects[0].stages[2]).toMatchObject({
      host: 'app.example.test',
      confirm: true,
      promoteFrom: 'rel',
    });
  });

  it('shows one project and one stage, 404 for unknown ones', async () => {
    expect((await h.app.request('/api/projects/web-app', { headers: auth(tokens.read) })).status).toBe(200);
    const stageResponse = await h.app.request(`${stage}/dev`, { headers: auth(tokens.read) });
    expect(stageResponse.status).toBe(200);
    expect(await json(stageResponse)).toMatchObject({ project: 'web-app', name: 'dev', autoDeploy: true });
    const unknownProject = await h.app.request('/api/projects/nope', { headers: auth(tokens.read) });
    expect(unknownProject.status).toBe(404);
    expect((await json(unknownProject)).error).toEqual({
      code: 'NOT_FOUND',
      message: 'No project "nope"',
      notFound: { kind: 'project', name: 'nope' },
    });
    const unknownStage = await h.app.request(`${stage}/qa/deploy`, post(tokens.deploy, {}));
    expect(unknownStage.status).toBe(404);
    expect((await json(unknownStage)).error).toMatchObject({
      message: 'No stage "qa" in project "web-app"',
      notFound: { kind: 'stage', name: 'qa' },
    });
  });

  it('shows what the policy selects and the plan', async () => {
    await h.close();
    h = await harness({ start: false });
    h.registry.push(repo, 'dev-1', digest(1));
    h.registry.push(repo, 'dev-2', digest(2));
    h.registry.push(repo, 'v1.0.0', digest(3));
    await h.composed.engine.start();
    const tags = await json(await h.app.request(`${stage}/dev/tags`, { headers: auth(tokens.read) }));
    expect(tags).toMatchObject({ allowed: ['dev-1', 'dev-2'], selected: 'dev-2' });
    await h.composed.engine.idle();
    const plan = await json(await h.app.request('/api/plan?project=web-app', { headers: auth(tokens.read) }));
    expect(
      plan.plan.find((p: { stage: string }) => p.stage === 'rel').decision,
      JSON.stringify(plan),
    ).toMatchObject({ action: 'hold' });
    expect(plan.plan.find((p: { stage: string }) => p.stage === 'dev').decision.reason).toBe(
      'dev-2 runs already',
    );
  });
});

describe('deploys', () => {
  it('deploys a tag (202), records it and lists it', async () => {
    const deploy = await deployDev();
    const one = await json(await h.app.request(`/api/deploys/${deploy.id}`, { headers: auth(tokens.read) }));
    expect(one.deploy).toMatchObject({ id: deploy.id, state: 'succeeded', release: { tag: 'dev-1' } });
    const list = await json(
      await h.app.request('/api/deploys?project=web-app&limit=5', { headers: auth(tokens.read) }),
    );
    expect(list.deploys.map((d: { id: string }) => d.id)).toContain(deploy.id);
    expect((await h.app.request('/api/deploys/nope', { headers: auth(tokens.read) })).status).toBe(404);
  });

  it('answers 400 with field errors to bad bodies and queries', async () => {
    const badTag = await h.app.request(
      `${stage}/dev/deploy`,
      post(tokens.deploy, { tag: 'not a tag', extra: 1 }),
    );
    expect(badTag.status).toBe(400);
    const body = await json(badTag);
    expect(body.error.code).toBe('BAD_REQUEST');
    expect(body.error.fields.map((f: { path: string }) => f.path).sort()).toEqual(['extra', 'tag']);
    const notJson = await h.app.request(`${stage}/dev/deploy`, post(tokens.deploy, '{'));
    expect(notJson.status).toBe(400);
    const badLimit = await h.app.request('/api/deploys?limit=1000', { headers: auth(tokens.read) });
    expect(badLimit.status).toBe(400);
    expect((await json(badLimit)).error.fields[0].path).toBe('limit');
    const badToggle = await h.app.request(
      `${stage}/dev/auto-deploy`,
      post(tokens.deploy, { enabled: 'yes' }),
    );
    expect(badToggle.status).toBe(400);
    const badPin = await h.app.request(`${stage}/dev/pin`, post(tokens.deploy, {}));
    expect(badPin.status).toBe(400);
  });

  it('refuses a tag the policy forbids (400) and an unknown tag (404)', async () => {
    h.registry.push(repo, 'v1.0.0', digest(9));
    const forbidden = await h.app.request(`${stage}/dev/deploy`, post(tokens.deploy, { tag: 'v1.0.0' }));
    expect(forbidden.status).toBe(400);
    const missing = await h.app.request(`${stage}/dev/deploy`, post(tokens.deploy, { tag: 'dev-404' }));
    expect(missing.status).toBe(404);
  });

  it('rolls back to the previous release, and 409 when there is none', async () => {
    const none = await h.app.request(`${stage}/dev/rollback`, post(tokens.deploy));
    expect(none.status).toBe(409);
    await deployDev('dev-1', 1);
    await deployDev('dev-2', 2);
    const response = await h.app.request(`${stage}/dev/rollback`, post(tokens.deploy));
    expect(response.status).toBe(202);
    expect((await json(response)).deploy.release.tag).toBe('dev-1');
  });

  it('promotes only what succeeded in the source stage, after confirmation', async () => {
    const refused = await h.app.request(`${stage}/prod/promote`, post(tokens.deploy, {}));
    expect(refused.status).toBe(409);
    const notPromoted = await h.app.request(`${stage}/dev/promote`, post(tokens.deploy, {}));
    expect(notPromoted.status).toBe(400);
    h.registry.push(repo, 'v1.0.0', digest(5));
    const rel = await h.app.request(`${stage}/rel/deploy`, post(tokens.deploy, { tag: 'v1.0.0' }));
    expect(rel.status).toBe(202);
    await h.composed.engine.idle();
    // prod confirms: the engine asked for an approval once rel succeeded.
    const approvals = await json(await h.app.request('/api/approvals', { headers: auth(tokens.read) }));
    expect(approvals.approvals).toHaveLength(1);
    const id = approvals.approvals[0].id as string;
    expect((await h.app.request(`/api/approvals/${id}/approve`, post(tokens.read))).status).toBe(403);
    const approved = await h.app.request(`/api/approvals/${id}/approve`, post(tokens.deploy));
    expect(approved.status).toBe(202);
    expect((await json(approved)).deploy.release.digest).toBe(digest(5));
    expect((await h.app.request(`/api/approvals/${id}/reject`, post(tokens.deploy))).status).toBe(409);
    expect((await h.app.request('/api/approvals/nope/approve', post(tokens.deploy))).status).toBe(404);
    const promote = await h.app.request(
      `${stage}/prod/promote`,
      post(tokens.deploy, { digest: 'sha256:xyz' }),
    );
    expect(promote.status).toBe(400);
  });

  it('pins, unpins and toggles auto-deploy', async () => {
    h.registry.push(repo, 'dev-7', digest(7));
    const pinned = await json(await h.app.request(`${stage}/dev/pin`, post(tokens.deploy, { tag: 'dev-7' })));
    expect(pinned.pin).toBe('dev-7');
    const unpinned = await json(await h.app.request(`${stage}/dev/unpin`, post(tokens.deploy)));
    expect(unpinned.pin).toBeNull();
    const off = await json(
      await h.app.request(`${stage}/dev/auto-deploy`, post(tokens.deploy, { enabled: false })),
    );
    expect(off.autoDeploy).toBe(false);
  });

  it('cancels a running deploy; a finished one is 409, an unknown one 404', async () => {
    h.target.faults.delay('checkHealth', 60_000);
    h.registry.push(repo, 'dev-3', digest(3));
    const { deploy } = await json(
      await h.app.request(`${stage}/dev/deploy`, post(tokens.deploy, { tag: 'dev-3' })),
    );
    await expect
      .poll(async () => (await h.store.getDeploy({ id: deploy.id }))?.state)
      .toBe('health-checking');
    const cancelled = await h.app.request(`/api/deploys/${deploy.id}/cancel`, post(tokens.deploy));
    expect(cancelled.status).toBe(200);
    // The answer comes at once; the rollback ends in the background.
    expect(['rolling-back', 'rolled-back']).toContain((await json(cancelled)).deploy.state);
    await h.composed.engine.idle();
    expect((await h.store.getDeploy({ id: deploy.id }))?.state).toBe('rolled-back');
    expect((await h.app.request(`/api/deploys/${deploy.id}/cancel`, post(tokens.deploy))).status).toBe(409);
    expect((await h.app.request('/api/deploys/nope/cancel', post(tokens.deploy))).status).toBe(404);
  });
});

describe('deploy logs (SSE)', () => {
  it('replays the lines of a finished deploy, then ends', async () => {
    const deploy = await deployDev();
    const response = await h.app.request(`/api/deploys/${deploy.id}/logs`, { headers: auth(tokens.read) });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const text = await response.text();
    const logs = text.split('\n\n').filter((block) => block.includes('event: log'));
    const stored = await h.store.readLog({ deployId: deploy.id });
    expect(stored.length).toBeGreaterThan(0);
    expect(logs).toHaveLength(stored.length);
    expect(text).toContain(`id: ${stored[0]!.seq}`);
    expect(text).toMatch(/event: end\ndata: \{"state":"succeeded"\}/);
  });

  it('replays earlier lines, then streams live ones until the deploy ends', async () => {
    h.target.faults.delay('checkHealth', 300);
    h.registry.push(repo, 'dev-4', digest(4));
    const { deploy } = await json(
      await h.app.request(`${stage}/dev/deploy`, post(tokens.deploy, { tag: 'dev-4' })),
    );
    await expect.poll(async () => (await h.store.readLog({ deployId: deploy.id })).length).toBeGreaterThan(0);
    const before = (await h.store.readLog({ deployId: deploy.id })).length;
    const response = await h.app.request(`/api/deploys/${deploy.id}/logs`, { headers: auth(tokens.read) });
    const text = await response.text();
    const seqs = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    const all = await h.store.readLog({ deployId: deploy.id });
    expect(all.length).toBeGreaterThan(before);
    expect(seqs).toEqual(all.map((line) => line.seq));
    expect(text).toContain('event: end');
  });

  it('resumes after Last-Event-ID and 404s an unknown deploy', async () => {
    const deploy = await deployDev();
    const stored = await h.store.readLog({ deployId: deploy.id });
    const response = await h.app.request(`/api/deploys/${deploy.id}/logs`, {
      headers: auth(tokens.read, { 'last-event-id': String(stored[0]!.seq) }),
    });
    const seqs = [...(await response.text()).matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(seqs).toEqual(stored.slice(1).map((line) => line.seq));
    expect((await h.app.request('/api/deploys/nope/logs', { headers: auth(tokens.read) })).status).toBe(404);
  });
});

describe('webhooks', () => {
  const hook = (body: Uint8Array, headers: Record<string, string>) => ({
    method: 'POST',
    headers,
    body,
  });

  it('accepts a signed webhook with 202 and deploys asynchronously', async () => {
    h.registry.push(repo, 'dev-9', digest(9));
    const request = createMemoryWebhookRequest({
      observations: [
        { eventId: 'evt-1', action: 'pushed', repository: repo, tag: 'dev-9', digest: digest(9) },
      ],
      secret: webhookSecret,
    });
    const response = await h.app.request(
      '/api/webhook/registry',
      hook(request.body, request.headers as Record<string, string>),
    );
    expect(response.status).toBe(202);
    expect(await json(response)).toEqual({ accepted: 1 });
    await expect
      .poll(async () => (await h.store.getStage({ project: 'web-app', stage: 'dev' }))?.actual?.tag, {
        timeout: 5000,
      })
      .toBe('dev-9');
    // The same event again is a replay: accepted, nothing new.
    const replay = await h.app.request(
      '/api/webhook/registry',
      hook(request.body, request.headers as Record<string, string>),
    );
    expect(await json(replay)).toEqual({ accepted: 0 });
  });

  it('answers 401 to a forged webhook, 413 to a big one, 404 to a source without a registry', async () => {
    const request = createMemoryWebhookRequest({
      observations: [{ action: 'pushed', repository: repo, tag: 'dev-1' }],
      secret: 'not-the-secret',
    });
    const forged = await h.app.request(
      '/api/webhook/registry',
      hook(request.body, request.headers as Record<string, string>),
    );
    expect(forged.status).toBe(401);
    const big = await h.app.request(
      '/api/webhook/registry',
      hook(new Uint8Array(4096).fill(32), { 'content-type': 'application/json' }),
    );
    expect(big.status).toBe(413);
    expect((await json(big)).error.code).toBe('BAD_REQUEST');
    const gitea = await h.app.request('/api/webhook/gitea', hook(new Uint8Array(2), {}));
    expect(gitea.status).toBe(404);
    const metrics = await (await h.app.request('/metrics')).text();
    expect(metrics).toContain('docker_watcher_webhooks_total{source="registry",outcome="unauthorized"} 1');
    expect(metrics).toContain('docker_watcher_webhooks_total{source="registry",outcome="too_large"} 1');
  });
});

describe('registrywatcher API', () => {
  // The shapes of registrywatcher's README (Endpoints): /ping/ -> { message }, /repos -> a map of
  // repo -> { auto_deploy, pinned_tag, pinned_tag_value, tags }, GET /tags/<repo> -> { repo_tag } or
  // 400 { message }, POST /tags/<repo>[/reset] -> { message }.
  it('answers /ping/ with pong, lists repos and tags in its documented shapes', async () => {
    for (const path of ['/ping', '/ping/'])
      expect(await json(await h.app.request(path))).toEqual({ message: 'pong' });
    h.registry.push(repo, 'dev-1', digest(3));
    h.registry.push(repo, 'v1.0.0', digest(1));
    h.registry.push(repo, 'v1.1.0', digest(2));
    const repos = await json(await h.app.request('/repos', { headers: auth(tokens.read) }));
    expect(Object.keys(repos)).toEqual(['web-app.dev', 'web-app.rel', 'web-app.prod']);
    expect(repos['web-app.rel']).toEqual({
      auto_deploy: false,
      pinned_tag: '',
      pinned_tag_value: 'v1.1.0',
      tags: ['v1.0.0', 'v1.1.0'],
      project: 'web-app',
      stage: 'rel',
      deployed_tag: '',
      deployed_digest: '',
    });
    expect(repos['web-app.dev']).toMatchObject({ auto_deploy: true, pinned_tag: '', tags: ['dev-1'] });
    const tags = await json(await h.app.request('/tags/web-app.rel', { headers: auth(tokens.read) }));
    expect(tags).toMatchObject({ repo_tag: 'v1.1.0', pinned_tag: '' });
    const unknown = await h.app.request('/tags/nope', { headers: auth(tokens.read) });
    expect(unknown.status).toBe(400);
    expect(await json(unknown)).toMatchObject({ message: 'No watched repo nope' });
  });

  it('POST /tags/:repo pins ("" unpins), sets auto_deploy and deploys; reset unpins', async () => {
    h.registry.push(repo, 'v1.0.0', digest(1));
    h.registry.push(repo, 'v1.1.0', digest(2));
    const pinned = await h.app.request(
      '/tags/web-app.rel',
      post(tokens.deploy, { pinned_tag: 'v1.0.0', auto_deploy: false }),
    );
    expect(pinned.status).toBe(200);
    const body = await json(pinned);
    expect(body).toMatchObject({
      message: 'web-app.rel: deploying v1.0.0',
      pinned_tag: 'v1.0.0',
      pinned_tag_value: 'v1.0.0',
      auto_deploy: false,
    });
    expect(
      await json(await h.app.request('/tags/web-app.rel', { headers: auth(tokens.read) })),
    ).toMatchObject({
      repo_tag: 'v1.0.0',
    });
    await h.composed.engine.idle();
    expect((await h.store.getDeploy({ id: body.deploy_id }))?.release.tag).toBe('v1.0.0');
    const unpinned = await json(
      await h.app.request('/tags/web-app.rel', post(tokens.deploy, { pinned_tag: '' })),
    );
    expect(unpinned, JSON.stringify(unpinned)).toHaveProperty('pinned_tag');
    expect(unpinned.pinned_tag).toBe('');
    await h.composed.engine.idle();
    expect((await h.store.getDeploy({ id: unpinned.deploy_id }))?.release.tag).toBe('v1.1.0');
    const bad = await h.app.request('/tags/web-app.rel', post(tokens.deploy, { pinned_tag: 'a b' }));
    expect(bad.status).toBe(400);
    expect((await json(bad)).message).toBe('Invalid request body');
    // "at least 1 argument provided"
    const empty = await h.app.request('/tags/web-app.rel', post(tokens.deploy, {}));
    expect(empty.status).toBe(400);
    expect((await json(empty)).message).toBe('Nothing to change');
    expect((await h.app.request('/tags/nope', post(tokens.deploy, { auto_deploy: true }))).status).toBe(400);
    expect((await h.app.request('/tags/web-app.rel', post(tokens.read, {}))).status).toBe(403);
    // Deploying what runs already is a no-op that says so.
    const again = await h.app.request('/tags/web-app.rel', post(tokens.deploy, { auto_deploy: false }));
    expect(again.status).toBe(200);
    expect((await json(again)).message).toBe('web-app.rel: v1.1.0 runs already');
    await h.app.request(
      '/tags/web-app.rel',
      post(tokens.deploy, { pinned_tag: 'v1.0.0', auto_deploy: false }),
    );
    const reset = await json(await h.app.request('/tags/web-app.rel/reset', post(tokens.deploy)));
    // Only the pin goes back to its default; auto_deploy stays as it was set.
    expect(reset).toMatchObject({
      message: 'web-app.rel: pinned_tag reset',
      pinned_tag: '',
      pinned_tag_value: 'v1.1.0',
      auto_deploy: false,
    });
  });
});

describe('operations', () => {
  it('names itself among replicas by host and port (stable across restarts), or by replica_name', async () => {
    const holder = async (text: string, listenPort?: number) =>
      compose(
        await loadConfigText(text, env),
        listenPort === undefined ? {} : { listenPort },
      ).engine.leadership().holder;
    expect(await holder(configText)).toBe(`${hostname()}:8080`);
    expect(await holder(configText, 9090)).toBe(`${hostname()}:9090`);
    expect(await holder(configText, 0)).not.toBe(await holder(configText, 0));
    expect(
      await holder(
        configText.replace('    webhook_body_limit', '    replica_name: blue-1\n    webhook_body_limit'),
      ),
    ).toBe('blue-1');
  });

  it('reports which of two replicas on one store leads', async () => {
    const second = await harness({ storeFile: h.storeFile });
    try {
      const leading = async (app: typeof h.app) =>
        /^docker_watcher_leader\{holder="[^"]+"\} (\d)$/m.exec(
          await (await app.request('/metrics')).text(),
        )?.[1];
      expect(await leading(h.app)).toBe('1');
      expect(await leading(second.app)).toBe('0');
    } finally {
      await second.composed.dispose();
      await second.store.dispose();
    }
  });

  it('serves health, readiness, metrics and the OpenAPI document', async () => {
    expect(await json(await h.app.request('/healthz'))).toEqual({ status: 'ok' });
    expect((await h.app.request('/readyz')).status).toBe(200);
    await deployDev();
    const metrics = await (await h.app.request('/metrics')).text();
    expect(metrics).toContain('docker_watcher_deploys_total{outcome="succeeded"} 1');
    expect(metrics).toContain('docker_watcher_deploy_duration_seconds_count 1');
    expect(metrics).toContain('docker_watcher_deploy_queue_depth 0');
    expect(metrics).toMatch(/^docker_watcher_leader\{holder="[^"]+"\} 1$/m);
    expect(metrics).toMatch(
      /docker_watcher_registry_requests_total\{registry="local",operation="resolveReference",status="ok"\} \d+/,
    );
    const openapi = await json(await h.app.request('/api/openapi.json'));
    expect(openapi.openapi).toBe('3.1.0');
    for (const path of ['/api/projects', '/api/deploys/{id}/logs', '/tags/{repo}', '/api/webhook/{source}'])
      expect(openapi.paths[path]).toBeDefined();
  });

  it('answers unknown routes with a JSON 404 and never shows a stack', async () => {
    // Page paths belong to the dashboard (its not-found page); the API's own paths answer JSON.
    const response = await h.app.request('/api/nope');
    expect(response.status).toBe(404);
    expect((await json(response)).error.code).toBe('NOT_FOUND');
    h.store.dispose();
    const broken = await h.app.request('/api/deploys', { headers: auth(tokens.read) });
    const text = await broken.text();
    expect(broken.status).toBeGreaterThanOrEqual(500);
    expect(text).not.toMatch(/at .*\.ts:\d+/);
  });

  it('never puts secrets into responses or logs', async () => {
    await deployDev();
    const bodies: string[] = [];
    for (const path of ['/api/projects', '/api/openapi.json', '/repos', '/api/deploys', '/metrics'])
      bodies.push(await (await h.app.request(path, { headers: auth(tokens.read) })).text());
    h.composed.logger.info(`a message with ${webhookSecret}`, { token: tokens.admin });
    const logs = JSON.stringify(h.logs.entries);
    for (const secret of [webhookSecret, tokens.read, tokens.deploy, tokens.admin, registryToken]) {
      for (const body of bodies) expect(body).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });
});
