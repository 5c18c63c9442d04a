// A canary deploy to Nomad with `promote: confirm`, driven through the server: its config builds the
// Nomad target (against the loopback fake Nomad of packages/target-nomad/test, written from Nomad's
// documented API shapes), the deploy opens an approval after its health gate, and approving it through
// POST /api/approvals/:id/approve promotes the canaries and completes the deploy.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMemoryLogger,
  createMemoryRegistry,
  createMemoryReverseProxy,
  type MemoryRegistry,
} from '@docker-watcher/core';
import { createSqliteStateStore } from '@docker-watcher/store-sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeNomad, startFakeNomad } from '../../../packages/target-nomad/test/support/fake-nomad.ts';
import { type Composed, compose } from '../src/compose.ts';
import { loadConfigText } from '../src/config/load.ts';
import { createApp } from '../src/http/app.ts';
import { auth, digest, post, env as tokenEnv, tokens } from './support.ts';

const image = 'registry.test/team/web-app';
const nomadToken = 'nomad-token-for-promotion-5e1c';
const bound = { timeout: 60_000, interval: 50 };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function world(): Promise<{
  nomad: FakeNomad;
  registry: MemoryRegistry;
  composed: Composed;
  app: ReturnType<typeof createApp>;
}> {
  const nomad = await startFakeNomad({ tokens: { [nomadToken]: 'write' } });
  // The platform team's job: one canary per rollout, no auto_revert, version 0 stable.
  nomad.seed({ id: 'web-app-prod', image: `${image}:0.9.0`, canary: 1 });
  const config = await loadConfigText(
    `
global:
  domain: example.test
  store: "memory:"
  target:
    type: nomad
    address: ${nomad.url}
    token_env: NOMAD_TOKEN
    promote: confirm
    blocking_query_wait_ms: 2000
    deployment_timeout_ms: 30000
    jobs:
      "*": { job: "{project}-{stage}", endpoint: { host: "{project}-{stage}.service.consul", port: 8080 } }
  proxy: { type: memory }
  poll_interval_seconds: 0
  server:
    tokens:
      - { name: deployer, token_env: DW_DEPLOY, scopes: [deploy] }
      - { name: admin, token_env: DW_ADMIN, scopes: [admin] }
registries:
  local: { type: memory }
projects:
  web-app:
    registry: local
    image: ${image}
    port: 8080
    healthcheck: { interval_ms: 10, timeout_ms: 1000, retries: 2 }
    stages:
      prod: { tag_pattern: "v*", auto_deploy: true }
`,
    { ...tokenEnv, NOMAD_TOKEN: nomadToken },
  );
  const dir = mkdtempSync(join(tmpdir(), 'dw-nomad-promotion-'));
  const store = createSqliteStateStore({ path: join(dir, 'state.db') });
  const registry = createMemoryRegistry();
  const composed = compose(config, {
    logger: createMemoryLogger(),
    store,
    proxy: createMemoryReverseProxy(),
    registries: { local: registry },
    listenPort: 0,
  });
  const app = createApp(composed, { heartbeatMs: 50, checkResponses: true });
  cleanups.push(async () => {
    await composed.dispose();
    await store.dispose();
    await nomad.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { nomad, registry, composed, app };
}

const get = async <T>(app: ReturnType<typeof createApp>, path: string): Promise<T> => {
  const response = await app.request(path, { headers: auth(tokens.admin) });
  expect(response.status, path).toBe(200);
  return (await response.json()) as T;
};

interface Approval {
  id: string;
  kind?: string;
  status: string;
  deployId?: string;
}
interface Deploy {
  id: string;
  state: string;
  finished: boolean;
}

describe('a canary deploy to Nomad with promote: confirm', () => {
  it('waits for an approval after the gate; approving it through the API promotes the canaries and completes the deploy', async () => {
    const w = await world();
    const release = w.registry.push('team/web-app', 'v1.0.0', digest(1));
    await w.composed.engine.start();

    // The gate passed on healthy canaries: the deploy waits for a person, with the approval it opened.
    await expect
      .poll(async () => (await get<{ approvals: Approval[] }>(w.app, '/api/approvals')).approvals, bound)
      .toEqual([expect.objectContaining({ kind: 'promotion', status: 'pending' })]);
    const [approval] = (await get<{ approvals: Approval[] }>(w.app, '/api/approvals')).approvals;
    const deployId = approval!.deployId!;
    expect((await get<{ deploy: Deploy }>(w.app, `/api/deploys/${deployId}`)).deploy).toMatchObject({
      state: 'health-checking',
      finished: false,
    });
    expect(w.nomad.requestsTo('POST', /^\/v1\/deployment\/promote\//)).toHaveLength(0);

    const approved = await w.app.request(
      `/api/approvals/${approval!.id}/approve`,
      post(tokens.deploy, { comment: 'canary error rate is flat' }),
    );
    expect(approved.status).toBe(202);
    expect(await approved.json()).toMatchObject({
      deploy: { id: deployId },
      approval: { id: approval!.id, status: 'approved', decidedBy: 'deployer', kind: 'promotion' },
    });

    await expect
      .poll(
        async () => (await get<{ deploy: Deploy }>(w.app, `/api/deploys/${deployId}`)).deploy.state,
        bound,
      )
      .toBe('succeeded');
    expect(w.nomad.requestsTo('POST', /^\/v1\/deployment\/promote\//)).toHaveLength(1);
    const job = w.nomad.job('web-app-prod');
    expect(job?.TaskGroups[0]?.Tasks[0]?.Config.image).toBe(`${image}@${release}`);
    expect(w.nomad.deploymentsOf('web-app-prod').find((d) => d.JobVersion === job?.Version)?.Status).toBe(
      'successful',
    );
  });
});
