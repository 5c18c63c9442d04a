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

/**
 * Top level, then the deprecated `stages[stage]` and `stages["project/stage"]`, then the stage's
 * own options (`stageOptions`, given with the stage).
 */
export function stageSettings(
  options: ResolvedDockerTargetOptions,
  project: string,
  stage: string,
  own?: Settings,
): StageSettings {
  const levels: Settings[] = [options];
  const byStage = options.stages?.[stage];
  const byProjectStage = options.stages?.[`${project}/${stage}`];
  if (byStage) levels.push(byStage);
  if (byProjectStage) levels.push(byProjectStage);
  if (own) levels.push(own);
  let merged: Settings = {};
  for (const level of levels) {
    merged = {
      ...merged,
      ...definedOnly(level),
      env: { ...merged.env, ...level.env },
      labels: { ...merged.labels, ...level.labels },
    };
  }
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

function definedOnly(settings: Settings): Settings {
  const { env: _env, labels: _labels, ...rest } = settings;
  return Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)) as Settings;
}

/** Whether every stage can run two releases side by side: a fixed host port cannot be held twice. */
export function allowsBlueGreen(options: ResolvedDockerTargetOptions): boolean {
  if (typeof options.publish === 'number') return false;
  return Object.values(options.stages ?? {}).every((stage) => typeof stage.publish !== 'number');
}
