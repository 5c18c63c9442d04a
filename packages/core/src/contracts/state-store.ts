import type * as v from 'valibot';
import type { DeployState } from '../engine/deploy-states.ts';
import type { DockerWatcherEvent } from '../events.ts';
import type { Adapter, AdapterDefinition, CallOptions } from './adapter.ts';
import type { Release, StageRef } from './release.ts';

/** Everything the engine remembers about one project-stage. Updated by compare-and-set on `revision`. */
export interface StageState extends StageRef {
  /** Starts at 1 and grows by one with every write. */
  readonly revision: number;
  readonly autoDeploy: boolean;
  /** A pinned tag: only its digest is watched. */
  readonly pin?: string;
  /** What should run, and why (policy, manual deploy, promotion, rollback). */
  readonly desired?: Release & { readonly reason: string };
  /** What runs, as of the last finished deploy. */
  readonly actual?: Release;
  /** Successful releases, newest first, for rollback and promotion proofs (bounded by the store). */
  readonly history: readonly Release[];
  readonly updatedAt: string;
}

export type StageStateInit = Omit<StageState, 'revision' | 'updatedAt'>;

export type DeployTrigger = 'auto' | 'manual' | 'promotion' | 'rollback' | 'pin' | 'resume';

/**
 * Whose fault a failed deploy was. `release`: the release itself (it could not be pulled or started
 * as built, or it failed its health gate), so it is not deployed again on its own. `infrastructure`:
 * ours (engine, proxy or store unreachable, a step past its deadline, a restart, a cancel), so the
 * release is tried again with backoff.
 */
export type DeployFault = 'release' | 'infrastructure';

/** Why a deploy failed, as its record keeps it. */
export interface DeployError {
  readonly code: string;
  readonly message: string;
  /** Absent in records written before faults were told apart (read as `release`). */
  readonly fault?: DeployFault;
}

/** One step transition of a deploy, written before its side effect. */
export interface JournalEntry {
  readonly seq: number;
  readonly state: DeployState;
  readonly at: string;
  readonly note?: string;
}

