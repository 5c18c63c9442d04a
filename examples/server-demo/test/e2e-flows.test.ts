// The product as a user meets it: a real registry notifies the server (webhooks only, no polling),
// which deploys on a real Docker Engine behind a real Caddy, with state in SQLite.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../src/stack.ts';
import { waitFor } from '../src/wait-for.ts';
import {
  counter,
  deploysOf,
  finished,
  pendingApproval,
  pendingApprovals,
  running,
  servedBody,
  serves,
  stageOf,
} from './support.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    pollIntervalSeconds: 0,
    projects: {
      flow: { repository: 'e2e/flow', stages: { dev: { tag_pattern: 'dev-*', auto_deploy: true } } },
      confirm: {
        repository: 'e2e/confirm',
        stages: { rel: { tag_pattern: 'v*', auto_deploy: true, confirm: true } },
      },
      promo: {
        repository: 'e2e/promo',
        stages: {
          rel: { tag_pattern: 'v*', auto_deploy: true },
          prod: { tag_pattern: 'v*', auto_deploy: true, confirm: true, promote_from: 'rel' },
        },
      },
      pinned: {
        repository: 'e2e/pinned',
        stages: { hotfix: { pinned_tag: 'v1.4.2', auto_deploy: true } },
      },
      toggle: { repository: 'e2e/toggle', stages: { dev: { tag_pattern: 'dev-*', auto_deploy: true } } },
    },
  });
}, 120_000);

afterAll(async () => {
  await stack?.dispose();
});

describe('push → registry notification → deploy → served through Caddy', () => {
  it('deploys a pushed dev tag by digest and serves it on its subdomain', async () => {
    const accepted = await counter(stack, 'docker_watcher_webhooks_total', { outcome: 'accepted' });
    const pushed = await stack.push('v1', 'e2e/flow', 'dev-1');
    const deploy = await finished(stack, 'flow', 'dev', 'dev-1');
    expect(deploy).toMatchObject({ state: 'succeeded', trigger: 'auto', release: { digest: pushed.digest } });
    await serves(stack, 'flow', 'dev', 'v1');
    // The registry's notification started it: polling is off.
    expect(await counter(stack, 'docker_watcher_webhooks_total', { outcome: 'accepted' })).toBeGreaterThan(
      accepted,
    );
    expect(await running(stack, 'flow')).toEqual([{ stage: 'dev', digest: pushed.digest }]);
  });

  it('rolls a broken tag back: its health check fails and the old release keeps serving', async () => {
    const before = await stageOf(stack, 'flow', 'dev');
    await stack.push('unhealthy', 'e2e/flow', 'dev-2');
    const deploy = await finished(stack, 'flow', 'dev', 'dev-2');
    expect(deploy.state).toBe('rolled-back');
    expect(deploy.error?.message).toMatch(/health/);
    expect(await servedBody(stack, 'flow', 'dev')).toBe('200 v1');
    expect((await stageOf(stack, 'flow', 'dev')).actual).toEqual(before.actual);
    // The failed candidate is gone; only the old release runs.
    expect(await running(stack, 'flow')).toEqual([{ stage: 'dev', digest: before.actual?.digest }]);
  });

  it('rejects a forged notification and changes nothing', async () => {
    const response = await fetch(`${stack.server.url}/api/webhook/registry`, {
      method: 'POST',
      headers: { authorization: 'Bearer not-the-secret', 'content-type': 'application/json' },
      body: JSON.stringify({ events: [] }),
    });
    expect(response.status).toBe(401);
    expect(await servedBody(stack, 'flow', 'dev')).toBe('200 v1');
  });
});

describe('confirm', () => {
  it('holds a release until it is confirmed, then deploys it', async () => {
    const pushed = await stack.push('v1', 'e2e/confirm', 'v1.0.0');
    const approval = await pendingApproval(stack, 'confirm', 'rel');
    expect(approval.release).toEqual({ tag: 'v1.0.0', digest: pushed.digest });
    expect(await deploysOf(stack, 'confirm', 'rel')).toEqual([]);
    expect((await stack.served('confirm', 'rel')).body).not.toBe('v1\n');

    await stack.api(`/api/approvals/${approval.id}/approve`, { body: {} });
    const deploy = await finished(stack, 'confirm', 'rel', 'v1.0.0');
    expect(deploy.state).toBe('succeeded');
    await serves(stack, 'confirm', 'rel', 'v1');
    expect(await pendingApprovals(stack, 'confirm', 'rel')).toEqual([]);
  });

  it('never deploys a rejected release', async () => {
    await stack.push('v2', 'e2e/confirm', 'v1.1.0');
    const approval = await waitFor('the confirmation request of v1.1.0', async () =>
      (await pendingApprovals(stack, 'confirm', 'rel')).find((a) => a.release.tag === 'v1.1.0'),
    );
    await stack.api(`/api/approvals/${approval.id}/reject`, { body: {} });
    expect(await pendingApprovals(stack, 'confirm', 'rel')).toEqual([]);
    expect((await deploysOf(stack, 'confirm', 'rel')).map((d) => d.release.tag)).toEqual(['v1.0.0']);
    expect(await servedBody(stack, 'confirm', 'rel')).toBe('200 v1');
  });
});

