// The demo's story while the Docker Engine stalls (issue #16, items 2 and 3, on real parts): the
// server's docker target reaches the real engine through a socket fault proxy that accepts
// connections and never answers. A deploy that meets it is ended by its step's deadline, recorded
// as an infrastructure fault (not held back as the release's), the old release keeps being served,
// and the release is deployed once the engine answers again, with no second push. Afterwards: one
// serving container, no orphan, no secret in the log.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../src/stack.ts';
import { waitFor } from '../src/wait-for.ts';
import { deploysOf, finished, running, servedBody, serves } from './support.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    pollIntervalSeconds: 0,
    dockerFaults: true,
    projects: {
      dock: {
        repository: 'e2e/dock',
        // Short enough for a test: a stalled engine ends the deploy within seconds, not minutes.
        deadlines: { pull_ms: 3_000, start_ms: 10_000, stop_ms: 3_000, rollback_ms: 10_000 },
        stages: { dev: { tag_pattern: 'dev-*', auto_deploy: true } },
      },
      halt: {
        repository: 'e2e/halt',
        // A pull that outlasts the test (it is cancelled); a rollback that gives up on the stalled
        // engine within seconds; the cancelled release tried again a second later.
        deadlines: { pull_ms: 300_000, start_ms: 10_000, stop_ms: 3_000, rollback_ms: 10_000 },
        retryPauseMs: 1_000,
        stages: { dev: { tag_pattern: 'dev-*', auto_deploy: true } },
      },
    },
  });
}, 120_000);

afterAll(async () => {
  await stack?.dispose();
});

describe('a deploy that meets a stalled Docker socket', () => {
  const shipped: string[] = [];

  it('deploys the first release while the engine answers', async () => {
    const image = await stack.push('v1', 'e2e/dock', 'dev-0');
    shipped.push(image.digest);
    const first = await finished(stack, 'dock', 'dev', 'dev-0');
    expect(first, first.error?.message).toMatchObject({ state: 'succeeded' });
    await serves(stack, 'dock', 'dev', 'v1');
  }, 120_000);

  it("is ended by its step's deadline, not held back, and deployed once the engine answers", async () => {
    const proxy = stack.dockerFaults!;
    const met = proxy.faulted.get('stall') ?? 0;
    proxy.set('stall');
    const image = await stack.push('v2', 'e2e/dock', 'dev-1');
    shipped.push(image.digest);
    await waitFor('the server to meet the stalled engine', () => (proxy.faulted.get('stall') ?? 0) > met);
    const ended = await finished(stack, 'dock', 'dev', 'dev-1');
    expect(ended.state).not.toBe('succeeded');
    expect(ended.error, ended.error?.message).toMatchObject({ code: 'TIMEOUT', fault: 'infrastructure' });
    // The engine stalls for the server only: the running release keeps being served through Caddy.
    expect(await servedBody(stack, 'dock', 'dev')).toBe('200 v1');
    const reason = await waitFor('the plan to say when the release is tried again', async () => {
      const { plan } = await stack.api<{ plan: Array<{ decision: { reason?: string } }> }>(
        '/api/plan?project=dock&stage=dev',
      );
      const said = plan[0]?.decision.reason;
      return said?.includes('retrying at') ? said : undefined;
    });
    expect(reason).toMatch(/^dev-1 failed for reasons of ours \(.*\); retrying at \d{4}-/);

    proxy.set('pass');
    const deploys = await waitFor('a deploy of dev-1 to succeed once the engine answers', async () => {
      const all = (await deploysOf(stack, 'dock', 'dev')).filter((d) => d.release.tag === 'dev-1');
      return all.some((d) => d.state === 'succeeded') && all.every((d) => d.finished) ? all : undefined;
    });
    for (const failed of deploys.filter((d) => d.state !== 'succeeded'))
      expect(failed.error?.fault, `${failed.id}: ${failed.error?.message}`).toBe('infrastructure');
    await serves(stack, 'dock', 'dev', 'v2');
  }, 180_000);

  it('leaves one serving container, no orphan, and no secret in the log', async () => {
    await waitFor('the stage to settle on one container', async () =>
      (await stack.containers('dock')).length === 1 ? true : undefined,
    );
    expect(await running(stack, 'dock')).toEqual([{ stage: 'dev', digest: shipped.at(-1) }]);
    const log = stack.server.logs();
    expect(log).not.toContain(stack.adminToken);
    expect(log).not.toContain(stack.webhookSecret);
  });
});

describe('a cancel while the Docker socket stalls', () => {
  const shipped: string[] = [];

  it('deploys the first release while the engine answers', async () => {
    const image = await stack.push('v1', 'e2e/halt', 'dev-0');
    shipped.push(image.digest);
    const first = await finished(stack, 'halt', 'dev', 'dev-0');
    expect(first, first.error?.message).toMatchObject({ state: 'succeeded' });
    await serves(stack, 'halt', 'dev', 'v1');
  }, 120_000);

  it('answers at once, ends the deploy by its deadline while the engine still stalls, keeps the old release serving, and leaves no orphan once the engine answers', async () => {
    const proxy = stack.dockerFaults!;
    const met = proxy.faulted.get('stall') ?? 0;
    proxy.set('stall');
    const image = await stack.push('v2', 'e2e/halt', 'dev-1');
    shipped.push(image.digest);
    await waitFor('the server to meet the stalled engine', () => (proxy.faulted.get('stall') ?? 0) > met);
    const stalled = await waitFor('the deploy of dev-1 to wait for its pull', async () =>
      (await deploysOf(stack, 'halt', 'dev')).find((d) => d.release.tag === 'dev-1' && d.state === 'pulling'),
    );
    const { deploy } = await stack.api<{ deploy: { state: string } }>(`/api/deploys/${stalled.id}/cancel`, {
      method: 'POST',
    });
    expect(['rolling-back', 'rolled-back', 'failed']).toContain(deploy.state);
    // Ended while the engine still stalls: by the rollback's own deadline, not by an answer.
    const ended = await waitFor('the cancelled deploy to end', async () => {
      const record = (await deploysOf(stack, 'halt', 'dev')).find((d) => d.id === stalled.id);
      return record?.finished ? record : undefined;
    });
    const rollingBack = ended.journal.find((entry) => entry.state === 'rolling-back');
    expect(rollingBack?.note).toMatch(/cancel/i);
    expect(ended.error, ended.error?.message).toMatchObject({ fault: 'infrastructure' });
    expect(await servedBody(stack, 'halt', 'dev')).toBe('200 v1');

    proxy.set('pass');
    // A cancel is ours, not the release's: it is tried again, and deployed once the engine answers.
    await waitFor('a deploy of dev-1 to succeed once the engine answers', async () =>
      (await deploysOf(stack, 'halt', 'dev')).some(
        (d) => d.release.tag === 'dev-1' && d.state === 'succeeded',
      )
        ? true
        : undefined,
    );
    await serves(stack, 'halt', 'dev', 'v2');
  }, 240_000);

  it('leaves one serving container and no orphan of the cancelled deploy', async () => {
    await waitFor('the stage to settle on one container', async () =>
      (await stack.containers('halt')).length === 1 ? true : undefined,
    );
    expect(await running(stack, 'halt')).toEqual([{ stage: 'dev', digest: shipped.at(-1) }]);
  });
});
