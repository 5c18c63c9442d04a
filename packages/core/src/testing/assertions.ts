import assert, { AssertionError } from 'node:assert/strict';
import { type CoreError, type ErrorCode, isCoreError } from '../errors.ts';

// The kit asserts with node:assert, not vitest's expect: cases also run outside a vitest test.

/** Fails with `message` unless `condition` holds. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError({ message });
}

/** Fails when `value` is `undefined` or `null`; returns it otherwise. */
export function defined<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null)
    throw new AssertionError({ message: `${what}: expected a value, got ${value}` });
  return value;
}

const show = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
};

/**
 * Deep equality of JSON values: both sides go through JSON first, so an absent field and one set to
 * `undefined` are the same (stores that serialise cannot tell them apart either).
 */
export function same(actual: unknown, expected: unknown, what: string): void {
  const json = (value: unknown): unknown =>
    value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  try {
    assert.deepStrictEqual(json(actual), json(expected));
  } catch (error) {
    if (!(error instanceof AssertionError)) throw error;
    throw new AssertionError({ message: `${what}\n${error.message}`, actual, expected });
  }
}

/**
 * Awaits `action` and requires it to reject with a `CoreError` whose code is `code` (or one of
 * `code`). Returns the error for further checks.
 */
export async function expectCoreError(
  action: Promise<unknown> | (() => Promise<unknown>),
  code: ErrorCode | readonly ErrorCode[],
  what = 'the call',
): Promise<CoreError> {
  const codes: readonly ErrorCode[] = typeof code === 'string' ? [code] : code;
  const expected = codes.join(' or ');
  let outcome: unknown;
  try {
    outcome = await (typeof action === 'function' ? action() : action);
  } catch (error) {
    if (!isCoreError(error)) {
      const description = error instanceof Error ? `${error.name}: ${error.message}` : show(error);
      throw new AssertionError({ message: `${what}: expected a CoreError ${expected}, got ${description}` });
    }
    if (!codes.includes(error.code)) {
      throw new AssertionError({
        message: `${what}: expected a CoreError ${expected}, got ${error.code} (${error.message})`,
      });
    }
    return error;
  }
  throw new AssertionError({
    message: `${what}: expected a CoreError ${expected}, but it resolved with ${show(outcome)}`,
  });
}

/** Polls `probe` every `intervalMs` until `done` accepts a value or `timeoutMs` passes; returns every value seen. */
export async function pollUntil<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  options: { readonly intervalMs: number; readonly timeoutMs: number },
): Promise<T[]> {
  const seen: T[] = [];
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    seen.push(value);
    if (done(value) || Date.now() >= deadline) return seen;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A signal that has fired already. */
export function abortedSignal(): AbortSignal {
  const controller = new AbortController();
  controller.abort(new Error('aborted by the conformance kit'));
  return controller.signal;
}

/** Ids are `<kind>:<name>`, optionally with an instance suffix: `registry:gitea/main`. */
export function checkAdapterId(id: unknown, kind: string): void {
  check(
    typeof id === 'string' && new RegExp(`^${kind}:[a-z0-9][a-z0-9-]*(/\\S+)?$`).test(id),
    `id: expected "${kind}:<name>" or "${kind}:<name>/<instance>" in kebab-case, got ${show(id)}`,
  );
}

/** Every named capability is a boolean flag. */
export function checkFlags(capabilities: unknown, names: readonly string[]): void {
  check(
    typeof capabilities === 'object' && capabilities !== null,
    `capabilities: expected an object, got ${show(capabilities)}`,
  );
  for (const name of names) {
    const value = (capabilities as Record<string, unknown>)[name];
    check(typeof value === 'boolean', `capabilities.${name}: expected a boolean, got ${show(value)}`);
  }
}
