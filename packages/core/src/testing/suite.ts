import { randomUUID } from 'node:crypto';
import type { Adapter } from '../contracts/adapter.ts';

/** What a case gets: the harness, a unique suffix for names, and a place for cleanups. */
export interface CaseContext<H> {
  readonly harness: H;
  /** Random, lower-case, 8 characters; unique per case run, so names in shared backends never collide. */
  readonly unique: string;
  /** Runs `cleanup` after the case, newest first, before the adapter is disposed. Best effort: its errors are ignored. */
  defer(cleanup: () => unknown): void;
}

/**
 * Runs a case exactly when the adapter (or its harness) makes a claim (`when: true`), or exactly
 * when it does not (`when: false`, for cases checking that an unclaimed optional method is absent).
 */
export interface CaseGate<H> {
  /** The claim as people read it, e.g. `capabilities.webhooks` or `harness.requestCount()`. */
  readonly claim: string;
  readonly when: boolean;
  readonly claimed: (harness: H) => boolean;
}

export interface ConformanceCase<H, Id extends string = string> {
  /** Stable kebab-case id: skips and reports refer to it; titles may change, ids do not. */
  readonly id: Id;
  readonly title: string;
  readonly gate?: CaseGate<H>;
  readonly run: (context: CaseContext<H>) => Promise<void>;
}

/** One contract's table of cases and how to find the adapter in its harness. */
export interface ConformanceSuite<H extends HarnessBase, Id extends string> {
  /** The contract's name, e.g. `Registry`. */
  readonly contract: string;
  readonly cases: ReadonlyArray<ConformanceCase<H, Id>>;
  readonly subject: (harness: H) => Adapter;
}

/** What every harness may have besides its adapter. */
export interface HarnessBase {
  /** Releases what the harness started (servers, files); called after the adapter is disposed. */
  dispose?(): Promise<void> | void;
}

export type CaseResult<Id extends string = string> =
  | { readonly id: Id; readonly status: 'passed' }
  | { readonly id: Id; readonly status: 'not-applicable'; readonly reason: string }
  | { readonly id: Id; readonly status: 'skipped'; readonly reason: string }
  | { readonly id: Id; readonly status: 'failed'; readonly error: unknown };

type Reason<T> = T extends ''
  ? 'a skip needs a non-empty reason'
  : T extends string
    ? T
    : 'a skip needs a non-empty reason';

/**
 * Skips keyed by case id, each with a reason. As a constraint on the caller's literal, it turns an
 * unknown id, an empty reason or a non-string into a type error.
 */
export type SkipMap<S, Id extends string> = {
  readonly [K in keyof S]: K extends Id ? Reason<S[K]> : 'not a case id of this suite';
};

export interface SuiteOptions<H, S> {
  /** Names the adapter in test titles, e.g. `registry:gitea (live)`. */
  readonly name: string;
  /** A fresh harness (with a fresh adapter) for every case; disposed after the case, also when it fails. */
  readonly create: () => H | Promise<H>;
  /** Cases this adapter cannot be asked to pass, by id, each with its reason. */
  readonly skip?: S;
  /** Per-case timeout, for slow backends; vitest's default otherwise. */
  readonly timeoutMs?: number;
}

/** The part of vitest's API the kit registers tests with; the kit's own tests pass a recorder. */
export interface TestApi {
  describe(name: string, body: () => void): void;
  it: {
    (name: string, body: (context: { skip(note?: string): never }) => Promise<void>, timeout?: number): void;
    skip(name: string, body: () => void): void;
  };
}

/** Problems of a skip map: unknown ids and missing reasons. Each one fails the run. */
export function skipProblems(
  cases: ReadonlyArray<{ readonly id: string }>,
  skip: object | undefined,
): string[] {
  const known = new Set(cases.map((spec) => spec.id));
  const problems: string[] = [];
  for (const [id, reason] of Object.entries(skip ?? {})) {
    if (!known.has(id))
      problems.push(`unknown case id "${id}" in skip (known ids: ${[...known].join(', ')})`);
    else if (typeof reason !== 'string' || reason.trim() === '')
      problems.push(`skip of "${id}" needs a non-empty reason`);
  }
  return problems;
}

function skipReason(skip: object | undefined, id: string): string | undefined {
  const reason: unknown = skip ? (skip as Record<string, unknown>)[id] : undefined;
  return typeof reason === 'string' && reason.trim() !== '' ? reason : undefined;
}

