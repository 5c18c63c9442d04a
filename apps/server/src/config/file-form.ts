import * as v from 'valibot';

/**
 * The config file speaks one language: snake_case keys at every depth, and every secret as
 * `<key>_env` (an environment variable) or `<key>_file` (a file, as Docker and Kubernetes mount
 * secrets). Adapters keep their camelCase option schemas for SDK users; this module derives the
 * file's form of them, and maps a file value back to adapter options.
 */

// valibot's schema objects, as far as this module looks into them.
export interface SchemaNode {
  readonly type: string;
  readonly kind?: string;
  readonly pipe?: readonly SchemaNode[];
  readonly entries?: Readonly<Record<string, SchemaNode>>;
  readonly wrapped?: SchemaNode;
  readonly item?: SchemaNode;
  readonly key?: SchemaNode;
  readonly value?: SchemaNode;
  readonly options?: readonly (SchemaNode | string | number)[];
  readonly literal?: unknown;
  readonly default?: unknown;
  readonly description?: string;
  readonly metadata?: Record<string, unknown>;
  readonly examples?: readonly unknown[];
  readonly requirement?: unknown;
}

export const node = (schema: unknown): SchemaNode => schema as SchemaNode;

export const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
export const camel = (key: string): string =>
  key.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());

/** What the file says about a secret field: its three spellings, and whether it must be given. */
export interface SecretField {
  readonly name: string;
  readonly required: boolean;
  /** Warn when the value is written in the file (off for values that are secret only sometimes). */
  readonly warnPlain: boolean;
}

/** Secrets that are secret only sometimes (a store URL may or may not hold a password). */
const quietSecrets = new WeakSet<object>();

/** Secret fields of each object schema of the file form, by the object schema. */
const secretFields = new WeakMap<object, readonly SecretField[]>();

export function secretFieldsOf(schema: SchemaNode): readonly SecretField[] {
  // A piped schema copies its root's keys: the root is the one registered.
  for (let at: SchemaNode | undefined = unwrap(schema); at; ) {
    const found = secretFields.get(at);
    if (found) return found;
    const root: SchemaNode | undefined = at.pipe?.[0];
    at = root && root !== at ? unwrap(root) : undefined;
  }
  return [];
}

/** The schema under `optional`, `nullable` and friends. */
export function unwrap(schema: SchemaNode): SchemaNode {
  let current = schema;
  while (current.wrapped && ['optional', 'nullable', 'nullish', 'exact_optional'].includes(current.type))
    current = current.wrapped;
  return current;
}

export const isOptional = (schema: SchemaNode): boolean =>
  ['optional', 'nullish', 'exact_optional'].includes(schema.type);

/** The description of a schema (the last `description` action of its pipe, or of the wrapped schema's). */
export function descriptionOf(schema: SchemaNode): string | undefined {
  for (let current: SchemaNode | undefined = schema; current; current = current.wrapped) {
    const found = [...(current.pipe ?? [])].reverse().find((a) => a.type === 'description');
    if (found?.description) return found.description;
  }
  return undefined;
}

export const envName = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable, e.g. GITEA_TOKEN'),
);

const secretFile = v.pipe(v.string(), v.minLength(1, 'must be the path of a file'));

/**
 * `{ name, name_env, name_file }`: a secret written in the file (a warning), read from an
 * environment variable, or read from a file. At most one of the three may be given.
 */
export function secretEntries<N extends string, S extends v.GenericSchema>(
  name: N,
  schema: S,
  description: string,
  options: { readonly warnPlain?: boolean } = {},
): Record<N, v.OptionalSchema<S, undefined>> &
  Record<`${N}_env` | `${N}_file`, v.OptionalSchema<v.GenericSchema<string>, undefined>> {
  const value = v.pipe(schema, v.description(description), v.metadata({ writeOnly: true }));
  if (options.warnPlain === false) quietSecrets.add(value);
  return {
    [name]: v.optional(value),
    [`${name}_env`]: v.optional(v.pipe(envName, v.description(`Environment variable holding \`${name}\`.`))),
    [`${name}_file`]: v.optional(
      v.pipe(
        secretFile,
        v.description(
          `File holding \`${name}\` (a Docker or Kubernetes secret), read at start and on reload; one final newline is dropped.`,
        ),
      ),
    ),
  } as never;
}

/** A strict object of the file form, with its secret fields registered for the loader. */
export function fileObject<E extends v.ObjectEntries>(
  entries: E,
  required: readonly string[] = [],
): v.StrictObjectSchema<E, undefined> {
  const secrets: SecretField[] = [];
  for (const [key, schema] of Object.entries(entries)) {
    const inner = unwrap(node(schema));
    if ((inner.pipe ?? []).some((a) => a.type === 'metadata' && a.metadata?.writeOnly === true)) {
      secrets.push({ name: key, required: required.includes(key), warnPlain: !quietSecrets.has(inner) });
    }
  }
  const object = v.strictObject(entries);
  secretFields.set(object, secrets);
  return object;
}

/** Object schemas whose pipe checks read camelCase keys: those checks stay with the adapter schema. */
const keepsAction = (action: SchemaNode) =>
  ['description', 'metadata', 'title', 'examples'].includes(action.type) || action.kind !== 'validation';

/**
 * The file's form of an adapter's option schema: keys in snake_case at every depth (record keys
 * are data and stay), and each secret option (by name, at any depth) as a `secretEntries` triple.
 * Checks across fields stay with the adapter's schema, which validates the translated options.
 */
