// How records sit in the tables: queried fields in columns, everything else as `json` in `body`
// (node-postgres parses it on the way out; it goes in as JSON text).
import type { DeployRecord, JournalEntry, StageState } from '@docker-watcher/core';
import { readDeployState, type SealedSecret } from '@docker-watcher/core/store-kit';

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

export function toStage(row: StageRow): StageState {
  return {
    ...(row.body as Omit<StageState, 'project' | 'stage' | 'revision' | 'updatedAt'>),
    project: row.project,
    stage: row.stage,
    revision: row.revision,
    updatedAt: row.updated_at,
  };
}

export function toDeploy(row: DeployRow, journal: readonly JournalEntry[]): DeployRecord {
  return {
    ...(row.body as Pick<DeployRecord, 'release' | 'previous' | 'trigger' | 'error' | 'data'>),
    id: row.id,
    project: row.project,
    stage: row.stage,
    revision: row.revision,
    state: readDeployState(row.state, `deploy ${row.id}`),
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
