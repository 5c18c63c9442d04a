// `registries.<name>.concurrency` and `.rate_limit`: checked at their paths, and kept by the engine's
// looks and the API's requests together (one limiter per registry).
import { afterEach, describe, expect, it } from 'vitest';
import { inspectConfigText, loadConfigText } from '../src/config/load.ts';
import { auth, configText, env, type Harness, harness, tokens } from './support.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const withLimits = (limits: string) =>
  configText.replace(
    '  local: { type: memory, webhook_secret_env: HOOK_SECRET }\n',
    `  local: { type: memory, webhook_secret_env: HOOK_SECRET, ${limits} }\n`,
  );

describe('registry limits in the config', () => {
  it('reach the engine in its units', async () => {
    const config = await loadConfigText(
      withLimits('concurrency: 2, rate_limit: { requests: 5, per_seconds: 1.5 }'),
      env,
    );
    expect(config.registryLimits.local).toEqual({ concurrency: 2, rateLimit: { requests: 5, perMs: 1500 } });
    // The adapter's options do not carry them.
    expect(config.registries.local?.options).not.toHaveProperty('concurrency');
    expect(config.registries.local?.options).not.toHaveProperty('rateLimit');
  });

  it('are refused with the path of the bad field', async () => {
    const report = await inspectConfigText(
      withLimits('concurrency: 0, rate_limit: { requests: 2.5, per: 60 }'),
      env,
    );
    expect(report.problems.map((p) => `${p.path}: ${p.message}`).sort()).toEqual([
      'registries.local.concurrency: must be at least 1, not 0',
      'registries.local.rate_limit.per: unknown key; known here: requests, per_seconds',
      'registries.local.rate_limit.per_seconds: is required',
      'registries.local.rate_limit.requests: must be a whole number, not 2.5',
    ]);
    expect(report.config).toBeUndefined();
  });
});

it("the engine's looks and the API's tag listings keep to the registry's concurrency together", async () => {
  h = await harness({ config: withLimits('concurrency: 1'), start: false });
  const { registry } = h;
  registry.push('team/web-app', 'dev-1');
  registry.faults.delay('listTags', 20);
  const seen = { now: 0, max: 0, calls: 0 };
  const listTags = registry.listTags.bind(registry);
  registry.listTags = async (params) => {
    seen.now++;
    seen.calls++;
    seen.max = Math.max(seen.max, seen.now);
    try {
      return await listTags(params);
    } finally {
      seen.now--;
    }
  };
  await h.composed.engine.start();
  const tags = () => h!.app.request('/api/projects/web-app/stages/dev/tags', { headers: auth(tokens.read) });
  const answers = await Promise.all([
    tags(),
    tags(),
    h.composed.engine.refresh({ project: 'web-app' }),
    tags(),
    h.composed.engine.refresh({ project: 'web-app' }),
  ]);
  expect(answers.slice(0, 2).map((r) => (r as Response).status)).toEqual([200, 200]);
  expect(seen.calls).toBeGreaterThanOrEqual(6);
  expect(seen.max).toBe(1);
});
