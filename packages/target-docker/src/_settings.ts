import type { StageRef } from '@docker-watcher/core';
import type * as v from 'valibot';
import type { dockerContainerSettings, ResolvedDockerTargetOptions } from './options.ts';

type Settings = v.InferOutput<typeof dockerContainerSettings>;

/** The container settings of one project-stage, every level merged. */
export interface StageSettings {
  readonly env: Readonly<Record<string, string>>;
  readonly envFiles: readonly string[];
  readonly volumes: readonly string[];
  readonly restartPolicy: 'no' | 'always' | 'unless-stopped' | 'on-failure';
  /** Bytes. */
  readonly memory?: number;
  readonly cpus?: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly publish: boolean | number;
}

const units: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `512m` -> bytes; numbers are bytes already. */
export function parseMemory(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)\s*([bkmg]?)$/i.exec(value.trim());
  if (!match) throw new Error(`not a memory size: ${value}`);
  const unit = units[(match[2] || 'b').toLowerCase()] ?? 1;
  return Math.round(Number(match[1]) * unit);
}

/** The stage's own options (`stageOptions`, given with the stage) over the target's top level. */
export function stageSettings(options: ResolvedDockerTargetOptions, own?: Settings): StageSettings {
  const merged = mergeSettings([options, ...(own ? [own] : [])]);
  return {
    env: merged.env ?? {},
    envFiles: merged.envFiles ?? [],
    volumes: merged.volumes ?? [],
    restartPolicy: merged.restartPolicy ?? 'unless-stopped',
    ...(merged.memory === undefined ? {} : { memory: parseMemory(merged.memory) }),
    ...(merged.cpus === undefined ? {} : { cpus: merged.cpus }),
    labels: merged.labels ?? {},
    publish: merged.publish ?? false,
  };
}

/** Later levels over earlier ones: `env` and `labels` merge key by key, other fields replace. */
function mergeSettings(levels: readonly Settings[]): Settings {
  let merged: Settings = {};
  for (const level of levels) {
    merged = {
      ...merged,
      ...definedOnly(level),
      env: { ...merged.env, ...level.env },
      labels: { ...merged.labels, ...level.labels },
    };
  }
  return merged;
}

/**
 * The deprecated `stages` option as one stage's own options: `stages[stage]`, then
 * `stages["project/stage"]`, then the stage's own options over both.
 */
export function legacyStageSettings(
  options: ResolvedDockerTargetOptions,
  ref: StageRef,
  own?: Settings,
): Settings | undefined {
  const levels = [options.stages?.[ref.stage], options.stages?.[`${ref.project}/${ref.stage}`], own].filter(
    (level): level is Settings => level !== undefined,
  );
  return levels.length === 0 ? undefined : mergeSettings(levels);
}

function definedOnly(settings: Settings): Settings {
  const { env: _env, labels: _labels, ...rest } = settings;
  return Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)) as Settings;
}

/** Why a stage cannot run two releases side by side: a fixed host port cannot be held twice. */
export function fixedHostPort(settings: Settings): string | undefined {
  return typeof settings.publish === 'number'
    ? `publishes the fixed host port ${settings.publish}`
    : undefined;
}
