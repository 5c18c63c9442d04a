// What every state store checks and computes the same way, whatever keeps its data: argument checks,
// revision conflicts, ttls, limits, and the split of records into keyed fields and a free-form body.
import {
  type DeployListFilter,
  type DeployRecord,
  type DeployRecordInit,
  type JournalEntry,
  repositoryMarkTagLimit,
  type StageState,
  type StageStateInit,
} from '../contracts/state-store.ts';
import { type DeployState, isDeployState } from '../engine/deploy-states.ts';
import { CoreError } from '../errors.ts';

/** Deep copy with JSON semantics: what a caller gets back is exactly what a read returns later. */
export const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** `BAD_REQUEST` unless `expectedRevision` is a whole number >= 0. */
export function checkRevision(revision: number): void {
  if (!Number.isInteger(revision) || revision < 0) {
    throw new CoreError('BAD_REQUEST', `expectedRevision must be a whole number >= 0, not ${revision}`);
  }
}

/** `BAD_REQUEST` unless `name` is a non-empty string. */
export function checkName(what: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '')
    throw new CoreError('BAD_REQUEST', `${what} must be a non-empty string`);
}

/** The `CONFLICT` a compare-and-set that lost reports. */
export function conflict(
  what: string,
  expected: number,
  actual: number,
  details: Record<string, unknown>,
): CoreError {
  return new CoreError('CONFLICT', `${what} is at revision ${actual}, not ${expected}`, {
    details: { ...details, expectedRevision: expected, actualRevision: actual },
  });
}

// The latest instant a Date can hold: a ttl of Infinity means "until then".
export const maxTime = 8.64e15;

/** `now + ttlMs` as a whole number of milliseconds, for INTEGER columns and `Date`. */
export function expiryOf(now: number, ttlMs: number): number {
  const at = now + ttlMs;
  return Number.isNaN(at) ? now : Math.round(Math.max(-maxTime, Math.min(maxTime, at)));
}

/**
 * `limit` as `Array.prototype.slice` reads it (the in-memory store's semantics): how many to keep,
 * `undefined` for all. Each store writes it as its SQL dialect's LIMIT.
 */
export function sliceLimit(limit: number | undefined): number | undefined {
  if (limit === undefined || limit === Number.POSITIVE_INFINITY) return undefined;
  if (Number.isNaN(limit)) return 0;
  return Math.max(0, Math.trunc(limit));
}

/**
 * The fields of a stage kept as JSON: all but its key and the store's own bookkeeping, and without
 * `seenDigests`, which earlier cores kept (always empty) and a stage read from an old row still carries.
 */
export function stageBody(state: StageStateInit, historyLimit: number): Record<string, unknown> {
  const {
    project: _p,
    stage: _s,
    revision: _r,
    updatedAt: _u,
    seenDigests: _legacy,
    ...rest
  } = state as StageStateInit & Partial<StageState> & { readonly seenDigests?: unknown };
  return { ...rest, history: state.history.slice(0, historyLimit) };
}

/** The fields of a deploy kept as JSON: release, previous, trigger, error, data. */
export function deployBody(deploy: DeployRecordInit | DeployRecord): Record<string, unknown> {
  const {
    id: _id,
    project: _p,
    stage: _s,
    state: _state,
    finished: _f,
    revision: _r,
    journal: _j,
    createdAt: _c,
    updatedAt: _u,
    ...rest
  } = deploy as DeployRecord;
  return rest;
}

/**
 * A deploy state as a store read it from its own data. `INTERNAL`, naming `what` and the value,
 * when it is none of the state table's: the data is corrupt or a newer version wrote it, and a
 * guess would let the engine act on a deploy it does not understand.
 */
export function readDeployState(value: unknown, what: string): DeployState {
  if (typeof value === 'string' && isDeployState(value)) return value;
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 64)) : typeof value;
  throw new CoreError(
    'INTERNAL',
    `${what} has an unknown deploy state in the store: ${shown} (corrupt data, or written by a newer version)`,
    { details: { what } },
  );
}

/** A journal entry as a row holds it (`note` NULL when absent); its state is checked. */
export function toJournalEntry(row: {
  readonly seq: number;
  readonly state: string;
  readonly at: string;
  readonly note: string | null;
}): JournalEntry {
  const state = readDeployState(row.state, `journal entry ${row.seq}`);
  return { seq: row.seq, state, at: row.at, ...(row.note === null ? {} : { note: row.note }) };
}

/** Whether a deploy passes a `listDeploys` filter's conditions (all but `limit` and `before`). */
export function matchesDeployFilter(deploy: DeployRecord, filter: DeployListFilter): boolean {
  return (
    (filter.project === undefined || deploy.project === filter.project) &&
    (filter.stage === undefined || deploy.stage === filter.stage) &&
    (filter.unfinished !== true || !deploy.finished) &&
    (filter.states === undefined || filter.states.includes(deploy.state)) &&
    (filter.trigger === undefined || deploy.trigger === filter.trigger) &&
    (filter.since === undefined || deploy.createdAt >= filter.since) &&
    (filter.until === undefined || deploy.createdAt < filter.until)
  );
}

/** How many feed entries a store keeps unless told otherwise. */
export const defaultFeedKeep = 10_000;

/** How many feed entries one `readFeed` returns unless told otherwise. */
export const defaultFeedReadLimit = 1_000;

/** `keep` as a whole number of at least 1. */
export function feedKeepOf(keep: number | undefined): number {
  if (keep === undefined || Number.isNaN(keep)) return defaultFeedKeep;
  return Math.max(1, Math.trunc(Math.min(keep, Number.MAX_SAFE_INTEGER)));
}

/** The tags of a mark after `markRepository` adds `incoming`: each once, newest last, the newest `repositoryMarkTagLimit`. */
export function mergeMarkTags(existing: readonly string[], incoming: readonly string[]): string[] {
  const merged = [...existing.filter((tag) => !incoming.includes(tag)), ...new Set(incoming)];
  return merged.slice(-repositoryMarkTagLimit);
}
