// What a client reads: the board kept current by events, a manual stage's available release, stage
// history and what a promoted stage may take, deploy and approval listings, the audit log with who,
// status, the running config with secrets masked, and refresh.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auth, digest, type Harness, harness, post, registryToken, tokens } from './support.ts';

let h: Harness;
const stage = '/api/projects/web-app/stages';
const repo = 'team/web-app';

beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: answers are asserted field by field
const read = async (path: string): Promise<any> => {
  const response = await h.app.request(path, { headers: auth(tokens.read) });
  expect(response.status, `${path}: ${await response.clone().text()}`).toBe(200);
  return response.json();
};
// biome-ignore lint/suspicious/noExplicitAny: answers are asserted field by field
const act = async (path: string, body: unknown = {}, token = tokens.deploy): Promise<any> => {
  const response = await h.app.request(path, post(token, body));
  expect(response.status, `${path}: ${await response.clone().text()}`).toBeLessThan(300);
  await h.composed.engine.idle();
  return response.json();
};

/** rel runs v1.0.0 (by hand), so prod waits for a confirmation of it. */
async function relRuns(tag = 'v1.0.0', n = 3) {
  h.registry.push(repo, tag, digest(n));
  return act(`${stage}/rel/deploy`, { tag });
}

describe('the board', () => {
  it('follows deploys, approvals and switches without a request reading the store each time', async () => {
    const before = await read('/api/board');
    expect(before.projects[0].stages.map((s: { name: string }) => s.name)).toEqual(['dev', 'rel', 'prod']);
    expect(before.projects[0].stages[0]).toEqual({ name: 'dev', autoDeploy: true });
    const { deploy } = await relRuns();
    const board = await read('/api/board');
    const [, rel, prod] = board.projects[0].stages;
    expect(rel).toMatchObject({
      actual: { tag: 'v1.0.0', digest: digest(3) },
      deploy: { id: deploy.id, state: 'succeeded', finished: true, tag: 'v1.0.0', by: 'deployer' },
    });
    expect(prod.approval).toMatchObject({ tag: 'v1.0.0', digest: digest(3) });
    expect(board.lastEventId).toBeGreaterThan(before.lastEventId);
    // Served from memory until something changes: the store is not read for an unchanged board.
    const reads = { count: 0 };
    const listStages = h.store.listStages.bind(h.store);
    const getStage = h.store.getStage.bind(h.store);
    h.store.listStages = (...args) => {
      reads.count += 1;
      return listStages(...args);
    };
    h.store.getStage = (...args) => {
      reads.count += 1;
      return getStage(...args);
    };
    for (let n = 0; n < 5; n++) await read('/api/board');
    await read('/api/projects');
    expect(reads.count).toBe(0);
    await act(`${stage}/dev/auto-deploy`, { enabled: false });
    expect((await read('/api/board')).projects[0].stages[0]).toEqual({ name: 'dev', autoDeploy: false });
    expect(reads.count).toBeGreaterThan(0);
  });

  it('shows a manual stage’s newer release as available until it is deployed', async () => {
    await relRuns();
    h.registry.push(repo, 'v1.1.0', digest(4));
    await h.composed.engine.refresh({ project: 'web-app', stage: 'rel' });
    const rel = (await read('/api/projects/web-app')).stages[1];
    expect(rel.available).toEqual({
      release: { tag: 'v1.1.0', digest: digest(4) },
      reason: 'v1.1.0 is available; auto-deploy is off',
    });
    expect((await read('/api/board')).projects[0].stages[1].available).toEqual({
      tag: 'v1.1.0',
      digest: digest(4),
    });
    await act(`${stage}/rel/deploy`, { tag: 'v1.1.0' });
    expect((await read('/api/projects/web-app')).stages[1].available).toBeNull();
  });
});