function uniqueSuffix(): string {
  return randomUUID().replaceAll('-', '').slice(0, 8);
}

/**
 * Runs one case without any test framework: creates a harness, checks the gate, runs the case,
 * runs its cleanups, disposes the adapter and the harness. Never throws: failures are results.
 */
export async function runCase<H extends HarnessBase, Id extends string>(
  suite: ConformanceSuite<H, Id>,
  id: Id,
  create: () => H | Promise<H>,
): Promise<CaseResult<Id>> {
  const spec = suite.cases.find((candidate) => candidate.id === id);
  if (!spec) return { id, status: 'failed', error: new Error(`${suite.contract} has no case "${id}"`) };
  let harness: H;
  try {
    harness = await create();
  } catch (error) {
    return { id, status: 'failed', error };
  }
  const cleanups: Array<() => unknown> = [];
  let result: CaseResult<Id>;
  try {
    if (spec.gate && spec.gate.claimed(harness) !== spec.gate.when) {
      const reason = spec.gate.when ? `${spec.gate.claim} is not claimed` : `${spec.gate.claim} is claimed`;
      result = { id, status: 'not-applicable', reason };
    } else {
      await spec.run({ harness, unique: uniqueSuffix(), defer: (cleanup) => cleanups.push(cleanup) });
      result = { id, status: 'passed' };
    }
  } catch (error) {
    result = { id, status: 'failed', error };
  }
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch {
      // Cleanup is not under test; the case's own assertions are.
    }
  }
  try {
    await suite.subject(harness).dispose();
    await harness.dispose?.();
  } catch (error) {
    if (result.status !== 'failed') result = { id, status: 'failed', error };
  }
  return result;
}

/** Runs every case of a suite in order (skipped ones are reported, not run). */
export async function runCases<H extends HarnessBase, Id extends string>(
  suite: ConformanceSuite<H, Id>,
  create: () => H | Promise<H>,
  options: { readonly skip?: Partial<Record<Id, string>> } = {},
): Promise<Array<CaseResult<Id>>> {
  const results: Array<CaseResult<Id>> = [];
  for (const spec of suite.cases) {
    const reason = skipReason(options.skip, spec.id);
    results.push(
      reason === undefined
        ? await runCase(suite, spec.id, create)
        : { id: spec.id, status: 'skipped', reason },
    );
  }
  return results;
}

/** Maps a suite onto `describe`/`it`: one test per case, named `<id>: <title>`. */
export function registerSuite<H extends HarnessBase, Id extends string>(
  suite: ConformanceSuite<H, Id>,
  options: SuiteOptions<H, object>,
  api: TestApi,
): void {
  api.describe(`${suite.contract} conformance: ${options.name}`, () => {
    const problems = skipProblems(suite.cases, options.skip);
    if (problems.length > 0) {
      api.it('skip map names known cases, each with a reason', async () => {
        throw new Error(`${suite.contract} conformance of ${options.name}:\n${problems.join('\n')}`);
      });
    }
    for (const spec of suite.cases) {
      const name = `${spec.id}: ${spec.title}`;
      const reason = skipReason(options.skip, spec.id);
      if (reason !== undefined) {
        api.it.skip(`${name} (skipped: ${reason})`, () => {});
        continue;
      }
      api.it(
        name,
        async (context) => {
          const result = await runCase(suite, spec.id, options.create);
          if (result.status === 'failed') throw result.error;
          if (result.status === 'not-applicable') context.skip(result.reason);
        },
        options.timeoutMs,
      );
    }
  });
}

/** The case every suite ends with: the adapter's `dispose` can be called twice. */
export function disposeIsIdempotentCase<H>(subject: (harness: H) => Adapter): Omit<ConformanceCase<H>, 'id'> {
  return {
    title: 'dispose can be called twice',
    run: async ({ harness }) => {
      await subject(harness).dispose();
      await subject(harness).dispose();
    },
  };
}

/** Turns a record of cases keyed by id (every id exactly once, in table order) into the table. */
export function caseTable<H, Id extends string>(
  cases: Record<Id, Omit<ConformanceCase<H, Id>, 'id'>>,
): ReadonlyArray<ConformanceCase<H, Id>> {
  return Object.freeze((Object.keys(cases) as Id[]).map((id) => Object.freeze({ id, ...cases[id] })));
}
