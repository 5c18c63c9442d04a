import type { ConfigProblem } from '@docker-watcher/core';
import { type Adapter, type AdapterKind, ConfigError, parseOptions } from '@docker-watcher/core';
import type * as v from 'valibot';
import { type AdapterTables, type AnyDefinition, adapterTypes, type ConfigKind } from '../adapters.ts';
import { toAdapterOptions, toFilePath } from './file-form.ts';
import type { NormalizeContext, SecretOrigin } from './normalize.ts';

/** A problem of a value that came from elsewhere, said of where it came from. */
export const originMessage = (origin: SecretOrigin, message: string) =>
  origin.what ? `${origin.what}: ${message}` : message;

/** What every step of resolving a config shares: problems, warnings, secrets, where files are. */
export interface ResolveContext extends NormalizeContext {
  problem(path: string, message: string): void;
  warn(path: string, message: string): void;
}

/** Resolving the adapter sections: with the adapters the file names, loaded. */
export interface AdapterContext extends ResolveContext {
  readonly adapters: AdapterTables;
}

export function createResolveContext(base: NormalizeContext): ResolveContext {
  return {
    ...base,
    problem: (path, message) => base.problems.push({ path, message }),
    warn: (path, message) => base.warnings.push({ path, message }),
  };
}

/** An adapter to create: its definition, validated options and config path. */
export interface AdapterSpec<K extends AdapterKind, A extends Adapter> {
  readonly type: string;
  readonly definition: AnyDefinition<K, A>;
  readonly options: Record<string, unknown>;
  readonly path: string;
}

/**
 * A section of the file (snake_case, secrets already read) -> the adapter's options, validated by
 * the adapter's own schema (checks across fields live there); problems carry the file's paths.
 */
export function adapterSpec<K extends ConfigKind, A extends Adapter>(
  ctx: AdapterContext,
  kind: K,
  type: string,
  fileValue: Record<string, unknown>,
  path: string,
): AdapterSpec<K, A> | undefined {
  const types = adapterTypes(kind);
  if (!types.includes(type)) {
    ctx.problem(`${path}.type`, `unknown type "${type}"; one of: ${types.join(', ')}`);
    return undefined;
  }
  const loaded = (
    ctx.adapters[kind] as unknown as ReadonlyMap<string, { definition: AnyDefinition<K, A> }>
  ).get(type);
  // The loader loads every type the file names before resolving it: a miss is a bug of the loader.
  if (!loaded) throw new Error(`the ${kind} adapter "${type}" was named but not loaded`);
  const definition = loaded.definition;
  const options = fileOptions(
    ctx,
    definition.options as v.GenericSchema,
    definition.secrets,
    fileValue,
    path,
  );
  if (!options) return undefined;
  return { type, definition, options, path };
}

/**
 * A part of the file in snake_case (secrets already read) -> options in the schema's spelling,
 * validated by it; `undefined` with its problems (at the file's paths under `path`) when invalid.
 */
export function fileOptions(
  ctx: ResolveContext,
  schema: v.GenericSchema,
  secrets: readonly string[],
  fileValue: Record<string, unknown>,
  path: string,
): Record<string, unknown> | undefined {
  const options = toAdapterOptions(fileValue, schema) as Record<string, unknown>;
  try {
    parseOptions(schema, options, { secrets });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const p of error.problems) ctx.problems.push(mapProblem(p, path, schema, ctx));
    return undefined;
  }
  return options;
}

function mapProblem(
  problem: ConfigProblem,
  prefix: string,
  schema: v.GenericSchema,
  ctx: ResolveContext,
): ConfigProblem {
  const segments = problem.path === '' ? [] : problem.path.split('.');
  const path = [prefix, ...toFilePath(segments, schema)].join('.');
  const origin = ctx.origins.get(path);
  return origin
    ? { path: origin.path, message: originMessage(origin, problem.message) }
    : { path, message: problem.message };
}