describe('history', () => {
  it('lists what succeeded in a stage, and for a promoted stage what its source proved', async () => {
    await relRuns('v1.0.0', 3);
    const [approval] = (await read('/api/approvals')).approvals;
    await act(`/api/approvals/${approval.id}/approve`, { comment: 'proven' });
    await relRuns('v1.1.0', 4);
    const rel = await read(`${stage}/rel/history`);
    expect(rel.promotable).toBeNull();
    expect(
      rel.releases.map((r: { release: { tag: string }; running: boolean; by: string }) => [
        r.release.tag,
        r.running,
        r.by,
      ]),
    ).toEqual([
      ['v1.1.0', true, 'deployer'],
      ['v1.0.0', false, 'deployer'],
    ]);
    const prod = await read(`${stage}/prod/history`);
    expect(prod.releases.map((r: { release: { tag: string } }) => r.release.tag)).toEqual(['v1.0.0']);
    expect(prod.releases[0].by).toBe('deployer');
    expect(prod.promotable.from).toBe('rel');
    expect(
      prod.promotable.releases.map((r: { release: { tag: string }; deployedHere: boolean }) => [
        r.release.tag,
        r.deployedHere,
      ]),
    ).toEqual([
      ['v1.1.0', false],
      ['v1.0.0', true],
    ]);
    expect(prod.promotable.releases[0].succeededAt).toMatch(/^\d{4}-/);
  });
});

describe('listings', () => {
  it('filters deploys by state, trigger and time, pages them, and refuses bad filters naming the parameter', async () => {
    const start = new Date(Date.now() - 1000).toISOString();
    await relRuns('v1.0.0', 3);
    h.registry.push(repo, 'dev-1', digest(1));
    await act(`${stage}/dev/deploy`, { tag: 'dev-1' });
    const manual = await read(`/api/deploys?trigger=manual&state=succeeded&since=${start}`);
    expect(manual.deploys.map((d: { stage: string }) => d.stage)).toEqual(['dev', 'rel']);
    const first = await read('/api/deploys?limit=1');
    expect(first.deploys).toHaveLength(1);
    const second = await read(`/api/deploys?limit=1&before=${first.next}`);
    expect(second.deploys[0].id).not.toBe(first.deploys[0].id);
    expect((await read(`/api/deploys?until=${start}`)).deploys).toEqual([]);
    for (const [query, field] of [
      ['state=sleeping', 'state.0'],
      ['trigger=magic', 'trigger'],
      ['since=yesterday', 'since'],
      ['limit=0', 'limit'],
      [`since=${new Date().toISOString()}&until=${start}`, 'until'],
      ['colour=red', 'colour'],
    ]) {
      const response = await h.app.request(`/api/deploys?${query}`, { headers: auth(tokens.read) });
      expect(response.status, query).toBe(400);
      // biome-ignore lint/suspicious/noExplicitAny: the error body
      expect(((await response.json()) as any).error.fields[0].path, query).toBe(field);
    }
  });

  it('lists approvals by status with their decider, comment and deploy; 404 names an unknown one', async () => {
    await relRuns();
    const [pending] = (await read('/api/approvals')).approvals;
    const { deploy, approval } = await act(`/api/approvals/${pending.id}/approve`, {
      comment: 'ship it <b>now</b>',
    });
    expect(approval).toMatchObject({
      status: 'approved',
      decidedBy: 'deployer',
      comment: 'ship it <b>now</b>',
      deployId: deploy.id,
    });
    expect((await read('/api/approvals')).approvals).toEqual([]);
    expect((await read('/api/approvals?status=approved')).approvals).toEqual([approval]);
    expect((await read('/api/approvals?status=all&project=web-app&stage=prod')).approvals).toHaveLength(1);
    const missing = await h.app.request('/api/approvals/nope/approve', post(tokens.deploy, {}));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { notFound: { kind: 'approval', name: 'nope' } } });
    const unknownProject = await h.app.request('/api/approvals?project=ghost', {
      headers: auth(tokens.read),
    });
    expect(unknownProject.status).toBe(404);
  });

  it('answers a second deploy request for a release under way with that deploy, marked reused', async () => {
    h.registry.push(repo, 'v1.0.0', digest(3));
    await h.composed.engine.stop();
    // Stopped engine: deploys wait in the store, as behind a long one.
    await h.store.createDeploy({
      deploy: {
        id: 'waiting',
        project: 'web-app',
        stage: 'rel',
        release: { tag: 'v1.0.0', digest: digest(3) },
        trigger: 'manual',
        state: 'pending',
        data: {},
      },
    });
    const response = await h.app.request(`${stage}/rel/deploy`, post(tokens.deploy, { tag: 'v1.0.0' }));
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ deploy: { id: 'waiting' }, reused: true });
  });
});

