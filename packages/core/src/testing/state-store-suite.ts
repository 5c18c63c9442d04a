import type { Release } from '../contracts/release.ts';
import type {
  Approval,
  DeployRecord,
  DeployRecordInit,
  DeployUpdate,
  RepositoryMark,
  StageStateInit,
  StateStore,
} from '../contracts/state-store.ts';
import {
  abortedSignal,
  check,
  checkAdapterId,
  checkFlags,
  defined,
  expectCoreError,
  same,
  sleep,
} from './assertions.ts';
import { checkReplicasDeployOnce } from './replicas-case.ts';
import { type StateStoreQueryCaseId, stateStoreQueryCases } from './state-store-query-cases.ts';
import {
  type CaseResult,
  type ConformanceSuite,
  caseTable,
  disposeIsIdempotentCase,
  type HarnessBase,
  runCase,
} from './suite.ts';

export interface StateStoreHarness extends HarnessBase {
  readonly store: StateStore;
  /**
   * A new store over the same data, as after a restart; required when `capabilities.durable` is
   * claimed. The kit disposes the first store before it reopens, and disposes the new one.
   */
  reopen?(): Promise<StateStore>;
  /**
   * A second store over the same data, open at the same time (another replica's); required when
   * `capabilities.sharedLeases` is claimed. The kit disposes it.
   */
  replica?(): Promise<StateStore>;
  /** The store's bound on stage history, when known: `stage-history-is-bounded-newest-first` then checks it exactly. */
  readonly historyLimit?: number;
  /**
   * Writes `state` as a deploy's state straight into the store's own data, past the store's code (as
   * corrupt data or a newer version would leave it). When given, `unknown-deploy-state-fails-clearly`
   * runs; a store whose data nothing else writes (in memory) leaves it out.
   */
  writeDeployState?(params: { readonly id: string; readonly state: string }): Promise<void>;
}

export type StateStoreCaseId =
  | StateStoreQueryCaseId
  | 'id-names-kind-and-backend'
  | 'capabilities-are-flags'
  | 'put-stage-creates-at-revision-1'
  | 'put-stage-create-twice-conflicts'
  | 'put-stage-updates-with-current-revision'
  | 'put-stage-stale-revision-conflicts-and-changes-nothing'
  | 'put-stage-missing-with-revision-conflicts'
  | 'get-missing-stage-returns-undefined'
  | 'list-stages-filters-by-project'
  | 'stage-history-is-bounded-newest-first'
  | 'returned-values-are-snapshots'
  | 'create-deploy-starts-journal'
  | 'create-deploy-twice-conflicts'
  | 'update-deploy-compares-and-sets'
  | 'update-missing-deploy-not-found'
  | 'journal-appends-on-state-change-or-note'
  | 'update-deploy-merges-data'
  | 'update-deploy-keeps-error-fault'
  | 'list-deploys-newest-first'
  | 'list-deploys-filters'
  | 'list-deploys-limit-and-before'
  | 'log-lines-get-sequence-numbers'
  | 'approvals-round-trip'
  | 'remember-event-detects-replay'
  | 'remember-event-forgets-after-ttl'
  | 'idempotency-key-claimed-once-keeps-its-answer'
  | 'idempotency-key-freed-by-failure-or-expiry'
  | 'repository-marks-grow-and-clear-by-number'
  | 'audit-lists-newest-first'
  | 'lease-is-exclusive-until-expiry'
  | 'lease-renews-for-its-holder'
  | 'lease-release-frees-it'
  | 'durable-state-survives-reopen'
  | 'unknown-deploy-state-fails-clearly'
  | 'shared-leases-let-replicas-deploy-once'
  | 'aborted-signal-aborts'
  | 'dispose-is-idempotent';

const digest = (char: string): string => `sha256:${char.repeat(64)}`;

/** The store's idempotency keys; a store without them skips these cases. */
function idempotencyOf(store: StateStore) {
  const { claimIdempotencyKey, finishIdempotencyKey } = store;
  check(
    claimIdempotencyKey !== undefined && finishIdempotencyKey !== undefined,
    'the store keeps no idempotency keys (claimIdempotencyKey, finishIdempotencyKey): skip this case',
  );
  return {
    claim: (params: Parameters<NonNullable<StateStore['claimIdempotencyKey']>>[0]) =>
      claimIdempotencyKey!.call(store, params),
    finish: (params: Parameters<NonNullable<StateStore['finishIdempotencyKey']>>[0]) =>
      finishIdempotencyKey!.call(store, params),
  };
}
const release = (tag: string, char: string): Release => ({ tag, digest: digest(char) });

function stageInit(project: string, stage = 'dev', overrides: Partial<StageStateInit> = {}): StageStateInit {
  return {
    project,
    stage,
    autoDeploy: true,
    desired: { ...release('v1.0.0', 'a'), reason: 'newest tag matching v*' },
    history: [],
    ...overrides,
  };
}