export interface DeployRecord extends StageRef {
  readonly id: string;
  readonly revision: number;
  readonly release: Release;
  /** What ran before, to restore on failure. */
  readonly previous?: Release;
  readonly trigger: DeployTrigger;
  /** The user or token name that asked for it; absent for the engine's own deploys. */
  readonly by?: string;
  readonly state: DeployState;
  /** Whether `state` is final (succeeded, failed, rolled back, cancelled). */
  readonly finished: boolean;
  readonly error?: DeployError;
  readonly journal: readonly JournalEntry[];
  /** Adapter-specific facts a resumed deploy needs (candidate instance id, endpoint…). */
  readonly data: Readonly<Record<string, unknown>>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type DeployRecordInit = Omit<
  DeployRecord,
  'revision' | 'journal' | 'createdAt' | 'updatedAt' | 'finished'
> & {
  readonly finished?: boolean;
};

export interface DeployUpdate {
  readonly state?: DeployState;
  readonly finished?: boolean;
  readonly error?: DeployError;
  readonly data?: Readonly<Record<string, unknown>>;
  /** Appended to the journal with the next sequence number. */
  readonly note?: string;
}

export interface LogLine {
  readonly seq: number;
  readonly at: string;
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly line: string;
}

export interface Approval extends StageRef {
  readonly id: string;
  readonly release: Release;
  /** `closed`: its release was deployed by another route (by hand, a promotion) or runs already. */
  readonly status: 'pending' | 'approved' | 'rejected' | 'closed';
  readonly requestedAt: string;
  readonly decidedAt?: string;
  readonly decidedBy?: string;
  /** What the person who decided said about it. */
  readonly comment?: string;
  /** The deploy the approval started; for a `promotion`, the deploy that waits for it. */
  readonly deployId?: string;
  /**
   * `release` (the default): a release waits to be deployed, and approving it starts the deploy.
   * `promotion`: a running deploy's canaries passed their gate and wait; approving promotes them,
   * rejecting reverts the deploy.
   */
  readonly kind?: 'release' | 'promotion';
  /** Why a `closed` approval was closed, e.g. `deployed by deploy 3f2…`. */
  readonly reason?: string;
}

export interface AuditEvent {
  readonly seq: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly target?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** One event in the store's feed, numbered across every process that writes to the store. */
export interface FeedEntry {
  /** Grows by one per event, in the order readers see them (no later reader finds a smaller one). */
  readonly seq: number;
  readonly event: DockerWatcherEvent;
}

export interface DeployListFilter {
  readonly project?: string;
  readonly stage?: string;
  readonly unfinished?: boolean;
  /** Only deploys in one of these states. */
  readonly states?: readonly DeployState[];
  readonly trigger?: DeployTrigger;
  /** Created at or after this ISO 8601 time. */
  readonly since?: string;
  /** Created before this ISO 8601 time. */
  readonly until?: string;
  readonly limit?: number;
  /** A deploy id: only deploys created before it. */
  readonly before?: string;
}

/**
 * A repository a webhook reported changed, kept until the engine has looked at it and acted on what
 * it found: an accepted notification is never lost to a registry fault, a store fault or a restart.
 */
export interface RepositoryMark {
  /** The engine's name of the registry (a key of its `registries`). */
  readonly registry: string;
  readonly repository: string;
  /** Tags the notifications named since the mark was set, newest last (their digests are resolved anew). */
  readonly tags: readonly string[];
  /**
   * Grows with every `markRepository` of the repository, across clears: a clear with an older
   * number leaves the mark, and a mark made after a clear never repeats the cleared one's number.
   */
  readonly mark: number;
  /** When the repository was first marked (ISO 8601). */
  readonly since: string;
}

/** How many tags a mark remembers; older ones fall off (their repository is listed anyway). */
export const repositoryMarkTagLimit = 100;

/** The answer of a request kept under its idempotency key, to answer a retry with. */
export interface IdempotentAnswer {
  readonly status: number;
  readonly body: string;
  readonly contentType?: string;
}

/** What `claimIdempotencyKey` found under a key. */
export type IdempotencyClaim =
  /** The key was free (or expired): the claim is the caller's, who acts and then calls `finishIdempotencyKey`. */
  | { readonly state: 'claimed' }
  /** Another request holds it and has not finished. */
  | { readonly state: 'running'; readonly fingerprint: string }
  /** A request with the key finished: its answer. */
  | { readonly state: 'done'; readonly fingerprint: string; readonly answer: IdempotentAnswer };

export interface Lease {
  readonly name: string;
  readonly holder: string;
  readonly expiresAt: string;
}

export interface StateStoreCapabilities {
  /** Leases hold across processes (several server replicas on one store). */
  readonly sharedLeases: boolean;
  /** State survives a restart of the process. */
  readonly durable: boolean;
}

/**
 * Durable memory of the engine. Writes of stage state and deploy records are compare-and-set:
 * a stale `expectedRevision` throws `CONFLICT` and changes nothing.
 */
export interface StateStore extends Adapter {
  readonly capabilities: StateStoreCapabilities;

  getStage(params: CallOptions & StageRef): Promise<StageState | undefined>;
  listStages(params?: CallOptions & { readonly project?: string }): Promise<StageState[]>;
  /** `expectedRevision: 0` creates; otherwise it must equal the stored revision. */
  putStage(
    params: CallOptions & { readonly state: StageStateInit; readonly expectedRevision: number },
  ): Promise<StageState>;

  createDeploy(params: CallOptions & { readonly deploy: DeployRecordInit }): Promise<DeployRecord>;
  getDeploy(params: CallOptions & { readonly id: string }): Promise<DeployRecord | undefined>;
  updateDeploy(
    params: CallOptions & {
      readonly id: string;
      readonly expectedRevision: number;
      readonly update: DeployUpdate;
    },
  ): Promise<DeployRecord>;
  /** Newest first. */
  listDeploys(params?: CallOptions & DeployListFilter): Promise<DeployRecord[]>;

  appendLog(
    params: CallOptions & { readonly deployId: string; readonly lines: ReadonlyArray<Omit<LogLine, 'seq'>> },
  ): Promise<void>;
  /** Lines with `seq > after`, oldest first. */
  readLog(
    params: CallOptions & { readonly deployId: string; readonly after?: number; readonly limit?: number },
  ): Promise<LogLine[]>;

