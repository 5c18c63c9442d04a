// How records sit in the tables: queried fields in columns, everything else as JSON in `body`.
import type { DeployRecord, JournalEntry, StageState } from '@docker-watcher/core';
import { readDeployState, type SealedSecret } from '@docker-watcher/core/store-kit';

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

export function toStage(row: StageRow): StageState {
  return {
    ...parse<Omit<StageState, 'project' | 'stage' | 'revision' | 'updatedAt'>>(row.body),
    project: row.project,
    stage: row.stage,
    revision: row.revision,
    updatedAt: row.updated_at,
  };
}

export function toDeploy(row: DeployRow, journal: readonly JournalEntry[]): DeployRecord {
  return {
    ...parse<Pick<DeployRecord, 'release' | 'previous' | 'trigger' | 'error' | 'data'>>(row.body),
    id: row.id,
    project: row.project,
    stage: row.stage,
    revision: row.revision,
    state: readDeployState(row.state, `deploy ${row.id}`),
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