export function fileForm(schema: v.GenericSchema, secrets: readonly string[]): v.GenericSchema {
  // Descriptions name other options: in the file's spelling.
  const keys = optionKeys(node(schema));
  const respell = (action: SchemaNode): SchemaNode =>
    action.type === 'description' && action.description
      ? (v.description(
          action.description.replace(/`([a-z][a-zA-Z0-9]*)`/g, (all, word: string) =>
            keys.has(word) ? `\`${snake(word)}\`` : all,
          ),
        ) as unknown as SchemaNode)
      : action;
  const walk = (current: SchemaNode): v.GenericSchema => {
    const pipe = current.pipe;
    if (pipe && pipe.length > 0 && pipe[0] !== current) {
      const [root, ...actions] = pipe;
      const inner = walk(root!);
      const isObject = root!.entries !== undefined;
      const kept = actions.filter((a) => !isObject || keepsAction(a)).map(respell);
      return kept.length === 0
        ? inner
        : (v.pipe as unknown as (...items: unknown[]) => v.GenericSchema)(inner, ...kept);
    }
    switch (current.type) {
      case 'optional':
      case 'exact_optional':
      case 'nullish':
      case 'nullable': {
        const wrappers = {
          optional: v.optional,
          exact_optional: v.exactOptional,
          nullish: v.nullish,
          nullable: v.nullable,
        };
        const make = wrappers[current.type] as (
          wrapped: v.GenericSchema,
          fallback?: unknown,
        ) => v.GenericSchema;
        return current.default === undefined
          ? make(walk(current.wrapped!))
          : make(walk(current.wrapped!), current.default);
      }
      case 'object':
      case 'strict_object':
      case 'loose_object': {
        const entries: Record<string, v.GenericSchema> = {};
        const required: string[] = [];
        for (const [key, entry] of Object.entries(current.entries ?? {})) {
          const name = snake(key);
          if (secrets.includes(key) && unwrap(entry).type === 'string') {
            Object.assign(entries, secretEntries(name, walk(unwrap(entry)), descriptionOf(entry) ?? ''));
            if (!isOptional(entry)) required.push(name);
          } else entries[name] = walk(entry);
        }
        return fileObject(entries, required);
      }
      case 'record':
        return v.record(current.key as unknown as v.GenericSchema<string>, walk(current.value!));
      case 'array':
        return v.array(walk(current.item!));
      case 'union':
        return v.union((current.options as SchemaNode[]).map(walk));
      case 'variant':
        return v.variant(
          (current as unknown as { key: string }).key,
          (current.options as SchemaNode[]).map(walk) as never,
        );
      default:
        return current as unknown as v.GenericSchema;
    }
  };
  return walk(node(schema));
}

/** Every object key anywhere in a schema. */
function optionKeys(schema: SchemaNode, out = new Set<string>()): Set<string> {
  const inner = unwrap(schema);
  const root = inner.pipe?.[0];
  if (root && root !== inner) optionKeys(root, out);
  for (const [key, entry] of Object.entries(inner.entries ?? {})) {
    out.add(key);
    optionKeys(entry, out);
  }
  for (const child of [inner.value, inner.item, ...((inner.options ?? []) as SchemaNode[])])
    if (child && typeof child === 'object') optionKeys(child, out);
  return out;
}

/**
 * A parsed file value -> adapter options: snake_case keys back to the adapter schema's camelCase
 * keys (record keys stay), guided by that schema.
 */
export function toAdapterOptions(value: unknown, schema: v.GenericSchema): unknown {
  const walk = (current: unknown, at: SchemaNode | undefined): unknown => {
    if (at === undefined) return current;
    const inner = unwrap(at);
    if (Array.isArray(current)) return current.map((item) => walk(item, inner.item));
    if (current === null || typeof current !== 'object') return current;
    if (inner.type === 'record') {
      return Object.fromEntries(Object.entries(current).map(([k, item]) => [k, walk(item, inner.value)]));
    }
    if (inner.entries) {
      const bySnake = new Map(Object.keys(inner.entries).map((key) => [snake(key), key]));
      return Object.fromEntries(
        Object.entries(current).map(([k, item]) => {
          const key = bySnake.get(k) ?? k;
          return [key, walk(item, inner.entries![key])];
        }),
      );
    }
    if (inner.type === 'union' || inner.type === 'variant') {
      const objects = (inner.options as SchemaNode[]).filter((o) => unwrap(o).entries);
      const type = (current as { type?: unknown }).type;
      const match =
        objects.find((o) => unwrap(o).entries?.type?.literal === type) ??
        (objects.length === 1 ? objects[0] : undefined);
      return walk(current, match);
    }
    return current;
  };
  return walk(value, node(schema));
}

/** An adapter problem's path (camelCase keys) -> the path the user wrote (snake_case; record keys stay). */
export function toFilePath(segments: readonly string[], schema: v.GenericSchema): string[] {
  const out: string[] = [];
  let at: SchemaNode | undefined = node(schema);
  for (const segment of segments) {
    const inner: SchemaNode | undefined = at ? unwrap(at) : undefined;
    if (inner?.entries) {
      out.push(snake(segment));
      at = inner.entries[segment];
    } else if (inner?.type === 'record') {
      out.push(segment);
      at = inner.value;
    } else if (inner?.type === 'array') {
      out.push(segment);
      at = inner.item;
    } else if (inner?.options) {
      const objects: SchemaNode[] = (inner.options as SchemaNode[]).filter((o) => typeof o === 'object');
      const match: SchemaNode | undefined = objects.find((o) => unwrap(o).entries?.[segment]);
      out.push(match ? snake(segment) : segment);
      at = match ? unwrap(match).entries?.[segment] : undefined;
    } else {
      out.push(segment);
      at = undefined;
    }
  }
  return out;
}
