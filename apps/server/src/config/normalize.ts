import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ConfigProblem } from '@docker-watcher/core';
import { type SchemaNode, secretFieldsOf, snake, unwrap } from './file-form.ts';
import { closest } from './messages.ts';

export type Environment = Readonly<Record<string, string | undefined>>;

/** Where a secret's value came from, for messages about it. */
export interface SecretOrigin {
  /** The path of the key the user wrote (`…password_env`). */
  readonly path: string;
  /** `the value of VAR` / `the content of FILE`. */
  readonly what: string;
}

export interface NormalizeContext {
  readonly env: Environment;
  /** Relative `*_file` paths are read from here (the config file's folder). */
  readonly baseDir: string;
  readonly problems: ConfigProblem[];
  readonly warnings: ConfigProblem[];
  /** Every secret value read or found, for redaction. */
  readonly secrets: string[];
  /** Paths of secret fields -> where their value came from. */
  readonly origins: Map<string, SecretOrigin>;
  /** Paths of secret fields (whatever their origin): their values never appear in a message. */
  readonly secretPaths: Set<string>;
  /** Paths whose value could not be read: not resolved further, so one cause gives one problem. */
  readonly broken: Set<string>;
}

const isMapping = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const join = (path: string, key: string | number) => (path ? `${path}.${key}` : String(key));

/** Every place a key name is valid in the schema, as `projects.<project>.stages.<stage>.tag_pattern`. */
export function keyIndex(schema: SchemaNode): Map<string, string[]> {
  const index = new Map<string, string[]>();
  const seen = new Set<SchemaNode>();
  const placeholder = (path: string) => {
    const last = path.split('.').pop() ?? '';
    const singular: Record<string, string> = {
      registries: 'registry',
      projects: 'project',
      stages: 'stage',
      auth: 'host',
      jobs: 'job',
    };
    return `<${singular[last] ?? 'name'}>`;
  };
  const walk = (current: SchemaNode, path: string) => {
    const inner = unwrap(current);
    if (seen.has(inner) || path.split('.').length > 8) return;
    seen.add(inner);
    if (inner.entries) {
      for (const [key, entry] of Object.entries(inner.entries)) {
        const at = join(path, key);
        index.set(key, [...(index.get(key) ?? []), at]);
        walk(entry, at);
      }
    } else if (inner.type === 'record' && inner.value) walk(inner.value, join(path, placeholder(path)));
    else if (inner.type === 'array' && inner.item) walk(inner.item, join(path, '<n>'));
    else if (inner.options)
      for (const option of inner.options) if (typeof option === 'object') walk(option, path);
    seen.delete(inner);
  };
  walk(schema, '');
  return index;
}

/** The unknown-key message: a near miss among the keys here, or where the key belongs instead. */
function unknownKey(
  key: string,
  here: readonly string[],
  path: string,
  index: Map<string, string[]>,
): string {
  const near = closest(key, here);
  if (near) return `unknown key; did you mean ${near}?`;
  const general = (p: string) => p.replace(/\.\d+(?=\.|$)/g, '.<n>');
  const elsewhere = (index.get(key) ?? index.get(snake(key)) ?? []).filter(
    (p) => general(p) !== general(path),
  );
  if (elsewhere.length > 0) return `unknown key here; it belongs at ${elsewhere.slice(0, 2).join(' or ')}`;
  const base = key.replace(/_(env|file)$/, '');
  if (base !== key && here.includes(base))
    return `unknown key: ${base} is not a secret, write its value directly (only secrets are read from the environment or files)`;
  return `unknown key; known here: ${here.join(', ')}`;
}

function readSecretFile(file: string, baseDir: string): string {
  const text = readFileSync(isAbsolute(file) ? file : resolve(baseDir, file), 'utf8');
  return text.replace(/\r?\n$/, '');
}

