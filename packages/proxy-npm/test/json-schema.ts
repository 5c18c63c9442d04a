import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

/**
 * A small JSON Schema checker for the keywords NPM's schemas use on the requests and answers these
 * tests touch: `$ref` (file and JSON pointer), `type`, `enum`, `anyOf`, `oneOf`, `required`,
 * `properties`, `additionalProperties: false`, `minProperties`, string lengths and `pattern`,
 * number bounds, `items`, `minItems`, `maxItems`, `uniqueItems`. Annotations are ignored. Messages
 * follow ajv's wording, which NPM puts into its 400 answers (`data/forward_port must be <= 65535`).
 * With `coerce`, numeric and boolean strings become numbers and booleans where the schema wants
 * them, as NPM's ajv (`coerceTypes`) does: a port of `"18081"` is accepted and converted.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = Record<string, unknown>;

export interface SchemaRef {
  readonly schema: Schema;
  /** File the schema came from, relative to the schema root: `$ref`s resolve against it. */
  readonly file: string;
}

export interface CheckResult {
  readonly errors: string[];
  /** The value after coercion. */
  readonly value: unknown;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

function coerced(value: unknown, types: string[]): unknown {
  if (typeof value !== 'string') return value;
  if ((types.includes('integer') || types.includes('number')) && /^-?\d+(\.\d+)?$/.test(value)) {
    const number = Number(value);
    if (types.includes('number') || Number.isInteger(number)) return number;
  }
  if (types.includes('boolean') && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

export class SchemaSet {
  private readonly files = new Map<string, Json>();
  private readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  private load(file: string): Json {
    let document = this.files.get(file);
    if (document === undefined) {
      document = JSON.parse(readFileSync(join(this.root, file), 'utf8')) as Json;
      this.files.set(file, document);
    }
    return document;
  }

  /** A schema by file and JSON pointer, e.g. `('components/proxy-host-object.json', '')`. */
  at(file: string, pointer = ''): SchemaRef {
    let node: unknown = this.load(file);
    for (const part of pointer.split('/').filter((segment) => segment !== '')) {
      const key = part.replaceAll('~1', '/').replaceAll('~0', '~');
      node = (node as Record<string, unknown> | undefined)?.[key];
    }
    if (typeof node !== 'object' || node === null) throw new Error(`No schema at ${file}#${pointer}`);
    return { schema: node as Schema, file };
  }

  /** The JSON request body schema of an operation file, e.g. `paths/nginx/proxy-hosts/post.json`. */
  requestBody(file: string): SchemaRef {
    return this.at(file, '/requestBody/content/application~1json/schema');
  }

  private resolve(ref: string, base: string): SchemaRef {
    const [path = '', pointer = ''] = ref.split('#');
    const file = path === '' ? base : normalize(join(dirname(base), path));
    return this.at(file, pointer);
  }

  check(ref: SchemaRef, value: unknown, options: { coerce?: boolean } = {}): CheckResult {
    const errors: string[] = [];
    const result = this.visit(ref, value, 'data', errors, options.coerce ?? false);
    return { errors, value: result };
  }

  private visit(ref: SchemaRef, input: unknown, path: string, errors: string[], coerce: boolean): unknown {
    const { schema, file } = ref;
    if (typeof schema.$ref === 'string') {
      return this.visit(this.resolve(schema.$ref, file), input, path, errors, coerce);
    }
    let value = input;
    if (Array.isArray(schema.anyOf) || Array.isArray(schema.oneOf)) {
      const options = (schema.anyOf ?? schema.oneOf) as Schema[];
      const passing = options
        .map((option) => {
          const own: string[] = [];
          const out = this.visit({ schema: option, file }, value, path, own, coerce);
          return { ok: own.length === 0, out };
        })
        .filter((candidate) => candidate.ok);
      if (schema.anyOf && passing.length === 0) errors.push(`${path} must match a schema in anyOf`);
      if (schema.oneOf && passing.length !== 1) errors.push(`${path} must match exactly one schema in oneOf`);
      if (passing[0]) value = passing[0].out;
    }
    if (schema.type !== undefined) {
      const types = (Array.isArray(schema.type) ? schema.type : [schema.type]) as string[];
      if (coerce) value = coerced(value, types);
      if (!types.some((type) => matchesType(value, type))) {
        errors.push(`${path} must be ${types.join(',')}`);
        return value;
      }
    }
    if (Array.isArray(schema.enum) && !schema.enum.some((allowed) => allowed === value)) {
      errors.push(`${path} must be equal to one of the allowed values`);
    }
    if (typeof value === 'string') this.visitString(schema, value, path, errors);
    if (typeof value === 'number') {
      if (typeof schema.minimum === 'number' && value < schema.minimum)
        errors.push(`${path} must be >= ${schema.minimum}`);
      if (typeof schema.maximum === 'number' && value > schema.maximum)
        errors.push(`${path} must be <= ${schema.maximum}`);
    }
    if (Array.isArray(value)) value = this.visitArray(ref, value, path, errors, coerce);
    else if (typeof value === 'object' && value !== null) {
      value = this.visitObject(ref, value as Record<string, unknown>, path, errors, coerce);
    }
    return value;
  }

  private visitString(schema: Schema, value: string, path: string, errors: string[]): void {
    const length = [...value].length;
    if (typeof schema.minLength === 'number' && length < schema.minLength) {
      errors.push(`${path} must NOT have fewer than ${schema.minLength} characters`);
    }
    if (typeof schema.maxLength === 'number' && length > schema.maxLength) {
      errors.push(`${path} must NOT have more than ${schema.maxLength} characters`);
    }
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) {
      errors.push(`${path} must match pattern "${schema.pattern}"`);
    }
  }

  private visitArray(
    ref: SchemaRef,
    value: unknown[],
    path: string,
    errors: string[],
    coerce: boolean,
  ): unknown[] {
    const { schema, file } = ref;
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) {
      errors.push(`${path} must NOT have fewer than ${schema.minItems} items`);
    }
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) {
      errors.push(`${path} must NOT have more than ${schema.maxItems} items`);
    }
    if (schema.uniqueItems === true) {
      const seen = value.map((item) => JSON.stringify(item));
      const duplicate = seen.findIndex((item, index) => seen.indexOf(item) !== index);
      if (duplicate >= 0) {
        errors.push(
          `${path} must NOT have duplicate items (items ## ${seen.indexOf(seen[duplicate] ?? '')} and ${duplicate} are identical)`,
        );
      }
    }
    if (typeof schema.items !== 'object' || schema.items === null) return value;
    const items = { schema: schema.items as Schema, file };
    return value.map((item, index) => this.visit(items, item, `${path}/${index}`, errors, coerce));
  }

  private visitObject(
    ref: SchemaRef,
    value: Record<string, unknown>,
    path: string,
    errors: string[],
    coerce: boolean,
  ): Record<string, unknown> {
    const { schema, file } = ref;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const name of (schema.required ?? []) as string[]) {
      if (!(name in value)) errors.push(`${path} must have required property '${name}'`);
    }
    if (typeof schema.minProperties === 'number' && Object.keys(value).length < schema.minProperties) {
      errors.push(`${path} must NOT have fewer than ${schema.minProperties} properties`);
    }
    if (schema.additionalProperties === false && Object.keys(value).some((name) => !(name in properties))) {
      errors.push(`${path} must NOT have additional properties`);
    }
    const out: Record<string, unknown> = { ...value };
    for (const [name, property] of Object.entries(properties)) {
      if (name in value)
        out[name] = this.visit({ schema: property, file }, value[name], `${path}/${name}`, errors, coerce);
    }
    return out;
  }
}
