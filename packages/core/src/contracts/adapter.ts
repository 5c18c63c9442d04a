import type * as v from 'valibot';
import { parseOptions } from '../config.ts';
import type { Logger } from '../logger.ts';

/** What every operation of every adapter accepts. */
export interface CallOptions {
  readonly signal?: AbortSignal;
}

/** What every adapter is. */
export interface Adapter {
  /** Stable id, `<kind>:<name>` (e.g. `registry:gitea`), or with an instance suffix (`registry:gitea/main`). */
  readonly id: string;
  /** Releases sockets, timers and caches. Idempotent: a second call does nothing. */
  dispose(): Promise<void>;
}

export type AdapterKind = 'registry' | 'target' | 'proxy' | 'notifier' | 'store';

export interface AdapterContext {
  /** Silent unless the caller injects one. */
  readonly logger?: Logger;
  /** Instance name used in the id (`registry:gitea/<instance>`), e.g. the config key. */
  readonly instance?: string;
}

/**
 * One door for the server's config (name, schema, secret option names) and one for SDK users
 * (`create…()` factories call `instantiate`): both validate options exactly once, here.
 */
export interface AdapterDefinition<K extends AdapterKind, S extends v.GenericSchema, A extends Adapter> {
  readonly kind: K;
  /** Short backend name, e.g. `gitea`; the adapter's id is `<kind>:<name>`. */
  readonly name: string;
  readonly options: S;
  /** Option names whose values are secrets: never echoed in errors or logs. */
  readonly secrets: readonly string[];
  readonly create: (options: v.InferOutput<S>, context: AdapterContext) => A;
}

export type AdapterOptionsInput<D> =
  D extends AdapterDefinition<AdapterKind, infer S, Adapter> ? v.InferInput<S> : never;

export function adapterId(kind: AdapterKind, name: string, instance?: string): string {
  return instance ? `${kind}:${name}/${instance}` : `${kind}:${name}`;
}

/** Validates raw options against the definition's schema and creates the adapter. */
export function instantiate<K extends AdapterKind, S extends v.GenericSchema, A extends Adapter>(
  definition: AdapterDefinition<K, S, A>,
  input: unknown,
  context: AdapterContext & { path?: string } = {},
): A {
  const options = parseOptions(definition.options, input, {
    subject: `options of ${adapterId(definition.kind, definition.name)}`,
    secrets: definition.secrets,
    ...(context.path === undefined ? {} : { path: context.path }),
  });
  return definition.create(options, context);
}

/** Makes `dispose()` idempotent and marks the adapter disposed for guards. */
export function onceDisposer(dispose: () => Promise<void>): {
  dispose: () => Promise<void>;
  readonly disposed: () => boolean;
} {
  let pending: Promise<void> | undefined;
  return {
    dispose: () => {
      pending ??= dispose();
      return pending;
    },
    disposed: () => pending !== undefined,
  };
}