/** Looks up and reads every secret triple of an object (`x`, `x_env`, `x_file`), in place. */
function resolveSecrets(
  schema: SchemaNode,
  out: Record<string, unknown>,
  path: string,
  ctx: NormalizeContext,
) {
  for (const field of secretFieldsOf(schema)) {
    const keys = [field.name, `${field.name}_env`, `${field.name}_file`];
    const given = keys.filter((key) => out[key] !== undefined);
    const at = join(path, field.name);
    ctx.secretPaths.add(at);
    const env = out[keys[1]!];
    const file = out[keys[2]!];
    delete out[keys[1]!];
    delete out[keys[2]!];
    if (given.length > 1) {
      ctx.problems.push({ path: join(path, given[1]!), message: `set only one of ${given.join(', ')}` });
      delete out[field.name];
      ctx.broken.add(at);
    } else if (typeof env === 'string') {
      const value = ctx.env[env];
      if (value === undefined || value === '') {
        ctx.problems.push({ path: join(path, keys[1]!), message: `environment variable ${env} is not set` });
        ctx.broken.add(at);
      } else {
        out[field.name] = value;
        ctx.secrets.push(value);
        ctx.origins.set(at, { path: join(path, keys[1]!), what: `the value of ${env}` });
      }
    } else if (typeof file === 'string') {
      try {
        const value = readSecretFile(file, ctx.baseDir);
        if (value === '') {
          ctx.problems.push({ path: join(path, keys[2]!), message: `${file} is empty` });
          ctx.broken.add(at);
        } else {
          out[field.name] = value;
          ctx.secrets.push(value);
          ctx.origins.set(at, { path: join(path, keys[2]!), what: `the content of ${file}` });
        }
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        ctx.problems.push({
          path: join(path, keys[2]!),
          message: `cannot read ${file}${code ? ` (${code})` : ''}`,
        });
        ctx.broken.add(at);
      }
    } else if (env !== undefined || file !== undefined) {
      // Not a string: the schema check reports the type at the key the user wrote.
      out[given[0]!] = env ?? file;
    } else if (typeof out[field.name] === 'string') {
      ctx.secrets.push(out[field.name] as string);
      if (field.warnPlain)
        ctx.warnings.push({
          path: at,
          message: `a secret written in the config file: put it in an environment variable (${keys[1]}) or a file (${keys[2]})`,
        });
    } else if (out[field.name] === undefined && field.required) {
      ctx.problems.push({ path: at, message: `is required: set ${keys[1]} (or ${keys[2]})` });
      ctx.broken.add(at);
    }
  }
}

/**
 * Walks a parsed file along its schema before validation: camelCase keys become snake_case (with
 * a deprecation warning), unknown keys become problems with a "did you mean" or where they belong,
 * and secrets are read from `*_env` / `*_file`. Returns a copy; the schema then checks the rest.
 */
export function normalize(
  schema: SchemaNode,
  value: unknown,
  path: string,
  ctx: NormalizeContext,
  index: Map<string, string[]>,
): unknown {
  const inner = unwrap(schema);
  if (value === undefined || value === null) return value;
  if (inner.entries && isMapping(value)) {
    const entries = inner.entries;
    const out: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(value)) {
      let name = key;
      if (!Object.hasOwn(entries, name)) {
        const snaked = snake(key);
        if (snaked !== key && Object.hasOwn(entries, snaked) && !Object.hasOwn(value, snaked)) {
          ctx.warnings.push({
            path: join(path, key),
            message: `camelCase keys are deprecated: write ${snaked}`,
          });
          name = snaked;
        } else if (inner.type === 'strict_object') {
          ctx.problems.push({
            path: join(path, key),
            message: unknownKey(key, Object.keys(entries), join(path, key), index),
          });
          continue;
        }
      }
      out[name] = normalize(
        entries[name] ?? ({ type: 'unknown' } as SchemaNode),
        value[key],
        join(path, name),
        ctx,
        index,
      );
    }
    resolveSecrets(inner, out, path, ctx);
    return out;
  }
  if (inner.type === 'record' && isMapping(value)) {
    const out: Record<string, unknown> = Object.create(null);
    for (const [key, item] of Object.entries(value))
      out[key] = normalize(inner.value!, item, join(path, key), ctx, index);
    return out;
  }
  if (inner.type === 'array' && Array.isArray(value))
    return value.map((item, i) => normalize(inner.item!, item, join(path, i), ctx, index));
  if ((inner.type === 'union' || inner.type === 'variant') && inner.options) {
    const options = inner.options.filter((o): o is SchemaNode => typeof o === 'object');
    const pick = isMapping(value)
      ? inner.type === 'variant'
        ? options.find((o) => Object.is(unwrap(o).entries?.type?.literal, value.type))
        : options.find(
            (o) =>
              unwrap(o).entries !== undefined || unwrap(o).type === 'record' || unwrap(o).type === 'variant',
          )
      : Array.isArray(value)
        ? options.find((o) => unwrap(o).type === 'array')
        : undefined;
    return pick ? normalize(pick, value, path, ctx, index) : value;
  }
  return value;
}