function deployInit(
  project: string,
  id: string,
  overrides: Partial<DeployRecordInit> = {},
): DeployRecordInit {
  return {
    id,
    project,
    stage: 'dev',
    release: release('v1.0.0', 'a'),
    trigger: 'auto',
    state: 'pending',
    data: {},
    ...overrides,
  };
}

const isIsoTime = (value: unknown): boolean =>
  typeof value === 'string' && !Number.isNaN(Date.parse(value)) && /^\d{4}-\d{2}-\d{2}T/.test(value);

const projectFor = (unique: string): string => `conformance-${unique}`;

export const stateStoreCases = caseTable<StateStoreHarness, StateStoreCaseId>({
  'id-names-kind-and-backend': {
    title: 'id is store:<name>',
    run: async ({ harness }) => checkAdapterId(harness.store.id, 'store'),
  },
  'capabilities-are-flags': {
    title: 'capabilities are boolean flags',
    run: async ({ harness }) => checkFlags(harness.store.capabilities, ['sharedLeases', 'durable']),
  },
  'put-stage-creates-at-revision-1': {
    title: 'putStage with expectedRevision 0 creates the stage at revision 1',
    run: async ({ harness: { store }, unique }) => {
      const init = stageInit(projectFor(unique), 'dev', { pin: 'v1.0.0', actual: release('v0.9.0', 'b') });
      const created = await store.putStage({ state: init, expectedRevision: 0 });
      same(created.revision, 1, 'revision of a new stage');
      check(isIsoTime(created.updatedAt), `updatedAt: expected an ISO timestamp, got ${created.updatedAt}`);
      const { revision: _revision, updatedAt: _updatedAt, ...fields } = created;
      same(fields, init, 'stored stage fields');
      same(await store.getStage({ project: init.project, stage: 'dev' }), created, 'getStage after creation');
    },
  },
  'put-stage-create-twice-conflicts': {
    title: 'creating an existing stage throws CONFLICT and changes nothing',
    run: async ({ harness: { store }, unique }) => {
      const project = projectFor(unique);
      const created = await store.putStage({ state: stageInit(project), expectedRevision: 0 });
      await expectCoreError(
        store.putStage({ state: stageInit(project, 'dev', { autoDeploy: false }), expectedRevision: 0 }),
        'CONFLICT',
        'second putStage with expectedRevision 0',
      );
      same(await store.getStage({ project, stage: 'dev' }), created, 'stage after the conflict');
    },
  },
  'put-stage-updates-with-current-revision': {
    title: 'putStage with the current revision writes and increments it',
    run: async ({ harness: { store }, unique }) => {
      const project = projectFor(unique);
      await store.putStage({ state: stageInit(project), expectedRevision: 0 });
      const updated = await store.putStage({
        state: stageInit(project, 'dev', { autoDeploy: false }),
        expectedRevision: 1,
      });
      same(updated.revision, 2, 'revision after one update');
      same(updated.autoDeploy, false, 'autoDeploy after the update');
      same(await store.getStage({ project, stage: 'dev' }), updated, 'getStage after the update');
    },
  },
  'put-stage-stale-revision-conflicts-and-changes-nothing': {
    title: 'putStage with a stale revision throws CONFLICT and changes nothing',
    run: async ({ harness: { store }, unique }) => {
      const project = projectFor(unique);
      await store.putStage({ state: stageInit(project), expectedRevision: 0 });
      const current = await store.putStage({
        state: stageInit(project, 'dev', { pin: 'v1.0.0' }),
        expectedRevision: 1,
      });
      await expectCoreError(
        store.putStage({ state: stageInit(project, 'dev', { autoDeploy: false }), expectedRevision: 1 }),
        'CONFLICT',
        'putStage with a stale revision',
      );
      same(await store.getStage({ project, stage: 'dev' }), current, 'stage after the conflict');
    },
  },
  'put-stage-missing-with-revision-conflicts': {
    title: 'putStage of a missing stage with expectedRevision > 0 throws CONFLICT',
    run: async ({ harness: { store }, unique }) => {
      const project = projectFor(unique);
      await expectCoreError(
        store.putStage({ state: stageInit(project), expectedRevision: 3 }),
        'CONFLICT',
        'putStage',
      );
      same(await store.getStage({ project, stage: 'dev' }), undefined, 'stage after the conflict');
    },
  },
  'get-missing-stage-returns-undefined': {
    title: 'getStage of a missing stage returns undefined',
    run: async ({ harness: { store }, unique }) => {
      same(
        await store.getStage({ project: projectFor(unique), stage: 'dev' }),
        undefined,
        'getStage of a missing stage',
      );
    },
  },
  'list-stages-filters-by-project': {
    title: 'listStages returns the stages of one project, or all',
    run: async ({ harness: { store }, unique }) => {
      const a = `${projectFor(unique)}-a`;
      const b = `${projectFor(unique)}-b`;
      for (const [project, stage] of [
        [a, 'dev'],
        [a, 'prod'],
        [b, 'dev'],
      ] as const) {
        await store.putStage({ state: stageInit(project, stage), expectedRevision: 0 });
      }
      const keys = (stages: ReadonlyArray<{ project: string; stage: string }>) =>
        stages.map((state) => `${state.project}/${state.stage}`).sort();
      same(keys(await store.listStages({ project: a })), [`${a}/dev`, `${a}/prod`], `listStages of ${a}`);
      const all = keys(await store.listStages());
      for (const key of [`${a}/dev`, `${a}/prod`, `${b}/dev`])
        check(all.includes(key), `listStages() lacks ${key}`);
    },
  },
  'stage-history-is-bounded-newest-first': {
    title: 'stage history keeps the newest releases first, up to the store bound',
    run: async ({ harness, unique }) => {
      const project = projectFor(unique);
      const history = Array.from({ length: 300 }, (_, index) => ({
        tag: `v1.0.${299 - index}`,
        digest: `sha256:${(299 - index).toString(16).padStart(64, '0')}`,
      }));
      const stored = await harness.store.putStage({
        state: stageInit(project, 'dev', { history }),
        expectedRevision: 0,
      });
      check(stored.history.length > 0, 'a history of 300 releases was stored empty');
      same(
        stored.history,
        history.slice(0, stored.history.length),
        'stored history (a prefix of the newest-first input)',
      );
      if (harness.historyLimit !== undefined) {
        same(
          stored.history.length,
          Math.min(harness.historyLimit, history.length),
          'length of the bounded history',
        );
      }
      same(
        (await harness.store.getStage({ project, stage: 'dev' }))?.history,
        stored.history,
        'history read back',
      );
    },
  },
  'returned-values-are-snapshots': {
    title: 'changing a returned object does not change the store',
    run: async ({ harness: { store }, unique }) => {
      const project = projectFor(unique);
      const created = await store.putStage({ state: stageInit(project), expectedRevision: 0 });
      (created.history as Release[]).push(release('v6.6.6', 'f'));
      const deploy = await store.createDeploy({ deploy: deployInit(project, `deploy-${unique}`) });
      (deploy.data as Record<string, unknown>).mutated = true;
      same(
        (await store.getStage({ project, stage: 'dev' }))?.history,
        stageInit(project).history,
        'stored history',
      );
      same((await store.getDeploy({ id: deploy.id }))?.data, {}, 'stored deploy data');
    },
  },
  'create-deploy-starts-journal': {
    title: 'createDeploy stores revision 1, unfinished, with the first state in the journal',
    run: async ({ harness: { store }, unique }) => {
      const init = deployInit(projectFor(unique), `deploy-${unique}`, {
        previous: release('v0.9.0', 'b'),
        data: { slot: 'blue' },
      });
      const created = await store.createDeploy({ deploy: init });
      same(
        {
          revision: created.revision,
          finished: created.finished,
          state: created.state,
          data: created.data,
          previous: created.previous,
        },
        { revision: 1, finished: false, state: 'pending', data: { slot: 'blue' }, previous: init.previous },
        'created deploy',
      );
      same(
        created.journal.map((entry) => ({ seq: entry.seq, state: entry.state })),
        [{ seq: 1, state: 'pending' }],
        'journal of a new deploy',
      );
      check(
        isIsoTime(created.createdAt) && isIsoTime(created.updatedAt),
        'createdAt and updatedAt must be ISO timestamps',
      );
      same(await store.getDeploy({ id: init.id }), created, 'getDeploy after creation');
      same(await store.getDeploy({ id: `${init.id}-missing` }), undefined, 'getDeploy of a missing deploy');
    },
  },
  'create-deploy-twice-conflicts': {
    title: 'createDeploy with an existing id throws CONFLICT and changes nothing',
    run: async ({ harness: { store }, unique }) => {
      const init = deployInit(projectFor(unique), `deploy-${unique}`);
      const created = await store.createDeploy({ deploy: init });
      await expectCoreError(
        store.createDeploy({ deploy: { ...init, state: 'pulling' } }),
        'CONFLICT',
        'second createDeploy',
      );
      same(await store.getDeploy({ id: init.id }), created, 'deploy after the conflict');
    },
  },
  'update-deploy-compares-and-sets': {
    title: 'updateDeploy writes at the current revision; a stale one throws CONFLICT and changes nothing',
    run: async ({ harness: { store }, unique }) => {
      const id = `deploy-${unique}`;
      await store.createDeploy({ deploy: deployInit(projectFor(unique), id) });
      const updated = await store.updateDeploy({ id, expectedRevision: 1, update: { state: 'pulling' } });
      same(
        { revision: updated.revision, state: updated.state },
        { revision: 2, state: 'pulling' },
        'deploy after one update',
      );
      await expectCoreError(
        store.updateDeploy({ id, expectedRevision: 1, update: { state: 'failed', finished: true } }),
        'CONFLICT',
        'updateDeploy with a stale revision',
      );
      same(await store.getDeploy({ id }), updated, 'deploy after the conflict');
    },
  },
  'update-missing-deploy-not-found': {
    title: 'updateDeploy of a missing deploy throws NOT_FOUND',
    run: async ({ harness: { store }, unique }) => {
      await expectCoreError(
        store.updateDeploy({
          id: `deploy-${unique}-missing`,
          expectedRevision: 1,
          update: { state: 'pulling' },
        }),
        'NOT_FOUND',
        'updateDeploy of a missing deploy',
      );
    },
  },
  'journal-appends-on-state-change-or-note': {
    title: 'the journal grows by one entry per state change or note, in order',
    run: async ({ harness: { store }, unique }) => {
      const id = `deploy-${unique}`;
      let record: DeployRecord = await store.createDeploy({ deploy: deployInit(projectFor(unique), id) });
      const updates: DeployUpdate[] = [
        { state: 'pulling' },
        { note: 'pulled in 2 s' },
        { data: { candidate: 'c-1' } },
        { state: 'pulling' },
        { state: 'starting', note: 'candidate c-1' },
        { state: 'succeeded', finished: true },
      ];
      for (const update of updates) {
        record = await store.updateDeploy({ id, expectedRevision: record.revision, update });
      }
      same(
        record.journal.map((entry) => ({ seq: entry.seq, state: entry.state, note: entry.note })),
        [
          { seq: 1, state: 'pending' },
          { seq: 2, state: 'pulling' },
          { seq: 3, state: 'pulling', note: 'pulled in 2 s' },
          { seq: 4, state: 'starting', note: 'candidate c-1' },
          { seq: 5, state: 'succeeded' },
        ],
        'journal after state changes, notes and a data-only update',
      );
      same(
        { finished: record.finished, revision: record.revision },
        { finished: true, revision: 7 },
        'final deploy',
      );
      check(
        record.journal.every((entry) => isIsoTime(entry.at)),
        'journal entries need ISO timestamps',
      );
    },
  },
  'update-deploy-merges-data': {
    title: 'updateDeploy merges data into the stored data',
    run: async ({ harness: { store }, unique }) => {
      const id = `deploy-${unique}`;
      await store.createDeploy({ deploy: deployInit(projectFor(unique), id, { data: { slot: 'blue' } }) });
      const updated = await store.updateDeploy({
        id,
        expectedRevision: 1,
        update: { data: { candidate: 'c-1' } },
      });
      same(updated.data, { slot: 'blue', candidate: 'c-1' }, 'data after an update with other keys');
    },
  },
  'update-deploy-keeps-error-fault': {
    title: "a deploy's error keeps whose fault it was",
    run: async ({ harness: { store }, unique }) => {
      const id = `deploy-${unique}`;
      await store.createDeploy({ deploy: deployInit(projectFor(unique), id) });
      const error = {
        code: 'TIMEOUT',
        message: 'pull did not finish in time',
        fault: 'infrastructure' as const,
      };
      const updated = await store.updateDeploy({
        id,
        expectedRevision: 1,
        update: { state: 'rolled-back', finished: true, error },
      });
      same(updated.error, error, 'error after the update');
      same((await store.getDeploy({ id }))?.error, error, 'error read back');
      same((await store.listDeploys({ project: projectFor(unique) }))[0]?.error, error, 'error as listed');
    },
  },
  'list-deploys-newest-first': {
    title: 'listDeploys returns the newest deploy first',
    run: async ({ harness: { store }, unique }) => {
      const project = projectFor(unique);
      for (const n of [1, 2, 3])
        await store.createDeploy({ deploy: deployInit(project, `deploy-${unique}-${n}`) });
      same(
        (await store.listDeploys({ project })).map((deploy) => deploy.id),
        [3, 2, 1].map((n) => `deploy-${unique}-${n}`),
        'listDeploys order',
      );
    },
  },
  'list-deploys-filters': {
    title: 'listDeploys filters by project, stage and unfinished',
    run: async ({ harness: { store }, unique }) => {
      const project = projectFor(unique);
      const id = (name: string) => `deploy-${unique}-${name}`;
      await store.createDeploy({ deploy: deployInit(project, id('dev'), { stage: 'dev' }) });
      await store.createDeploy({
        deploy: deployInit(project, id('prod'), { stage: 'prod', state: 'succeeded', finished: true }),
      });
      await store.createDeploy({ deploy: deployInit(`${project}-other`, id('other'), { stage: 'dev' }) });
      const ids = (deploys: readonly DeployRecord[]) => deploys.map((deploy) => deploy.id);
      same(ids(await store.listDeploys({ project })), [id('prod'), id('dev')], 'listDeploys of the project');
      same(
        ids(await store.listDeploys({ project, stage: 'prod' })),
        [id('prod')],
        'listDeploys of one stage',
      );
      same(ids(await store.listDeploys({ project, unfinished: true })), [id('dev')], 'unfinished deploys');
    },
  },
  'list-deploys-limit-and-before': {
    title: 'listDeploys pages with limit and before (a deploy id)',
    run: async ({ harness: { store }, unique }) => {
      const project = projectFor(unique);
      const id = (n: number) => `deploy-${unique}-${n}`;
      for (const n of [1, 2, 3, 4]) await store.createDeploy({ deploy: deployInit(project, id(n)) });
      const ids = (deploys: readonly DeployRecord[]) => deploys.map((deploy) => deploy.id);
      same(ids(await store.listDeploys({ project, limit: 2 })), [id(4), id(3)], 'first page of 2');
      same(
        ids(await store.listDeploys({ project, limit: 2, before: id(3) })),
        [id(2), id(1)],
        'page before deploy 3',
      );
      same(ids(await store.listDeploys({ project, before: id(1) })), [], 'page before the oldest deploy');
    },
  },
  'log-lines-get-sequence-numbers': {
    title: 'log lines are numbered per deploy and read after a sequence number',
    run: async ({ harness: { store }, unique }) => {
      const deployId = `deploy-${unique}`;
      const at = new Date().toISOString();
      const line = (text: string) => ({ at, level: 'info' as const, line: text });
      await store.appendLog({ deployId, lines: [line('one'), line('two')] });
      await store.appendLog({ deployId, lines: [line('three')] });
      await store.appendLog({ deployId: `${deployId}-other`, lines: [line('elsewhere')] });
      const all = await store.readLog({ deployId });
      same(
        all.map((entry) => ({ seq: entry.seq, line: entry.line, level: entry.level })),
        [
          { seq: 1, line: 'one', level: 'info' },
          { seq: 2, line: 'two', level: 'info' },
          { seq: 3, line: 'three', level: 'info' },
        ],
        'readLog of the deploy',
      );
      same(
        (await store.readLog({ deployId, after: 1 })).map((entry) => entry.line),
        ['two', 'three'],
        'readLog after 1',
      );
      same(
        (await store.readLog({ deployId, after: 0, limit: 1 })).map((entry) => entry.line),
        ['one'],
        'readLog limit 1',
      );
      same(await store.readLog({ deployId: `${deployId}-none` }), [], 'readLog of a deploy without lines');
    },
  },
  'approvals-round-trip': {
    title: 'approvals are stored, updated and listed by stage and status',
    run: async ({ harness: { store }, unique }) => {
      const project = projectFor(unique);
      const pending: Approval = {
        id: `approval-${unique}-1`,
        project,
        stage: 'prod',
        release: release('v1.0.0', 'a'),
        status: 'pending',
        requestedAt: new Date().toISOString(),
      };
      const other: Approval = { ...pending, id: `approval-${unique}-2`, release: release('v1.1.0', 'c') };
      same(await store.putApproval({ approval: pending }), pending, 'putApproval result');
      await store.putApproval({ approval: other });
      same(await store.getApproval({ id: pending.id }), pending, 'getApproval');
      same(
        await store.getApproval({ id: `approval-${unique}-missing` }),
        undefined,
        'getApproval of a missing approval',
      );
      const approved: Approval = {
        ...pending,
        status: 'approved',
        decidedAt: new Date().toISOString(),
        decidedBy: 'alice',
      };
      await store.putApproval({ approval: approved });
      same(await store.getApproval({ id: pending.id }), approved, 'getApproval after the decision');
      const ids = (approvals: readonly Approval[]) => approvals.map((approval) => approval.id).sort();
      same(
        ids(await store.listApprovals({ project, stage: 'prod' })),
        [approved.id, other.id].sort(),
        'approvals of the stage',
      );
      same(
        ids(await store.listApprovals({ project, stage: 'prod', status: 'pending' })),
        [other.id],
        'pending approvals',
      );
      same(await store.listApprovals({ project, stage: 'dev' }), [], 'approvals of another stage');
    },
  },
  'remember-event-detects-replay': {
    title: 'rememberEvent is true for a new event id and false for a replay',
    run: async ({ harness: { store }, unique }) => {
      const eventId = `event-${unique}`;
      same(
        await store.rememberEvent({ source: 'registry:a', eventId, ttlMs: 60_000 }),
        true,
        'first delivery',
      );
      same(
        await store.rememberEvent({ source: 'registry:a', eventId, ttlMs: 60_000 }),
        false,
        'replayed delivery',
      );
      same(
        await store.rememberEvent({ source: 'registry:b', eventId, ttlMs: 60_000 }),
        true,
        'same id from another source',
      );
    },
  },
  'remember-event-forgets-after-ttl': {
    title: 'rememberEvent forgets an event id after its ttl',
    run: async ({ harness: { store }, unique }) => {
      const eventId = `event-${unique}`;
      same(await store.rememberEvent({ source: 'registry:a', eventId, ttlMs: 100 }), true, 'first delivery');
      await sleep(250);
      same(
        await store.rememberEvent({ source: 'registry:a', eventId, ttlMs: 100 }),
        true,
        'delivery after the ttl',
      );
    },
  },
  'idempotency-key-claimed-once-keeps-its-answer': {
    title: 'an idempotency key is claimed by one request, and keeps its answer for the others',
    run: async ({ harness: { store }, unique }) => {
      const { claim, finish } = idempotencyOf(store);
      const key = `key-${unique}`;
      const answer = { status: 202, body: '{"id":"d-1"}', contentType: 'application/json' };
      same(
        await claim({ key, fingerprint: 'f-1', claim: 'c-1', claimTtlMs: 60_000 }),
        { state: 'claimed' },
        'first claim',
      );
      same(
        await claim({ key, fingerprint: 'f-2', claim: 'c-2', claimTtlMs: 60_000 }),
        { state: 'running', fingerprint: 'f-1' },
        'a claim while the first runs',
      );
      // Only the claim that holds the key finishes it.
      await finish({ key, claim: 'c-2', answer: { ...answer, body: 'other' }, ttlMs: 60_000 });
      await finish({ key, claim: 'c-1', answer, ttlMs: 60_000 });
      same(
        await claim({ key, fingerprint: 'f-1', claim: 'c-3', claimTtlMs: 60_000 }),
        { state: 'done', fingerprint: 'f-1', answer },
        'a claim after the first finished',
      );
      same(
        await claim({ key: `other-${unique}`, fingerprint: 'f-1', claim: 'c-4', claimTtlMs: 60_000 }),
        { state: 'claimed' },
        'another key',
      );
    },
  },
  'idempotency-key-freed-by-failure-or-expiry': {
    title: 'an idempotency key is free again after a failure, an abandoned claim or its answer expire',
    run: async ({ harness: { store }, unique }) => {
      const { claim, finish } = idempotencyOf(store);
      const key = `key-${unique}`;
      await claim({ key, fingerprint: 'f-1', claim: 'c-1', claimTtlMs: 60_000 });
      await finish({ key, claim: 'c-1', ttlMs: 60_000 });
      same(
        await claim({ key, fingerprint: 'f-1', claim: 'c-2', claimTtlMs: 100 }),
        { state: 'claimed' },
        'after a failure',
      );
      await sleep(250);
      same(
        await claim({ key, fingerprint: 'f-1', claim: 'c-3', claimTtlMs: 60_000 }),
        { state: 'claimed' },
        'after an abandoned claim',
      );
      await finish({ key, claim: 'c-3', answer: { status: 200, body: '{}' }, ttlMs: 100 });
      await sleep(250);
      same(
        await claim({ key, fingerprint: 'f-1', claim: 'c-4', claimTtlMs: 60_000 }),
        { state: 'claimed' },
        'after the answer expired',
      );
    },
  },
  'repository-marks-grow-and-clear-by-number': {
    title: 'a marked repository stays listed until its current mark is cleared',
    run: async ({ harness: { store }, unique }) => {
      const registry = `registry-${unique}`;
      const mine = (marks: readonly RepositoryMark[]) => marks.filter((m) => m.registry === registry);
      const first = await store.markRepository({ registry, repository: 'team/web', tags: ['v1', 'v2'] });
      same(
        { registry: first.registry, repository: first.repository, tags: first.tags },
        { registry, repository: 'team/web', tags: ['v1', 'v2'] },
        'first mark',
      );
      check(isIsoTime(first.since), `since: expected an ISO timestamp, got ${first.since}`);
      const second = await store.markRepository({ registry, repository: 'team/web', tags: ['v3', 'v1'] });
      check(second.mark > first.mark, `the mark must grow: ${first.mark}, then ${second.mark}`);
      same(second.tags, ['v2', 'v3', 'v1'], 'tags after a second mark (each once, newest last)');
      same(second.since, first.since, 'since of a repository marked again');
      await store.markRepository({ registry, repository: 'team/api', tags: [] });
      same(
        mine(await store.listRepositoryMarks())
          .map((m) => m.repository)
          .sort(),
        ['team/api', 'team/web'],
        'marked repositories',
      );
      same(
        await store.clearRepositoryMark({ registry, repository: 'team/web', mark: first.mark }),
        false,
        'clearing with an older mark',
      );
      same(
        mine(await store.listRepositoryMarks()).find((m) => m.repository === 'team/web'),
        second,
        'the mark after a clear with an older number',
      );
      same(
        await store.clearRepositoryMark({ registry, repository: 'team/web', mark: second.mark }),
        true,
        'clearing with the current mark',
      );
      same(
        mine(await store.listRepositoryMarks()).map((m) => m.repository),
        ['team/api'],
        'marked repositories after the clear',
      );
      const again = await store.markRepository({ registry, repository: 'team/web', tags: ['v4'] });
      check(again.mark > second.mark, `a mark after a clear must not repeat: ${second.mark}, ${again.mark}`);
      same(again.tags, ['v4'], 'tags of a mark after a clear');
      same(
        await store.clearRepositoryMark({ registry, repository: 'team/none', mark: again.mark }),
        false,
        'clearing a repository that was never marked',
      );
    },
  },
  'audit-lists-newest-first': {
    title: 'audit events get growing sequence numbers and list newest first',
    run: async ({ harness: { store }, unique }) => {
      const actor = `conformance-${unique}`;
      const appended = [];
      for (const action of ['stage.pin', 'stage.unpin', 'deploy.manual']) {
        appended.push(
          await store.appendAudit({
            event: { at: new Date().toISOString(), actor, action, target: 'web/dev', details: { n: 1 } },
          }),
        );
      }
      const seqs = appended.map((event) => event.seq);
      check(
        seqs.every((seq, index) => index === 0 || seq > (seqs[index - 1] ?? Number.POSITIVE_INFINITY)),
        `seq must grow: ${seqs}`,
      );
      const listed = (await store.listAudit()).filter((event) => event.actor === actor);
      same(
        listed.map((event) => event.action),
        ['deploy.manual', 'stage.unpin', 'stage.pin'],
        'listAudit order',
      );
      same(listed[0], appended[2], 'newest audit event as listed');
      same((await store.listAudit({ limit: 1 }))[0]?.seq, appended[2]?.seq, 'listAudit limit 1');
    },
  },
  'lease-is-exclusive-until-expiry': {
    title: 'a lease held by one holder is refused to others until it expires',
    run: async ({ harness: { store }, unique }) => {
      const name = `lease-${unique}`;
      const ttlMs = 2_000;
      const lease = defined(await store.acquireLease({ name, holder: 'a', ttlMs }), 'first acquireLease');
      same({ name: lease.name, holder: lease.holder }, { name, holder: 'a' }, 'lease');
      check(isIsoTime(lease.expiresAt), `expiresAt: expected an ISO timestamp, got ${lease.expiresAt}`);
      same(
        await store.acquireLease({ name, holder: 'b', ttlMs }),
        undefined,
        'acquireLease by another holder',
      );
      // Taken by the other holder once expired: asked until then (a loaded machine may be late).
      const expiry = Date.parse(lease.expiresAt);
      let taken: { readonly holder: string } | undefined;
      for (const giveUp = Date.now() + ttlMs + 15_000; !taken && Date.now() < giveUp; ) {
        await sleep(100);
        taken = await store.acquireLease({ name, holder: 'b', ttlMs });
      }
      same(taken?.holder, 'b', 'acquireLease after expiry');
      check(Date.now() >= expiry - 50, 'the lease went to another holder before it expired');
    },
  },
  'lease-renews-for-its-holder': {
    title: 'the holder renews its lease',
    // Long leases: what is checked is that a renewal moves the expiry and keeps others out, which no
    // scheduling delay of a loaded machine can turn (a 300 ms lease with 200 ms sleeps could expire).
    run: async ({ harness: { store }, unique }) => {
      const name = `lease-${unique}`;
      const first = defined(
        await store.acquireLease({ name, holder: 'a', ttlMs: 60_000 }),
        'first acquireLease',
      );
      await sleep(20);
      const renewed = defined(
        await store.acquireLease({ name, holder: 'a', ttlMs: 60_000 }),
        'renewal by the holder',
      );
      check(Date.parse(renewed.expiresAt) > Date.parse(first.expiresAt), 'a renewed lease must expire later');
      same(
        await store.acquireLease({ name, holder: 'b', ttlMs: 60_000 }),
        undefined,
        'acquireLease by another holder after renewal',
      );
    },
  },
  'lease-release-frees-it': {
    title: 'releaseLease by the holder frees the lease; by anyone else it does nothing',
    run: async ({ harness: { store }, unique }) => {
      const name = `lease-${unique}`;
      await store.acquireLease({ name, holder: 'a', ttlMs: 60_000 });
      await store.releaseLease({ name, holder: 'b' });
      same(
        await store.acquireLease({ name, holder: 'b', ttlMs: 60_000 }),
        undefined,
        'acquireLease after a release by a non-holder',
      );
      await store.releaseLease({ name, holder: 'a' });
      same(
        (await store.acquireLease({ name, holder: 'b', ttlMs: 60_000 }))?.holder,
        'b',
        'acquireLease after release',
      );
      await store.releaseLease({ name: `${name}-never-taken`, holder: 'a' });
    },
  },
  'durable-state-survives-reopen': {
    title: 'stages, deploys, logs and repository marks survive a reopen',
    gate: {
      claim: 'capabilities.durable',
      when: true,
      claimed: (harness) => harness.store.capabilities.durable,
    },
    run: async (context) => {
      const { harness, unique } = context;
      const reopen = defined(
        harness.reopen,
        'capabilities.durable is claimed, so the harness needs reopen()',
      ).bind(harness);
      const project = projectFor(unique);
      const stage = await harness.store.putStage({ state: stageInit(project), expectedRevision: 0 });
      const deploy = await harness.store.createDeploy({ deploy: deployInit(project, `deploy-${unique}`) });
      await harness.store.appendLog({
        deployId: deploy.id,
        lines: [{ at: new Date().toISOString(), level: 'info', line: 'kept' }],
      });
      const mark = await harness.store.markRepository({
        registry: `registry-${unique}`,
        repository: 'team/web',
        tags: ['v1'],
      });
      await harness.store.dispose();
      const reopened = await reopen();
      context.defer(() => reopened.dispose());
      same(await reopened.getStage({ project, stage: 'dev' }), stage, 'stage after reopen');
      same(await reopened.getDeploy({ id: deploy.id }), deploy, 'deploy after reopen');
      same(
        (await reopened.readLog({ deployId: deploy.id })).map((line) => line.line),
        ['kept'],
        'log after reopen',
      );
      same(
        (await reopened.listRepositoryMarks()).find((m) => m.registry === mark.registry),
        mark,
        'repository mark after reopen',
      );
      await expectCoreError(
        reopened.putStage({ state: stageInit(project), expectedRevision: 0 }),
        'CONFLICT',
        'create after reopen',
      );
    },
  },
  'unknown-deploy-state-fails-clearly': {
    title: "a deploy whose stored state is none of the state table's fails with INTERNAL naming it",
    gate: {
      claim: 'harness.writeDeployState()',
      when: true,
      claimed: (harness) => harness.writeDeployState !== undefined,
    },
    run: async ({ harness, unique }) => {
      const project = projectFor(unique);
      const deploy = await harness.store.createDeploy({ deploy: deployInit(project, `deploy-${unique}`) });
      const write = defined(harness.writeDeployState, 'harness.writeDeployState()').bind(harness);
      await write({ id: deploy.id, state: 'exploded' });
      for (const [what, read] of [
        ['getDeploy', () => harness.store.getDeploy({ id: deploy.id })],
        ['listDeploys', () => harness.store.listDeploys({ project })],
      ] as const) {
        const error = await expectCoreError(read, 'INTERNAL', what);
        check(
          error.message.includes(deploy.id) && error.message.includes('exploded'),
          `${what}: the error names the deploy and the state it found, not "${error.message}"`,
        );
      }
    },
  },
  'shared-leases-let-replicas-deploy-once': {
    title: 'two engines on two handles of the store make one deploy per push, and one of them leads',
    gate: {
      claim: 'capabilities.sharedLeases',
      when: true,
      claimed: (harness) => harness.store.capabilities.sharedLeases,
    },
    run: async (context) => {
      const { harness, unique } = context;
      const replica = defined(
        harness.replica,
        'capabilities.sharedLeases is claimed, so the harness needs replica()',
      ).bind(harness);
      const second = await replica();
      context.defer(() => second.dispose());
      await checkReplicasDeployOnce([harness.store, second], projectFor(unique));
    },
  },
  'aborted-signal-aborts': {
    title: 'an aborted signal makes calls throw ABORTED and write nothing',
    run: async ({ harness: { store }, unique }) => {
      const project = projectFor(unique);
      const signal = abortedSignal();
      await expectCoreError(
        store.putStage({ state: stageInit(project), expectedRevision: 0, signal }),
        'ABORTED',
        'putStage',
      );
      await expectCoreError(store.getStage({ project, stage: 'dev', signal }), 'ABORTED', 'getStage');
      await expectCoreError(store.listDeploys({ project, signal }), 'ABORTED', 'listDeploys');
      same(await store.getStage({ project, stage: 'dev' }), undefined, 'stage after an aborted putStage');
    },
  },
  'dispose-is-idempotent': disposeIsIdempotentCase((harness) => harness.store),
  ...stateStoreQueryCases,
});

export const stateStoreSuite: ConformanceSuite<StateStoreHarness, StateStoreCaseId> = {
  contract: 'StateStore',
  cases: stateStoreCases,
  subject: (harness) => harness.store,
};

/** Runs one StateStore case without vitest; failures come back as results. */
export function runStateStoreCase(
  id: StateStoreCaseId,
  create: () => StateStoreHarness | Promise<StateStoreHarness>,
): Promise<CaseResult<StateStoreCaseId>> {
  return runCase(stateStoreSuite, id, create);
}
