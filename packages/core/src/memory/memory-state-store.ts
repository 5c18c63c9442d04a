import * as v from 'valibot';
import { type AdapterContext, adapterId, instantiate, onceDisposer } from '../contracts/adapter.ts';
import { stageKey } from '../contracts/release.ts';
import {
  type Approval,
  type AuditEvent,
  type DeployRecord,
  defineStateStore,
  type FeedEntry,
  type IdempotentAnswer,
  type JournalEntry,
  type Lease,
  type LogLine,
  type RepositoryMark,
  type StageState,
  type StateStore,
} from '../contracts/state-store.ts';
import { CoreError } from '../errors.ts';
import {
  checkName,
  checkRevision,
  conflict,
  defaultFeedReadLimit,
  feedKeepOf,
  matchesDeployFilter,
  mergeMarkTags,
  sliceLimit,
} from '../store-kit/store-helpers.ts';
import { FaultInjector, type Faults } from './faults.ts';

export const memoryStateStoreOptions = v.strictObject({
  historyLimit: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.description('Successful releases kept per stage, newest first.'),
    ),
    50,
  ),
});

export type MemoryStateStoreOptions = v.InferInput<typeof memoryStateStoreOptions>;

export type MemoryStateStoreOperation = Exclude<keyof StateStore, 'id' | 'capabilities' | 'dispose'>;

export interface MemoryStateStore extends StateStore {
  readonly faults: Faults<MemoryStateStoreOperation>;
  appendFeed: NonNullable<StateStore['appendFeed']>;
  readFeed: NonNullable<StateStore['readFeed']>;
  claimIdempotencyKey: NonNullable<StateStore['claimIdempotencyKey']>;
  finishIdempotencyKey: NonNullable<StateStore['finishIdempotencyKey']>;
}

const clone = <T>(value: T): T => structuredClone(value);
const iso = (ms: number): string => new Date(ms).toISOString();

