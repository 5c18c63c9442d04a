// The demo's story while the Docker Engine stalls (issue #16, items 2 and 3, on real parts): the
// server's docker target reaches the real engine through a socket fault proxy that accepts
// connections and never answers. A deploy that meets it is ended by its step's deadline, recorded
// as an infrastructure fault (not held back as the release's), the old release keeps being served,
// and the release is deployed once the engine answers again, with no second push. Afterwards: one
// serving container, no orphan, no secret in the log. The engine also stalls once a candidate runs
// (under its health gate): the candidate the rollback could not stop is removed once it answers,
// by the next deploy or, when none comes, by the server's sweep of what failed rollbacks left.

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
      stray: {
        repository: 'e2e/stray',
        // The slow fixture serves after SLOW_START_SECONDS: its candidate runs, not yet healthy, long
        // enough for the test to stall the engine under the health gate, which waits for it.
        healthcheck: {
          path: '/health',
          interval_ms: 250,
          timeout_ms: 1_000,
          retries: 3,
          start_period_ms: 60_000,
        },
        deadlines: { pull_ms: 3_000, start_ms: 10_000, probe_ms: 3_000, stop_ms: 3_000, rollback_ms: 10_000 },
        retryPauseMs: 1_000,
        stages: { dev: { tag_pattern: 'dev-*', auto_deploy: true, env: { SLOW_START_SECONDS: '15' } } },
      },
      left: {
        repository: 'e2e/left',
        // As `stray`, but the failed release is not tried again within the test (a long pause):
        // only the server's sweep of what the rollback left removes the stalled candidate.
        healthcheck: {
          path: '/health',
          interval_ms: 250,
          timeout_ms: 1_000,
          retries: 3,
          start_period_ms: 60_000,
        },
        deadlines: { pull_ms: 3_000, start_ms: 10_000, probe_ms: 3_000, stop_ms: 3_000, rollback_ms: 10_000 },
        retryPauseMs: 1_800_000,
        stages: { dev: { tag_pattern: 'dev-*', auto_deploy: true, env: { SLOW_START_SECONDS: '15' } } },
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

describe('a Docker socket that stalls once the candidate runs', () => {
  const shipped: string[] = [];
  /** The deploy whose candidate ran when the engine stalled, and the one that deployed its release after. */
  const ids = { stalled: '', deployed: '' };

  it('deploys the first release while the engine answers', async () => {
    const image = await stack.push('v1', 'e2e/stray', 'dev-0');
    shipped.push(image.digest);
    const first = await finished(stack, 'stray', 'dev', 'dev-0');
    expect(first, first.error?.message).toMatchObject({ state: 'succeeded' });
    await serves(stack, 'stray', 'dev', 'v1');
  }, 120_000);

  it('ends the deploy by its deadline, keeps the old release serving, and once the engine answers leaves no orphan candidate and deploys the release', async () => {
    const proxy = stack.dockerFaults!;
    const image = await stack.push('slow', 'e2e/stray', 'dev-1');
    shipped.push(image.digest);
    const gated = await waitFor('the candidate of dev-1 to run under its health gate', async () =>
      (await deploysOf(stack, 'stray', 'dev')).find(
        (d) => d.release.tag === 'dev-1' && d.state === 'health-checking',
      ),
    );
    // Seen on the engine itself, not through the proxy: the candidate exists and runs.
    const candidates = (await stack.containers('stray')).filter(
      (c) => c.Labels['docker-watcher.deploy-id'] === gated.id,
    );
    expect(candidates.map((c) => c.State)).toEqual(['running']);
    ids.stalled = gated.id;
    const met = proxy.faulted.get('stall') ?? 0;
    proxy.set('stall');
    // What Caddy serves while the engine stalls, read again and again until it answers.
    const seen = new Set<string>();
    let healed = false;
    const watching = (async () => {
      while (!healed) {
        seen.add(await servedBody(stack, 'stray', 'dev').catch((error: unknown) => String(error)));
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    try {
      const ended = await waitFor('the stalled deploy to end', async () => {
        const record = (await deploysOf(stack, 'stray', 'dev')).find((d) => d.id === gated.id);
        return record?.finished ? record : undefined;
      });
      expect(proxy.faulted.get('stall') ?? 0).toBeGreaterThan(met);
      expect(ended.state).not.toBe('succeeded');
      expect(ended.error, ended.error?.message).toMatchObject({ code: 'TIMEOUT', fault: 'infrastructure' });
      // The engine stalls for the server only: Caddy keeps serving the running release.
      expect(await servedBody(stack, 'stray', 'dev')).toBe('200 v1');
      await waitFor('the plan to say when the release is tried again', async () => {
        const { plan } = await stack.api<{ plan: Array<{ decision: { reason?: string } }> }>(
          '/api/plan?project=stray&stage=dev',
        );
        return plan[0]?.decision.reason?.includes('retrying at');
      });
    } finally {
      healed = true;
      await watching;
    }
    expect([...seen]).toEqual(['200 v1']);

    proxy.set('pass');
    const deployed = await waitFor(
      'a deploy of dev-1 to succeed once the engine answers',
      async () =>
        (await deploysOf(stack, 'stray', 'dev')).find(
          (d) => d.release.tag === 'dev-1' && d.state === 'succeeded',
        ),
      { timeoutMs: 120_000 },
    );
    ids.deployed = deployed.id;
    await serves(stack, 'stray', 'dev', 'slow');
  }, 240_000);

  it('leaves exactly one container of the stage, the release deployed: the stalled candidate is gone', async () => {
    const left = await waitFor(
      'the stage to settle on one container',
      async () => {
        const containers = await stack.containers('stray');
        return containers.length === 1 ? containers : undefined;
      },
      { timeoutMs: 60_000 },
    ).catch(async (error: unknown) => {
      const containers = await stack.containers('stray');
      const seen = containers.map((c) => `${c.Labels['docker-watcher.deploy-id']} ${c.State}`);
      throw new Error(`${(error as Error).message}; the stage has ${seen.join(', ')}`);
    });
    expect(left.map((c) => c.Labels['docker-watcher.deploy-id'])).toEqual([ids.deployed]);
    expect(ids.deployed).not.toBe(ids.stalled);
    expect(await running(stack, 'stray')).toEqual([{ stage: 'dev', digest: shipped.at(-1) }]);
  }, 120_000);
});

type Leftover = { deployId: string; project: string; attempts: number; lastError?: string };
const leftoversOf = async (project: string) =>
  (await stack.api<{ leftovers: Leftover[] }>('/api/status')).leftovers.filter((l) => l.project === project);

describe('a candidate left by a failed rollback, with no deploy after it', () => {
  const ids = { served: '', stalled: '' };

  it('deploys the first release while the engine answers', async () => {
    await stack.push('v1', 'e2e/left', 'dev-0');
    const first = await finished(stack, 'left', 'dev', 'dev-0');
    expect(first, first.error?.message).toMatchObject({ state: 'succeeded' });
    ids.served = first.id;
    await serves(stack, 'left', 'dev', 'v1');
  }, 120_000);

  it('is recorded and shown while the engine stalls, and removed once it answers: one container of the stage, the serving one', async () => {
    const proxy = stack.dockerFaults!;
    await stack.push('slow', 'e2e/left', 'dev-1');
    const gated = await waitFor('the candidate of dev-1 to run under its health gate', async () =>
      (await deploysOf(stack, 'left', 'dev')).find(
        (d) => d.release.tag === 'dev-1' && d.state === 'health-checking',
      ),
    );
    ids.stalled = gated.id;
    proxy.set('stall');
    try {
      const ended = await waitFor('the stalled deploy to end', async () => {
        const record = (await deploysOf(stack, 'left', 'dev')).find((d) => d.id === gated.id);
        return record?.finished ? record : undefined;
      });
      expect(ended.state).toBe('failed');
      expect(ended.error, ended.error?.message).toMatchObject({ fault: 'infrastructure' });
      expect(ended.journal.map((e) => e.note ?? '').join('\n')).toMatch(/could not remove the candidate/);
      // Shown while the engine still stalls: which deploy left it, and that the server keeps trying.
      const shown = await waitFor('the leftover to be shown with a failed attempt', async () =>
        (await leftoversOf('left')).find((l) => l.deployId === gated.id && l.attempts > 0),
      );
      expect(shown.lastError).toEqual(expect.any(String));
      // The candidate still runs (the engine itself says so, past the stalled proxy).
      const candidates = (await stack.containers('left')).filter(
        (c) => c.Labels['docker-watcher.deploy-id'] === gated.id,
      );
      expect(candidates.map((c) => c.State)).toEqual(['running']);
    } finally {
      proxy.set('pass');
    }
    const left = await waitFor(
      'the stage to settle on one container',
      async () => {
        const containers = await stack.containers('left');
        return containers.length === 1 ? containers : undefined;
      },
      { timeoutMs: 120_000 },
    ).catch(async (error: unknown) => {
      const containers = await stack.containers('left');
      const seen = containers.map((c) => `${c.Labels['docker-watcher.deploy-id']} ${c.State}`);
      throw new Error(`${(error as Error).message}; the stage has ${seen.join(', ')}`);
    });
    expect(left.map((c) => [c.Labels['docker-watcher.deploy-id'], c.State])).toEqual([
      [ids.served, 'running'],
    ]);
    await waitFor('the leftover to leave the status', async () =>
      (await leftoversOf('left')).length === 0 ? true : undefined,
    );
    const record = (await deploysOf(stack, 'left', 'dev')).find((d) => d.id === ids.stalled)!;
    expect(record.journal.at(-1)?.note).toMatch(/^removed the candidate the rollback left behind/);
    // No deploy came after it: the sweep did this, and the release that served serves still.
    expect((await deploysOf(stack, 'left', 'dev')).map((d) => d.release.tag).sort()).toEqual([
      'dev-0',
      'dev-1',
    ]);
    expect(await servedBody(stack, 'left', 'dev')).toBe('200 v1');
  }, 240_000);
});
