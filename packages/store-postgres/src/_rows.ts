// How records sit in the tables: queried fields in columns, everything else as `json` in `body`
// (node-postgres parses it on the way out; it goes in as JSON text).
import type {
  DeployRecord,
  DeployRecordInit,
  JournalEntry,
  StageState,
  StageStateInit,
} from '@docker-watcher/core';
import type { SealedSecret } from './_crypto.ts';

export interface StageRow {
  project: string;
  stage: string;
  revision: number;
  body: Record<string, unknown>;
  updated_at: string;
}

export interface DeployRow {
  pos: number;
  id: string;
  project: string;
  stage: string;
  revision: number;
  state: string;
  finished: boolean;
  body: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export interface JournalRow {
  deploy: number;
  seq: number;
  state: string;
  at: string;
  note: string | null;
}

export interface SecretRow {
  name: string;
  key_id: string;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
  updated_at: string;
}

export const json = (value: unknown): string => JSON.stringify(value);
/** Deep copy with JSON semantics: what a caller gets back is exactly what a read returns later. */
export const copy = <T>(value: T): T => JSON.parse(json(value)) as T;

/** The fields of a stage kept as JSON: all but its key and the store's own bookkeeping. */
export function stageBody(state: StageStateInit, historyLimit: number): Record<string, unknown> {
  const {
    project: _p,
    stage: _s,
    revision: _r,
    updatedAt: _u,
    ...rest
  } = state as StageStateInit & Partial<StageState>;
  return { ...rest, history: state.history.slice(0, historyLimit) };
}

export function toStage(row: StageRow): StageState {
  return {
    ...(row.body as Omit<StageState, 'project' | 'stage' | 'revision' | 'updatedAt'>),
    project: row.project,
    stage: row.stage,
    revision: row.revision,
    updatedAt: row.updated_at,
  };
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

export function toJournalEntry(row: JournalRow): JournalEntry {
  return { seq: row.seq, state: row.state, at: row.at, ...(row.note === null ? {} : { note: row.note }) };
}

export function toDeploy(row: DeployRow, journal: readonly JournalEntry[]): DeployRecord {
  return {
    ...(row.body as Pick<DeployRecord, 'release' | 'previous' | 'trigger' | 'error' | 'data'>),
    id: row.id,
    project: row.project,
    stage: row.stage,
    revision: row.revision,
    state: row.state,
    finished: row.finished,
    journal,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function sealedOf(row: SecretRow): SealedSecret {
  return { keyId: row.key_id, iv: row.iv, tag: row.tag, ciphertext: row.ciphertext };
}

export const stageColumns = 'project, stage, revision, body, updated_at';
export const deployColumns =
  'pos, id, project, stage, revision, state, finished, body, created_at, updated_at';
export const journalColumns = 'deploy, seq, state, at, note';
export const secretColumns = 'name, key_id, iv, tag, ciphertext, updated_at';
