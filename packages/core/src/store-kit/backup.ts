// The backup format of the durable stores (`docker-watcher.store-backup` v1): one format, so that a
// backup moves between the stores.
import * as v from 'valibot';
import type { CallOptions } from '../contracts/adapter.ts';
import type { Approval, AuditEvent, DeployRecord, LogLine, StageState } from '../contracts/state-store.ts';
import { deployStates } from '../engine/deploy-states.ts';
import { CoreError } from '../errors.ts';

export const storeBackupFormat = 'docker-watcher.store-backup';

/** A secret as stored: the ciphertext (base64) and the id of the key that opens it. Never the value. */
export interface BackupSecret {
  readonly name: string;
  readonly keyId: string;
  readonly iv: string;
  readonly tag: string;
  readonly ciphertext: string;
  readonly updatedAt: string;
}

/**
 * Everything a store keeps that outlives a restart, as one JSON document. Leases and remembered
 * webhook event ids are left out: both expire within minutes and mean nothing on another machine.
 */
export interface StoreBackup {
  readonly format: typeof storeBackupFormat;
  readonly version: 1;
  readonly exportedAt: string;
  /** Schema version of the store that wrote it; informational. */
  readonly schemaVersion: number;
  readonly stages: readonly StageState[];
  /** Oldest first, in creation order. */
  readonly deploys: readonly DeployRecord[];
  readonly logs: ReadonlyArray<{ readonly deployId: string; readonly lines: readonly LogLine[] }>;
  /** In the order they were first stored. */
  readonly approvals: readonly Approval[];
  /** Oldest first. */
  readonly audit: readonly AuditEvent[];
  readonly secrets: readonly BackupSecret[];
}

/** How many records an import wrote. */
/** A backup of what a store holds, stamped with the format, its version and the time of export. */
export function makeBackup(parts: Omit<StoreBackup, 'format' | 'version' | 'exportedAt'>): StoreBackup {
  return { format: storeBackupFormat, version: 1, exportedAt: new Date().toISOString(), ...parts };
}

export interface StoreBackupCounts {
  readonly stages: number;
  readonly deploys: number;
  readonly logLines: number;
  readonly approvals: number;
  readonly audit: number;
  readonly secrets: number;
}

const text = v.string();
const nonEmpty = v.pipe(v.string(), v.minLength(1));
const revision = v.pipe(v.number(), v.integer(), v.minValue(1));
const seq = v.pipe(v.number(), v.integer(), v.minValue(1));
const release = v.looseObject({ tag: text, digest: text });
const deployState = v.picklist(deployStates);
const base64 = v.pipe(v.string(), v.regex(/^[A-Za-z0-9+/]*={0,2}$/, 'Expected base64'));

// Loose objects: fields a newer core adds to a record survive the trip through a backup.
const backupSchema = v.strictObject({
  format: v.literal(storeBackupFormat),
  version: v.literal(1),
  exportedAt: text,
  schemaVersion: v.number(),
  stages: v.array(
    v.looseObject({
      project: nonEmpty,
      stage: nonEmpty,
      revision,
      autoDeploy: v.boolean(),
      pin: v.optional(text),
      desired: v.optional(v.looseObject({ tag: text, digest: text, reason: text })),
      actual: v.optional(release),
      history: v.array(release),
      updatedAt: text,
    }),
  ),
  deploys: v.array(
    v.looseObject({
      id: nonEmpty,
      project: nonEmpty,
      stage: nonEmpty,
      revision,
      release,
      previous: v.optional(release),
      trigger: text,
      state: deployState,
      finished: v.boolean(),
      error: v.optional(v.looseObject({ code: text, message: text })),
      journal: v.pipe(
        v.array(v.looseObject({ seq, state: deployState, at: text, note: v.optional(text) })),
        v.minLength(1, 'A deploy has at least its first journal entry'),
      ),
      data: v.record(v.string(), v.unknown()),
      createdAt: text,
      updatedAt: text,
    }),
  ),
  logs: v.array(
    v.strictObject({
      deployId: text,
      lines: v.array(
        v.strictObject({ seq, at: text, level: v.picklist(['debug', 'info', 'warn', 'error']), line: text }),
      ),
    }),
  ),
  approvals: v.array(
    v.looseObject({
      id: nonEmpty,
      project: text,
      stage: text,
      release,
      status: v.picklist(['pending', 'approved', 'rejected', 'closed']),
      requestedAt: text,
      decidedAt: v.optional(text),
      decidedBy: v.optional(text),
    }),
  ),
  audit: v.array(
    v.looseObject({
      seq,
      at: text,
      actor: text,
      action: text,
      target: v.optional(text),
      details: v.optional(v.record(v.string(), v.unknown())),
    }),
  ),
  secrets: v.array(
    v.strictObject({
      name: nonEmpty,
      keyId: nonEmpty,
      iv: base64,
      tag: base64,
      ciphertext: base64,
      updatedAt: text,
    }),
  ),
});

/** Checks a backup (an object, or its JSON text); `BAD_REQUEST` lists every problem as `path: message`. */
export function parseBackup(data: unknown): StoreBackup {
  let input = data;
  if (typeof data === 'string') {
    try {
      input = JSON.parse(data);
    } catch (error) {
      throw new CoreError('BAD_REQUEST', 'Invalid store backup: not JSON', { cause: error });
    }
  }
  const result = v.safeParse(backupSchema, input);
  if (result.success) return result.output as unknown as StoreBackup;
  const problems = result.issues.map((issue) => ({
    path: v.getDotPath(issue) ?? '',
    message: issue.message,
  }));
  const lines = problems
    .slice(0, 20)
    .map((problem) => (problem.path ? `${problem.path}: ${problem.message}` : problem.message));
  const more = problems.length > 20 ? `\n… and ${problems.length - 20} more` : '';
  throw new CoreError('BAD_REQUEST', `Invalid store backup:\n${lines.join('\n')}${more}`, {
    details: { problems: problems.slice(0, 100) },
  });
}

/** What a store that writes and reads backups offers besides the StateStore contract. */
export interface BackupStore {
  /** Everything but leases and remembered webhook event ids, as one JSON-serialisable document. */
  exportJson(params?: CallOptions): Promise<StoreBackup>;
  /** Writes a backup (object or JSON text) into an empty store, in one transaction; `CONFLICT` when the store has data. */
  importJson(params: CallOptions & { readonly data: unknown }): Promise<StoreBackupCounts>;
}
