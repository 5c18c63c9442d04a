import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../logger.ts';
import { instantiate } from './adapter.ts';
import {
  type DeployTargetContext,
  defineDeployTarget,
  type Instance,
  type LegacyDeployTarget,
} from './deploy-target.ts';
import type { StageRef } from './release.ts';

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

describe('defineDeployTarget with stage options', () => {
  const current = () => {
    const { stop: _stop, ...rest } = legacyTarget([]);
    return rest;
  };
  const port = v.object({ port: v.optional(v.number()) });
  /** A target whose stages give a port, once per stage in a deprecated `ports` option keyed by stage name. */
  const definition = defineDeployTarget({
    name: 'ported',
    options: v.object({ ports: v.optional(v.record(v.string(), v.number())) }),
    stageOptions: port,
    notSideBySide: (options: unknown) => {
      const fixed = (options as v.InferOutput<typeof port>).port;
      return fixed === undefined ? undefined : `holds port ${fixed}`;
    },
    legacyStageOptions: {
      key: 'ports',
      of: (options: unknown, ref: StageRef, own: unknown) => {
        const old = (options as { ports?: Record<string, number> }).ports?.[ref.stage];
        return own ?? (old === undefined ? undefined : { port: old });
      },
    },
    secrets: [],
    create: (_options, context: DeployTargetContext) => ({
      ...current(),
      retire: async () => {},
      revert: async () => {},
      // What the target reads: only the new form.
      seen: (ref: StageRef) => context.stageOptions?.(ref),
    }),
  });
  const dev = { project: 'web', stage: 'dev' };
  const prod = { project: 'web', stage: 'prod' };

  it("reads the deprecated form into each stage's options, the stage's own over it, with one warning naming the option and the new form", () => {
    const logger = createMemoryLogger();
    const context: DeployTargetContext = {
      logger,
      stageOptions: (ref) => (ref.stage === 'prod' ? { port: 443 } : undefined),
    };
    const target = instantiate(definition, { ports: { dev: 8080, prod: 80 } }, context);
    expect(target.seen(dev)).toEqual({ port: 8080 });
    expect(target.seen(prod)).toEqual({ port: 443 });
    expect(logger.entries.map((entry) => [entry.level, entry.message])).toEqual([
      [
        'warn',
        expect.stringMatching(
          /^target:ported option ports is deprecated: give each stage its own options, at projects\.<project>\.stages\.<stage>\.target/,
        ),
      ],
    ]);
  });

  it('says nothing of the deprecated form when the options do not use it', () => {
    const logger = createMemoryLogger();
    const context: DeployTargetContext = { logger, stageOptions: () => ({ port: 1 }) };
    const target = instantiate(definition, {}, context);
    expect(target.seen(dev)).toEqual({ port: 1 });
    expect(logger.entries).toEqual([]);
  });

  it('tells, per stage, why its options cannot run two releases side by side', () => {
    const target = instantiate(definition, { ports: { prod: 80 } });
    expect(target.notSideBySide?.(prod)).toBe('holds port 80');
    expect(target.notSideBySide?.(dev)).toBe(undefined);
  });
});