describe('promotion by digest', () => {
  it('deploys to prod exactly the digest rel proved, after a confirmation', async () => {
    const pushed = await stack.push('v2', 'e2e/promo', 'v2.0.0');
    const rel = await finished(stack, 'promo', 'rel', 'v2.0.0');
    expect(rel.state).toBe('succeeded');
    const approval = await pendingApproval(stack, 'promo', 'prod');
    expect(approval.release).toEqual({ tag: 'v2.0.0', digest: pushed.digest });

    // The tag moves on in the registry; prod still gets what rel proved.
    await stack.push('v1', 'e2e/promo', 'v2.0.0');
    await stack.api(`/api/approvals/${approval.id}/approve`, { body: {} });
    const prod = await finished(stack, 'promo', 'prod', 'v2.0.0');
    expect(prod).toMatchObject({
      state: 'succeeded',
      trigger: 'promotion',
      release: { digest: pushed.digest },
    });
    await serves(stack, 'promo', 'prod', 'v2');
    const prodContainers = (await running(stack, 'promo')).filter((c) => c.stage === 'prod');
    expect(prodContainers).toEqual([{ stage: 'prod', digest: pushed.digest }]);
  });
});

describe('a pinned tag', () => {
  it('is redeployed when its digest changes', async () => {
    const first = await stack.push('v1', 'e2e/pinned', 'v1.4.2');
    expect((await finished(stack, 'pinned', 'hotfix', 'v1.4.2')).release.digest).toBe(first.digest);
    await serves(stack, 'pinned', 'hotfix', 'v1');
    // A newer tag is not the pin: it is ignored.
    await stack.push('v2', 'e2e/pinned', 'v1.5.0');

    const second = await stack.push('v2', 'e2e/pinned', 'v1.4.2');
    expect(second.digest).not.toBe(first.digest);
    const redeploy = await waitFor('the redeploy of the new digest', async () =>
      (await deploysOf(stack, 'pinned', 'hotfix')).find(
        (d) => d.release.digest === second.digest && d.finished,
      ),
    );
    expect(redeploy).toMatchObject({ state: 'succeeded', release: { tag: 'v1.4.2' } });
    await serves(stack, 'pinned', 'hotfix', 'v2');
    expect((await deploysOf(stack, 'pinned', 'hotfix')).map((d) => d.release.tag)).toEqual([
      'v1.4.2',
      'v1.4.2',
    ]);
    expect(await running(stack, 'pinned')).toEqual([{ stage: 'hotfix', digest: second.digest }]);
  });
});

describe('auto-deploy off, pushes, auto-deploy on', () => {
  it('converges to the newest allowed release, never the ones in between', async () => {
    await stack.push('v1', 'e2e/toggle', 'dev-1');
    await finished(stack, 'toggle', 'dev', 'dev-1');
    await stack.api('/api/projects/toggle/stages/dev/auto-deploy', { body: { enabled: false } });

    const observed = await counter(stack, 'docker_watcher_observations_total');
    await stack.push('unhealthy', 'e2e/toggle', 'dev-2');
    const newest = await stack.push('v2', 'e2e/toggle', 'dev-3');
    // The server saw both pushes (each notification is an observation) and held them.
    await waitFor(
      'the server to observe both pushes',
      async () => (await counter(stack, 'docker_watcher_observations_total')) >= observed + 2,
    );
    const held = await waitFor('the plan to hold dev-3', async () => {
      const { plan } = await stack.api<{
        plan: Array<{ decision: { action: string; release?: { tag: string } } }>;
      }>('/api/plan?project=toggle&stage=dev');
      return plan[0]?.decision.action === 'hold' ? plan[0].decision : undefined;
    });
    expect(held.release?.tag).toBe('dev-3');
    expect((await deploysOf(stack, 'toggle', 'dev')).map((d) => d.release.tag)).toEqual(['dev-1']);
    expect(await servedBody(stack, 'toggle', 'dev')).toBe('200 v1');

    await stack.api('/api/projects/toggle/stages/dev/auto-deploy', { body: { enabled: true } });
    const deploy = await finished(stack, 'toggle', 'dev', 'dev-3');
    expect(deploy).toMatchObject({ state: 'succeeded', release: { digest: newest.digest } });
    await serves(stack, 'toggle', 'dev', 'v2');
    expect((await deploysOf(stack, 'toggle', 'dev')).map((d) => d.release.tag)).toEqual(['dev-3', 'dev-1']);
  });
});

it('never writes the webhook secret or the token into the server log', async () => {
  const log = stack.server.logs();
  expect(log).toContain('webhook accepted');
  expect(log).not.toContain(stack.adminToken);
  expect(log).not.toContain(stack.webhookSecret);
  const config = readFileSync(stack.configFile, 'utf8');
  expect(config).toContain('webhook_secret_env: DW_STACK_WEBHOOK_SECRET');
  expect(config).not.toContain(stack.webhookSecret);
});
