// `retry_pause_ms` reaches the engine: a release whose deploy failed for reasons of ours is tried
// again after the configured pause (globally, or a project's own), and the plan says when.
import { afterEach, describe, expect, it } from 'vitest';
import { configText, digest, type Harness, harness } from './support.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const withPauses = (global: number, project?: number) =>
  configText
    .replace('  poll_interval_seconds: 0\n', `  poll_interval_seconds: 0\n  retry_pause_ms: ${global}\n`)
    .replace(
      '    port: 3000\n',
      `    port: 3000\n${project === undefined ? '' : `    retry_pause_ms: ${project}\n`}`,
    );

/** The pause the plan announces after one failure of ours in dev (auto-deployed at start). */
async function firstPause(config: string) {
  h = await harness({ config, start: false });
  h.registry.push('team/web-app', 'dev-1', digest(1));
  h.target.faults.failNext('start', 'UNAVAILABLE');
  await h.composed.engine.start();
  const deploys = () => h!.store.listDeploys({ project: 'web-app', stage: 'dev' });
  await expect.poll(async () => (await deploys())[0]?.finished, { timeout: 60_000 }).toBe(true);
  const [failed] = await deploys();
  expect(failed?.error, failed?.error?.message).toMatchObject({ fault: 'infrastructure' });
  const [planned] = await h.composed.engine.plan({ project: 'web-app', stage: 'dev' });
  expect(planned?.decision.reason).toMatch(/^dev-1 failed for reasons of ours .*; retrying at /);
  const retryAt = (planned!.decision as { retryAt: string }).retryAt;
  return Date.parse(retryAt) - Date.parse(failed!.updatedAt);
}

describe('retry_pause_ms', () => {
  it("sets the engine's first pause before a failure of ours is retried", async () => {
    expect(await firstPause(withPauses(45_000))).toBe(45_000);
  });

  it("a project's own pause wins over the global one", async () => {
    expect(await firstPause(withPauses(45_000, 90_000))).toBe(90_000);
  });
});
