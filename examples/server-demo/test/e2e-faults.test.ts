// The demo's story while the registry's API or Caddy's admin API fails (issue #16, on real parts):
// webhooks only, fault-switching proxies between the server and the real registry and Caddy.
// A push notified while the registry answers 500, 429, garbage, nothing at all (reset) or never
// (stall) is accepted, waits visibly with its reason, and is deployed once the registry answers
// again, with no second push. A deploy whose traffic switch meets a failing admin API is not held
// back as the release's fault: the old release keeps being served, and the release is deployed once
// Caddy answers. A store that cannot write (another connection holds the SQLite file's write lock)
// refuses the notification, so the registry sends it again, and stops a deploy whose next step it
// cannot journal; once it writes, both releases are deployed with no second push. Afterwards: one
// serving container per stage, no orphan, no secret in the log.

import { DatabaseSync } from 'node:sqlite';
import type { AppRelease, FaultMode } from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type Stack, startStack } from '../src/stack.ts';
import { waitFor } from '../src/wait-for.ts';
import { counter, deploysOf, finished, running, servedBody, serves } from './support.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    pollIntervalSeconds: 0,
    registryFaults: true,
    caddyFaults: true,
    // A stalled backend is given up on within it (the adapters' defaults are 10 s and 30 s).
    requestTimeoutMs: 3_000,
    // A write refused by a held lock blocks the event loop this long (the store's default is 5 s).
    sqliteBusyTimeoutMs: 50,
    projects: {
      faults: { repository: 'e2e/faults', stages: { dev: { tag_pattern: 'dev-*', auto_deploy: true } } },
      edge: { repository: 'e2e/edge', stages: { dev: { tag_pattern: 'dev-*', auto_deploy: true } } },
      ledger: {
        repository: 'e2e/ledger',
        // The slow fixture serves after SLOW_START_SECONDS: its candidate waits under the health
        // gate long enough for the test to take the store's lock mid-deploy.
        healthcheck: {
          path: '/health',
          interval_ms: 250,
          timeout_ms: 1_000,
          retries: 3,
          start_period_ms: 60_000,
        },
        retryPauseMs: 1_000,
        stages: { dev: { tag_pattern: 'dev-*', auto_deploy: true, env: { SLOW_START_SECONDS: '6' } } },
      },
    },
  });
}, 120_000);

afterAll(async () => {
  await stack?.dispose();
});

const faults: ReadonlyArray<Exclude<FaultMode, 'pass'>> = [
  'error-500',
  'rate-limited',
  'garbage',
  'reset',
  'stall',
];
const pushed: string[] = [];

describe('a push notified while the registry API fails (webhooks only)', () => {
  for (const [index, fault] of faults.entries()) {
    it(`${fault}: accepted, waiting with its reason, deployed once the registry answers (no second push)`, async () => {
      const proxy = stack.registryFaults!;
      const tag = `dev-${index + 1}`;
      const release: AppRelease = index % 2 === 0 ? 'v1' : 'v2';
      const met = proxy.faulted.get(fault) ?? 0;
      const accepted = await counter(stack, 'docker_watcher_webhooks_total', { outcome: 'accepted' });
      proxy.set(fault);
      const image = await stack.push(release, 'e2e/faults', tag);
      pushed.push(image.digest);
      await waitFor(
        'the notification to be accepted',
        async () =>
          (await counter(stack, 'docker_watcher_webhooks_total', { outcome: 'accepted' })) > accepted,
      );
      await waitFor('the server to meet the fault', () => (proxy.faulted.get(fault) ?? 0) > met);
      const reason = await waitFor('the plan to say what the stage waits for', async () => {
        const { plan } = await stack.api<{ plan: Array<{ decision: { reason?: string } }> }>(
          '/api/plan?project=faults&stage=dev',
        );
        const said = plan[0]?.decision.reason;
        return said?.includes('failed') ? said : undefined;
      });
      expect(reason).toMatch(
        /^waiting: a notification waits; listing the tags of e2e\/faults failed \([A-Z_]+: .*\); retrying at \d{4}-/,
      );
      expect((await deploysOf(stack, 'faults', 'dev')).map((d) => d.release.tag)).not.toContain(tag);

      proxy.set('pass');
      const deploy = await finished(stack, 'faults', 'dev', tag);
      expect(deploy).toMatchObject({ state: 'succeeded', release: { digest: image.digest } });
      await serves(stack, 'faults', 'dev', release);
    }, 180_000);
  }

  it('leaves one serving container, no orphan, and no secret in the log', async () => {
    expect(await running(stack, 'faults')).toEqual([{ stage: 'dev', digest: pushed.at(-1) }]);
    const all = await stack.containers('faults');
    expect(all.filter((c) => c.State !== 'running')).toEqual([]);
    const log = stack.server.logs();
    expect(log).not.toContain(stack.adminToken);
    expect(log).not.toContain(stack.webhookSecret);
  });
});

