/** The channel every store writes its changes to; the payload names the schema, so installations sharing a database tell theirs apart. */
export const changeChannel = 'docker_watcher_changes';

/** What changed: a record kind and its key; `resync` when notifications may have been missed. */
export type StoreChangeKind =
  | 'stage'
  | 'deploy'
  | 'log'
  | 'approval'
  | 'event'
  | 'audit'
  | 'lease'
  | 'secret'
  | 'import'
  | 'feed'
  | 'resync';

export interface StoreChange {
  readonly kind: StoreChangeKind;
  /**
   * `project/stage` for a stage, the deploy id for a deploy and its log, the approval id, the audit
   * sequence number, `source/eventId`, the lease or secret name, the newest feed number; empty for
   * `import` and `resync`.
   */
  readonly key: string;
}

export type StoreChangeListener = (change: StoreChange) => void;

// NOTIFY payloads are limited to 8000 bytes: a longer key is cut rather than failing the write.
const maxKeyLength = 1_000;

/** The payload a write sends with `pg_notify`. */
export function changePayload(schema: string, kind: Exclude<StoreChangeKind, 'resync'>, key: string): string {
  return JSON.stringify({ schema, kind, key: key.slice(0, maxKeyLength) });
}