function buildMemoryStateStore(
  options: v.InferOutput<typeof memoryStateStoreOptions>,
  context: AdapterContext,
): MemoryStateStore {
  const id = adapterId('store', 'memory', context.instance);
  const stages = new Map<string, StageState>();
  // Insertion order is creation order: listDeploys walks it backwards.
  const deploys = new Map<string, DeployRecord>();
  const logs = new Map<string, LogLine[]>();
  const approvals = new Map<string, Approval>();
  const events = new Map<string, number>();
  const idempotencyKeys = new Map<
    string,
    { fingerprint: string; claim: string; answer?: IdempotentAnswer; expiresAt: number }
  >();
  const audit: AuditEvent[] = [];
  const feed: FeedEntry[] = [];
  let feedSeq = 0;
  // A cleared mark stays (flagged) so that its repository's next mark gets a larger number.
  const marks = new Map<string, RepositoryMark & { cleared: boolean }>();
  const markKey = (registry: string, repository: string) => `${registry}\n${repository}`;
  const markOf = ({ cleared: _cleared, ...mark }: RepositoryMark & { cleared: boolean }): RepositoryMark =>
    mark;
  const leases = new Map<string, { holder: string; expiresAt: number }>();
  const lifecycle = onceDisposer(async () => {});
  const faults = new FaultInjector<MemoryStateStoreOperation>(id, lifecycle.disposed);

  const deployOf = (deployId: string): DeployRecord => {
    const found = deploys.get(deployId);
    if (!found)
      throw new CoreError('NOT_FOUND', `Deploy ${deployId} does not exist`, { details: { deployId } });
    return found;
  };

  return {
    id,
    capabilities: { sharedLeases: false, durable: false },
    faults,

    getStage: ({ signal, project, stage }) =>
      faults.run('getStage', signal, () => clone(stages.get(stageKey({ project, stage })))),

    listStages: ({ signal, project } = {}) =>
      faults.run('listStages', signal, () =>
        [...stages.values()]
          .filter((state) => project === undefined || state.project === project)
          .sort((a, b) => a.project.localeCompare(b.project) || a.stage.localeCompare(b.stage))
          .map(clone),
      ),

    putStage: ({ signal, state, expectedRevision }) =>
      faults.run('putStage', signal, () => {
        checkRevision(expectedRevision);
        const key = stageKey(state);
        const revision = stages.get(key)?.revision ?? 0;
        if (revision !== expectedRevision) {
          throw conflict(`Stage ${key}`, expectedRevision, revision, {
            project: state.project,
            stage: state.stage,
          });
        }
        const next: StageState = {
          ...clone(state),
          history: clone(state.history.slice(0, options.historyLimit)),
          revision: revision + 1,
          updatedAt: iso(Date.now()),
        };
        stages.set(key, next);
        return clone(next);
      }),

    createDeploy: ({ signal, deploy }) =>
      faults.run('createDeploy', signal, () => {
        if (deploys.has(deploy.id)) {
          throw new CoreError('CONFLICT', `Deploy ${deploy.id} exists already`, {
            details: { deployId: deploy.id },
          });
        }
        const at = iso(Date.now());
        const record: DeployRecord = {
          ...clone(deploy),
          finished: deploy.finished ?? false,
          revision: 1,
          journal: [{ seq: 1, state: deploy.state, at }],
          createdAt: at,
          updatedAt: at,
        };
        deploys.set(record.id, record);
        return clone(record);
      }),

    getDeploy: ({ signal, id: deployId }) =>
      faults.run('getDeploy', signal, () => clone(deploys.get(deployId))),

    updateDeploy: ({ signal, id: deployId, expectedRevision, update }) =>
      faults.run('updateDeploy', signal, () => {
        checkRevision(expectedRevision);
        const current = deployOf(deployId);
        if (current.revision !== expectedRevision) {
          throw conflict(`Deploy ${deployId}`, expectedRevision, current.revision, { deployId });
        }
        const at = iso(Date.now());
        const state = update.state ?? current.state;
        const journal: JournalEntry[] = [...current.journal];
        if (state !== current.state || update.note !== undefined) {
          journal.push({
            seq: (journal.at(-1)?.seq ?? 0) + 1,
            state,
            at,
            ...(update.note === undefined ? {} : { note: update.note }),
          });
        }
        const next: DeployRecord = {
          ...current,
          state,
          finished: update.finished ?? current.finished,
          ...(update.error === undefined ? {} : { error: clone(update.error) }),
          data: update.data === undefined ? current.data : { ...current.data, ...clone(update.data) },
          journal,
          revision: current.revision + 1,
          updatedAt: at,
        };
        deploys.set(deployId, next);
        return clone(next);
      }),

    listDeploys: ({ signal, limit, before, ...filter } = {}) =>
      faults.run('listDeploys', signal, () => {
        let newestFirst = [...deploys.values()].reverse();
        if (before !== undefined) {
          const index = newestFirst.findIndex((deploy) => deploy.id === before);
          newestFirst = index === -1 ? [] : newestFirst.slice(index + 1);
        }
        const matching = newestFirst.filter((deploy) => matchesDeployFilter(deploy, filter));
        return (limit === undefined ? matching : matching.slice(0, Math.max(0, limit))).map(clone);
      }),

    appendLog: ({ signal, deployId, lines }) =>
      faults.run('appendLog', signal, () => {
        const stored = logs.get(deployId) ?? [];
        let seq = stored.at(-1)?.seq ?? 0;
        for (const line of lines) {
          seq += 1;
          stored.push({ seq, at: line.at, level: line.level, line: line.line });
        }
        logs.set(deployId, stored);
      }),

    readLog: ({ signal, deployId, after = 0, limit }) =>
      faults.run('readLog', signal, () => {
        const lines = (logs.get(deployId) ?? []).filter((line) => line.seq > after);
        return (limit === undefined ? lines : lines.slice(0, Math.max(0, limit))).map(clone);
      }),

    putApproval: ({ signal, approval }) =>
      faults.run('putApproval', signal, () => {
        approvals.set(approval.id, clone(approval));
        return clone(approval);
      }),

    getApproval: ({ signal, id: approvalId }) =>
      faults.run('getApproval', signal, () => clone(approvals.get(approvalId))),

    listApprovals: (params) =>
      faults.run('listApprovals', params?.signal, () =>
        [...approvals.values()]
          .filter(
            (approval) =>
              (params?.project === undefined || approval.project === params.project) &&
              (params?.stage === undefined || approval.stage === params.stage) &&
              (params?.status === undefined || approval.status === params.status),
          )
          .map(clone),
      ),

    rememberEvent: ({ signal, source, eventId, ttlMs }) =>
      faults.run('rememberEvent', signal, () => {
        const now = Date.now();
        for (const [key, expiresAt] of events) {
          if (expiresAt <= now) events.delete(key);
        }
        const key = `${source}\n${eventId}`;
        if (events.has(key)) return false;
        events.set(key, now + ttlMs);
        return true;
      }),

    claimIdempotencyKey: ({ signal, key, fingerprint, claim, claimTtlMs }) =>
      faults.run('claimIdempotencyKey', signal, () => {
        const now = Date.now();
        for (const [name, entry] of idempotencyKeys) if (entry.expiresAt <= now) idempotencyKeys.delete(name);
        const found = idempotencyKeys.get(key);
        if (found?.answer)
          return { state: 'done', fingerprint: found.fingerprint, answer: clone(found.answer) };
        if (found) return { state: 'running', fingerprint: found.fingerprint };
        idempotencyKeys.set(key, { fingerprint, claim, expiresAt: now + claimTtlMs });
        return { state: 'claimed' };
      }),

    finishIdempotencyKey: ({ signal, key, claim, answer, ttlMs }) =>
      faults.run('finishIdempotencyKey', signal, () => {
        const found = idempotencyKeys.get(key);
        if (!found || found.claim !== claim || found.answer) return;
        if (answer)
          idempotencyKeys.set(key, { ...found, answer: clone(answer), expiresAt: Date.now() + ttlMs });
        else idempotencyKeys.delete(key);
      }),

    markRepository: ({ signal, registry, repository, tags }) =>
      faults.run('markRepository', signal, () => {
        checkName('registry', registry);
        checkName('repository', repository);
        const key = markKey(registry, repository);
        const current = marks.get(key);
        const open = current !== undefined && !current.cleared;
        const next = {
          registry,
          repository,
          tags: mergeMarkTags(open ? current.tags : [], tags),
          mark: (current?.mark ?? 0) + 1,
          since: open ? current.since : iso(Date.now()),
          cleared: false,
        };
        marks.set(key, next);
        return clone(markOf(next));
      }),

    listRepositoryMarks: ({ signal } = {}) =>
      faults.run('listRepositoryMarks', signal, () =>
        [...marks.values()]
          .filter((m) => !m.cleared)
          .sort((a, b) => a.since.localeCompare(b.since))
          .map((m) => clone(markOf(m))),
      ),

    clearRepositoryMark: ({ signal, registry, repository, mark }) =>
      faults.run('clearRepositoryMark', signal, () => {
        const current = marks.get(markKey(registry, repository));
        if (!current || current.cleared || current.mark !== mark) return false;
        current.cleared = true;
        return true;
      }),

    appendAudit: ({ signal, event }) =>
      faults.run('appendAudit', signal, () => {
        const stored: AuditEvent = { ...clone(event), seq: (audit.at(-1)?.seq ?? 0) + 1 };
        audit.push(stored);
        return clone(stored);
      }),

    listAudit: ({ signal, limit, before, actor, action } = {}) =>
      faults.run('listAudit', signal, () => {
        const newestFirst = [...audit]
          .reverse()
          .filter(
            (event) =>
              (before === undefined || event.seq < before) &&
              (actor === undefined || event.actor === actor) &&
              (action === undefined || event.action === action),
          );
        return (limit === undefined ? newestFirst : newestFirst.slice(0, Math.max(0, limit))).map(clone);
      }),

    appendFeed: ({ signal, events: appended, keep }) =>
      faults.run('appendFeed', signal, () => {
        const entries = appended.map((event): FeedEntry => ({ seq: ++feedSeq, event: clone(event) }));
        feed.push(...entries);
        const excess = feed.length - feedKeepOf(keep);
        if (excess > 0) feed.splice(0, excess);
        return entries.map(clone);
      }),

    readFeed: ({ signal, after, limit, newest } = {}) =>
      faults.run('readFeed', signal, () => {
        const count = sliceLimit(limit ?? defaultFeedReadLimit) ?? feed.length;
        const entries = newest
          ? feed.slice(Math.max(0, feed.length - count))
          : feed.filter((entry) => entry.seq > (after ?? 0)).slice(0, count);
        return entries.map(clone);
      }),

    acquireLease: ({ signal, name, holder, ttlMs }) =>
      faults.run('acquireLease', signal, (): Lease | undefined => {
        const now = Date.now();
        const current = leases.get(name);
        if (current && current.holder !== holder && current.expiresAt > now) return undefined;
        const expiresAt = now + ttlMs;
        leases.set(name, { holder, expiresAt });
        return { name, holder, expiresAt: iso(expiresAt) };
      }),

    releaseLease: ({ signal, name, holder }) =>
      faults.run('releaseLease', signal, () => {
        if (leases.get(name)?.holder === holder) leases.delete(name);
      }),

    dispose: lifecycle.dispose,
  };
}

export const memoryStateStore = defineStateStore({
  name: 'memory',
  options: memoryStateStoreOptions,
  secrets: [],
  create: buildMemoryStateStore,
});

/**
 * The engine's memory in one process: compare-and-set stages and deploys, journals, logs, approvals,
 * webhook replay protection, audit and leases. Nothing survives the process.
 */
export function createMemoryStateStore(
  options: MemoryStateStoreOptions = {},
  context: AdapterContext = {},
): MemoryStateStore {
  return instantiate(memoryStateStore, options, context);
}