const caddyFaults: ReadonlyArray<Extract<FaultMode, 'error-500' | 'reset' | 'stall'>> = [
  'error-500',
  'reset',
  'stall',
];
const releases: AppRelease[] = ['v1', 'v2'];

describe('a deploy whose traffic switch meets a failing Caddy admin API', () => {
  const shipped: string[] = [];

  it('deploys the first release while Caddy answers', async () => {
    const image = await stack.push('v1', 'e2e/edge', 'dev-0');
    shipped.push(image.digest);
    const first = await finished(stack, 'edge', 'dev', 'dev-0');
    expect(first, first.error?.message).toMatchObject({ state: 'succeeded' });
    await serves(stack, 'edge', 'dev', 'v1');
  }, 120_000);

  for (const [index, fault] of caddyFaults.entries()) {
    it(`${fault}: the old release keeps being served, the new one is deployed once Caddy answers`, async () => {
      const proxy = stack.caddyFaults!;
      const tag = `dev-${index + 1}`;
      const before = releases[index % 2]!;
      const release = releases[(index + 1) % 2]!;
      const met = proxy.faulted.get(fault) ?? 0;
      proxy.set(fault);
      // Whatever fails below, the next case meets a Caddy that answers.
      onTestFinished(() => proxy.set('pass'));
      const image = await stack.push(release, 'e2e/edge', tag);
      shipped.push(image.digest);
      await waitFor('the deploy to meet the fault', () => (proxy.faulted.get(fault) ?? 0) > met);
      // The deploy reached the switch: its candidate started, and it cannot change the route.
      expect(await servedBody(stack, 'edge', 'dev')).toBe(`200 ${before}`);
      const attempt = await waitFor('the faulted attempt to end, or to wait for Caddy', async () => {
        const deploys = (await deploysOf(stack, 'edge', 'dev')).filter((d) => d.release.tag === tag);
        const ended = deploys.find((d) => d.finished);
        if (ended) return ended;
        // A rollback that cannot switch back keeps trying within its deadline: heal to let it end.
        return (proxy.faulted.get(fault) ?? 0) > met + 1 ? deploys[0] : undefined;
      });
      expect(attempt.state).not.toBe('succeeded');
      expect(await servedBody(stack, 'edge', 'dev')).toBe(`200 ${before}`);

      proxy.set('pass');
      // The retry pause doubles with each failed attempt: on a loaded machine the fault met more of
      // them, so the next try can be a while away.
      const deploys = await waitFor(
        `a deploy of ${tag} to succeed once Caddy answers`,
        async () => {
          const all = (await deploysOf(stack, 'edge', 'dev')).filter((d) => d.release.tag === tag);
          return all.some((d) => d.state === 'succeeded') && all.every((d) => d.finished) ? all : undefined;
        },
        { timeoutMs: 240_000 },
      );
      // The failed attempts were ours, not the release's: it was tried again, not held back.
      for (const failed of deploys.filter((d) => d.state !== 'succeeded'))
        expect(failed.error?.fault, `${failed.id}: ${failed.error?.message}`).toBe('infrastructure');
      await serves(stack, 'edge', 'dev', release);
      expect(await running(stack, 'edge')).toEqual([{ stage: 'dev', digest: image.digest }]);
    }, 420_000);
  }

  it('leaves one serving container, no orphan, and no secret in the log', async () => {
    expect(await running(stack, 'edge')).toEqual([{ stage: 'dev', digest: shipped.at(-1) }]);
    const all = await stack.containers('edge');
    expect(all.filter((c) => c.State !== 'running')).toEqual([]);
    const log = stack.server.logs();
    expect(log).not.toContain(stack.adminToken);
    expect(log).not.toContain(stack.webhookSecret);
  });
});