  putApproval(params: CallOptions & { readonly approval: Approval }): Promise<Approval>;
  getApproval(params: CallOptions & { readonly id: string }): Promise<Approval | undefined>;
  /** Oldest first; of one project or stage when given. */
  listApprovals(
    params?: CallOptions & Partial<StageRef> & { readonly status?: Approval['status'] },
  ): Promise<Approval[]>;

  /** Records a webhook event id; `false` when it was seen before (a replay). */
  rememberEvent(
    params: CallOptions & { readonly source: string; readonly eventId: string; readonly ttlMs: number },
  ): Promise<boolean>;

  /**
   * Marks a repository as needing a look (adding `tags` to the mark's, at most
   * `repositoryMarkTagLimit`, newest kept); the mark number grows with every call.
   */
  markRepository(
    params: CallOptions & {
      readonly registry: string;
      readonly repository: string;
      readonly tags: readonly string[];
    },
  ): Promise<RepositoryMark>;
  /** Every marked repository, in no particular order. */
  listRepositoryMarks(params?: CallOptions): Promise<RepositoryMark[]>;
  /** Removes a mark when its number is still `mark`; `false` when it changed meanwhile or is gone. */
  clearRepositoryMark(
    params: CallOptions & { readonly registry: string; readonly repository: string; readonly mark: number },
  ): Promise<boolean>;

  appendAudit(params: CallOptions & { readonly event: Omit<AuditEvent, 'seq'> }): Promise<AuditEvent>;
  /** Newest first; `before` is a sequence number (the page after it). */
  listAudit(
    params?: CallOptions & {
      readonly limit?: number;
      readonly before?: number;
      readonly actor?: string;
      readonly action?: string;
    },
  ): Promise<AuditEvent[]>;

  /**
   * Appends events to the feed that every process on the store reads, numbered in one sequence;
   * keeps the newest `keep` (default 10 000). Optional: without it a server streams only its own events.
   */
  appendFeed?(
    params: CallOptions & { readonly events: readonly DockerWatcherEvent[]; readonly keep?: number },
  ): Promise<FeedEntry[]>;
  /**
   * Feed entries with `seq > after`, oldest first, at most `limit` (default 1000); with `newest`,
   * the last `limit` entries instead (still oldest first).
   */
  readFeed?(
    params?: CallOptions & { readonly after?: number; readonly limit?: number; readonly newest?: boolean },
  ): Promise<FeedEntry[]>;

  /**
   * Claims an idempotency key for a request (`fingerprint` tells requests apart, `claim` names this
   * one), or tells what holds it: every process on the store sees the same keys. A claim that is not
   * finished within `claimTtlMs` (its process died) frees the key. Optional: without it a server
   * keeps keys in its own memory.
   */
  claimIdempotencyKey?(
    params: CallOptions & {
      readonly key: string;
      readonly fingerprint: string;
      readonly claim: string;
      readonly claimTtlMs: number;
    },
  ): Promise<IdempotencyClaim>;
  /**
   * Ends a claim: with an answer, the key keeps it for `ttlMs`; without one (the request failed), the
   * key is freed and a retry acts. Does nothing when the claim is no longer the key's.
   */
  finishIdempotencyKey?(
    params: CallOptions & {
      readonly key: string;
      readonly claim: string;
      readonly answer?: IdempotentAnswer;
      readonly ttlMs: number;
    },
  ): Promise<void>;

  /** Takes or renews a lease; `undefined` when another holder has it and it has not expired. */
  acquireLease(
    params: CallOptions & { readonly name: string; readonly holder: string; readonly ttlMs: number },
  ): Promise<Lease | undefined>;
  releaseLease(params: CallOptions & { readonly name: string; readonly holder: string }): Promise<void>;
}

export type StateStoreDefinition<
  S extends v.GenericSchema = v.GenericSchema,
  A extends StateStore = StateStore,
> = AdapterDefinition<'store', S, A>;

export function defineStateStore<S extends v.GenericSchema, A extends StateStore>(
  definition: Omit<StateStoreDefinition<S, A>, 'kind'>,
): StateStoreDefinition<S, A> {
  return { kind: 'store', ...definition };
}
