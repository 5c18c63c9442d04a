// The demo's story while the registry's API fails (issue #16, item 1, on real parts): webhooks only,
// a fault-switching proxy between the server and the real registry. A push notified while the API
// answers 500, 429, garbage or nothing at all is accepted, waits visibly with its reason, and is
// deployed once the registry answers again, with no second push. Afterwards: one serving container,
// no orphan, no secret in the log.

import type { AppRelease, FaultMode } from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../src/stack.ts';
import { waitFor } from '../src/wait-for.ts';
import { counter, deploysOf, finished, running, serves } from './support.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    pollIntervalSeconds: 0,
    registryFaults: true,
    projects: {
      faults: { repository: 'e2e/faults', stages: { dev: { tag_pattern: 'dev-*', auto_deploy: true } } },
    },
  });
}, 120_000);

afterAll(async () => {
  await stack?.dispose();
});

const faults: ReadonlyArray<Exclude<FaultMode, 'pass' | 'stall'>> = [
  'error-500',
  'rate-limited',
  'garbage',
  'reset',
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