describe('the story while the store cannot write (another connection holds the SQLite lock)', () => {
  const shipped: string[] = [];
  let lock: DatabaseSync | undefined;
  /** Another connection takes the file's write lock: the server's writes fail, its reads go on. */
  const takeLock = () => {
    lock = new DatabaseSync(stack.databaseFile!);
    lock.exec('BEGIN EXCLUSIVE');
  };
  const releaseLock = () => {
    lock?.exec('ROLLBACK');
    lock?.close();
    lock = undefined;
  };
  afterAll(releaseLock);
  const readyz = async () => {
    const response = await fetch(`${stack.server.url}/readyz`);
    return { status: response.status, body: (await response.json()) as { error?: { message: string } } };
  };

  it('deploys the first release while the store writes', async () => {
    const image = await stack.push('v1', 'e2e/ledger', 'dev-0');
    shipped.push(image.digest);
    const first = await finished(stack, 'ledger', 'dev', 'dev-0');
    expect(first, first.error?.message).toMatchObject({ state: 'succeeded' });
    await serves(stack, 'ledger', 'dev', 'v1');
  }, 120_000);

  it('refuses a notification it cannot record, says why, and deploys the release once it writes (no second push)', async () => {
    const refused = await counter(stack, 'docker_watcher_webhooks_total', { outcome: 'error' });
    takeLock();
    try {
      const image = await stack.push('v2', 'e2e/ledger', 'dev-1');
      shipped.push(image.digest);
      // The registry is told no (so it sends the notification again), and readiness names the store.
      await waitFor('the notification to be refused', async () =>
        (await counter(stack, 'docker_watcher_webhooks_total', { outcome: 'error' })) > refused
          ? true
          : undefined,
      );
      const ready = await waitFor('readiness to say the store cannot write', async () => {
        const answer = await readyz();
        return answer.status === 503 ? answer : undefined;
      });
      expect(ready.body.error?.message).toMatch(/store cannot write/);
      expect((await deploysOf(stack, 'ledger', 'dev')).map((d) => d.release.tag)).not.toContain('dev-1');
      expect(await servedBody(stack, 'ledger', 'dev')).toBe('200 v1');
    } finally {
      releaseLock();
    }
    const deploy = await finished(stack, 'ledger', 'dev', 'dev-1');
    expect(deploy, deploy.error?.message).toMatchObject({
      state: 'succeeded',
      release: { digest: shipped.at(-1) },
    });
    await serves(stack, 'ledger', 'dev', 'v2');
    expect((await deploysOf(stack, 'ledger', 'dev')).filter((d) => d.release.tag === 'dev-1')).toHaveLength(
      1,
    );
  }, 180_000);

  it('stops a deploy whose next step it cannot journal (the old release keeps serving), and deploys the release once it writes', async () => {
    const image = await stack.push('slow', 'e2e/ledger', 'dev-2');
    shipped.push(image.digest);
    const gated = await waitFor('the candidate of dev-2 to run under its health gate', async () =>
      (await deploysOf(stack, 'ledger', 'dev')).find(
        (d) => d.release.tag === 'dev-2' && d.state === 'health-checking',
      ),
    );
    const failedRollbacks = () => stack.server.logs().split('rollback failed').length;
    const before = failedRollbacks();
    takeLock();
    try {
      // Its next step (a probe's log line, the switch) cannot be journaled, so it is not taken, nor
      // is the rollback: the old release keeps being served.
      await waitFor(
        'the server to fail a write of the deploy',
        () => (failedRollbacks() > before ? true : undefined),
        { timeoutMs: 60_000 },
      );
      expect(await servedBody(stack, 'ledger', 'dev')).toBe('200 v2');
      const stuck = (await deploysOf(stack, 'ledger', 'dev')).find((d) => d.id === gated.id);
      expect(stuck).toMatchObject({ state: 'health-checking', finished: false });
    } finally {
      releaseLock();
    }
    const deployed = await waitFor(
      'a deploy of dev-2 to succeed once the store writes',
      async () =>
        (await deploysOf(stack, 'ledger', 'dev')).find(
          (d) => d.release.tag === 'dev-2' && d.state === 'succeeded',
        ),
      { timeoutMs: 120_000 },
    );
    await serves(stack, 'ledger', 'dev', 'slow');
    // The interrupted attempt was ours, not the release's: it was tried again, not held back.
    const first = (await deploysOf(stack, 'ledger', 'dev')).find((d) => d.id === gated.id);
    expect(first?.finished).toBe(true);
    expect(first?.error, first?.error?.message).toMatchObject({ fault: 'infrastructure' });
    expect(deployed.id).not.toBe(gated.id);
  }, 240_000);

  it('leaves one serving container, no orphan, and no secret in the log', async () => {
    const left = await waitFor(
      'the stage to settle on one container',
      async () => {
        const containers = await stack.containers('ledger');
        return containers.length === 1 ? containers : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(left.map((c) => c.State)).toEqual(['running']);
    expect(await running(stack, 'ledger')).toEqual([{ stage: 'dev', digest: shipped.at(-1) }]);
    expect((await readyz()).status).toBe(200);
    const log = stack.server.logs();
    expect(log).not.toContain(stack.adminToken);
    expect(log).not.toContain(stack.webhookSecret);
  }, 120_000);
});