describe('who did what', () => {
  it('records deploys, approvals, pins, toggles and cancels with the caller, newest first, paged', async () => {
    await relRuns();
    const [approval] = (await read('/api/approvals')).approvals;
    await act(`/api/approvals/${approval.id}/reject`, { comment: 'not today' });
    await act(`${stage}/dev/pin`, { tag: 'dev-1' }, tokens.admin);
    await act(`${stage}/dev/unpin`);
    await act(`${stage}/dev/auto-deploy`, { enabled: false });
    const { events, next } = await read('/api/audit?limit=4');
    expect(events.map((e: { action: string; actor: string }) => [e.action, e.actor])).toEqual([
      ['auto-deploy', 'deployer'],
      ['unpin', 'deployer'],
      ['pin', 'admin'],
      ['reject', 'deployer'],
    ]);
    expect(events[3].details).toEqual({ comment: 'not today' });
    const rest = await read(`/api/audit?before=${next}`);
    expect(rest.events.map((e: { action: string }) => e.action)).toEqual(['deploy']);
    expect(rest.next).toBeNull();
    expect((await read('/api/audit?actor=admin')).events.map((e: { action: string }) => e.action)).toEqual([
      'pin',
    ]);
  });
});

describe('status, config and refresh', () => {
  it('tells the version, store, replica and leader, each registry and each stage’s next step', async () => {
    await relRuns();
    // The first poll (at start) found no repository; a refresh lists it.
    await act('/api/projects/web-app/refresh');
    const status = await read('/api/status');
    expect(status.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(status.store).toEqual({ id: h.store.id, durable: true, sharedLeases: true });
    expect(status.replica.leader).toBe(true);
    expect(status.leader).toBe(status.replica.holder);
    expect(status.registries).toEqual([
      expect.objectContaining({
        name: 'local',
        type: 'memory',
        lastPoll: expect.objectContaining({ ok: true }),
      }),
    ]);
    expect(status.stages.find((s: { stage: string }) => s.stage === 'prod').next).toMatchObject({
      action: 'awaiting-confirmation',
      release: { tag: 'v1.0.0' },
    });
  });

  it('shows the running config with the source of each value and every secret masked', async () => {
    const { values } = await read('/api/config');
    const at = (path: string) => values.find((value: { path: string }) => value.path === path);
    expect(at('global.domain')).toEqual({ path: 'global.domain', value: 'example.test', source: 'file' });
    expect(at('global.server.webhook_body_limit')).toMatchObject({ value: 2048, source: 'file' });
    expect(at('global.subdomain_pattern')).toMatchObject({ source: 'default' });
    expect(at('registries.local.webhook_secret')).toEqual({
      path: 'registries.local.webhook_secret',
      value: '********',
      source: 'env',
      secret: true,
    });
    const text = JSON.stringify(values);
    for (const secret of [
      tokens.read,
      tokens.deploy,
      tokens.admin,
      registryToken,
      'webhook-secret-do-not-leak-42',
    ])
      expect(text).not.toContain(secret);
  });

  it('says which values the environment set, over the file or a default', async () => {
    await h.close();
    h = await harness({ env: { DOCKER_WATCHER_LOG_LEVEL: 'debug', DOCKER_WATCHER_POLL_INTERVAL: '7' } });
    const { values } = await read('/api/config');
    const at = (path: string) => values.find((value: { path: string }) => value.path === path);
    expect(at('global.server.log_level')).toEqual({
      path: 'global.server.log_level',
      value: 'debug',
      source: 'env',
    });
    expect(at('global.poll_interval_seconds')).toMatchObject({ value: 7, source: 'env' });
    expect(at('global.domain')).toMatchObject({ source: 'file' });
  });

  it('looks at the registry now for one stage or a project, and records who asked', async () => {
    h.registry.push(repo, 'dev-7', digest(7));
    const { refreshed } = await act(`${stage}/dev/refresh`);
    expect(refreshed).toEqual([
      {
        project: 'web-app',
        stage: 'dev',
        decision: expect.objectContaining({ action: 'deploy', release: { tag: 'dev-7', digest: digest(7) } }),
      },
    ]);
    expect((await read(`${stage}/dev`)).actual).toEqual({ tag: 'dev-7', digest: digest(7) });
    const project = await act('/api/projects/web-app/refresh');
    expect(project.refreshed.map((entry: { stage: string }) => entry.stage)).toEqual(['dev', 'rel', 'prod']);
    expect((await read('/api/audit?action=refresh')).events.map((e: { target: string }) => e.target)).toEqual(
      ['web-app', 'web-app/dev'],
    );
    const unknown = await h.app.request('/api/projects/gh%C3%B6st/refresh', post(tokens.deploy));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({
      error: { message: 'No project "ghöst"', notFound: { name: 'ghöst' } },
    });
  });
});
