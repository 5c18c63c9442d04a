// How records sit in the tables: queried fields in columns, everything else as JSON in `body`.
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
  body: string;
  updated_at: string;
}

export interface DeployRow {
  pos: number;
  id: string;
  project: string;
  stage: string;
  revision: number;
  state: string;
  finished: number;
  body: string;
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
  iv: Uint8Array;
  tag: Uint8Array;
  ciphertext: Uint8Array;
  updated_at: string;
}

export const json = (value: unknown): string => JSON.stringify(value);
export const parse = <T>(text: string): T => JSON.parse(text) as T;
/** Deep copy with JSON semantics: what a caller gets back is exactly what a read returns later. */
export const copy = <T>(value: T): T => parse<T>(json(value));

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
    ...parse<Omit<StageState, 'project' | 'stage' | 'revision' | 'updatedAt'>>(row.body),
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
    ...parse<Pick<DeployRecord, 'release' | 'previous' | 'trigger' | 'error' | 'data'>>(row.body),
    id: row.id,
    project: row.project,
    stage: row.stage,
    revision: row.revision,
    state: row.state,
    finished: row.finished !== 0,
    journal,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

export function sealedOf(row: SecretRow): SealedSecret {
  return { keyId: row.key_id, iv: row.iv, tag: row.tag, ciphertext: row.ciphertext };
}

export const deployColumns =
  'pos, id, project, stage, revision, state, finished, body, created_at, updated_at';
