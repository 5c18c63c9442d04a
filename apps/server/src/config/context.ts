import type { ConfigProblem } from '@docker-watcher/core';
import { type Adapter, type AdapterKind, ConfigError, parseOptions } from '@docker-watcher/core';
import type * as v from 'valibot';
import type { AnyDefinition } from '../adapters.ts';
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
export function adapterSpec<K extends AdapterKind, A extends Adapter>(
  ctx: ResolveContext,
  table: Readonly<Record<string, AnyDefinition<K, A>>>,
  type: string,
  fileValue: Record<string, unknown>,
  path: string,
): AdapterSpec<K, A> | undefined {
  const definition = Object.hasOwn(table, type) ? table[type] : undefined;
  if (!definition) {
    ctx.problem(`${path}.type`, `unknown type "${type}"; one of: ${Object.keys(table).join(', ')}`);
    return undefined;
  }
  const options = toAdapterOptions(fileValue, definition.options as v.GenericSchema) as Record<
    string,
    unknown
  >;
  try {
    parseOptions(definition.options, options, { secrets: definition.secrets });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const p of error.problems) ctx.problems.push(mapProblem(p, path, definition.options, ctx));
    return undefined;
  }
  return { type, definition, options, path };
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
