import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../logger.ts';
import { instantiate } from './adapter.ts';
import { defineDeployTarget, type Instance, type LegacyDeployTarget } from './deploy-target.ts';

const instance: Instance = {
  id: 'i-1',
  project: 'web',
  stage: 'dev',
  deployId: 'd-1',
  release: { tag: 'v1', digest: `sha256:${'a'.repeat(64)}` },
  state: 'running',
};

/** A target as an outside author wrote it for core before `stop` split. */
function legacyTarget(stopped: string[]): LegacyDeployTarget {
  return {
    id: 'target:legacy',
    capabilities: { blueGreen: true, canary: false },
    start: async () => instance,
    checkHealth: async () => ({ status: 'healthy' }),
    stop: async ({ instance: which }) => {
      stopped.push(which.id);
    },
    list: async () => [],
    dispose: async () => {},
  };
}

describe('defineDeployTarget', () => {
  it('keeps a target that still implements stop() working: retire and revert call it, with one warning', async () => {
    const stopped: string[] = [];
    const logger = createMemoryLogger();
    const definition = defineDeployTarget({
      name: 'legacy',
      options: v.object({}),
      secrets: [],
      create: () => legacyTarget(stopped),
    });
    const target = instantiate(definition, {}, { logger });
    await target.retire({ instance });
    await target.revert({ instance: { ...instance, id: 'i-2' } });
    expect(stopped).toEqual(['i-1', 'i-2']);
    expect(target.id).toBe('target:legacy');
    expect(
      await target.checkHealth({
        instance,
        health: { intervalMs: 1, timeoutMs: 1, retries: 0, startPeriodMs: 0 },
      }),
    ).toEqual({
      status: 'healthy',
    });
    expect(logger.entries.filter((entry) => entry.level === 'warn').map((entry) => entry.message)).toEqual([
      'target:legacy implements stop(), which core split into retire() and revert(): stop() is used for both until the next minor release',
    ]);
  });

  it('leaves a current target as it is', async () => {
    const current = { ...legacyTarget([]), retire: async () => {}, revert: async () => {} };
    const definition = defineDeployTarget({
      name: 'current',
      options: v.object({}),
      secrets: [],
      create: () => current,
    });
    const logger = createMemoryLogger();
    expect(instantiate(definition, {}, { logger })).toBe(current);
    expect(logger.entries).toEqual([]);
  });

  it('refuses a target with neither stop() nor both retire() and revert(), naming what is missing', () => {
    const { stop: _stop, ...half } = legacyTarget([]);
    const definition = defineDeployTarget({
      name: 'half',
      options: v.object({}),
      secrets: [],
      create: () => ({ ...half, retire: async () => {} }) as never,
    });
    expect(() => instantiate(definition, {})).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED', message: 'target:legacy does not implement revert()' }),
    );
  });
});
