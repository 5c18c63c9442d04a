// StateStore cases for what clients read: who did what, listings across stages, paging, the event feed.
import type { Release } from '../contracts/release.ts';
import type { Approval, DeployRecordInit } from '../contracts/state-store.ts';
import type { DockerWatcherEvent } from '../events.ts';
import { check, defined, same, sleep } from './assertions.ts';
import type { StateStoreHarness } from './state-store-suite.ts';
import type { ConformanceCase } from './suite.ts';

export type StateStoreQueryCaseId =
  | 'deploy-and-approval-record-who'
  | 'list-deploys-filters-by-state-trigger-and-time'
  | 'list-approvals-across-stages-by-status'
  | 'audit-pages-and-filters'
  | 'feed-numbers-events-in-order'
  | 'feed-keeps-the-newest'
  | 'feed-is-shared-by-replicas';

type Cases = Record<
  StateStoreQueryCaseId,
  Omit<ConformanceCase<StateStoreHarness, StateStoreQueryCaseId>, 'id'>
>;

const digest = (char: string): string => `sha256:${char.repeat(64)}`;
const release = (tag: string, char: string): Release => ({ tag, digest: digest(char) });
const projectFor = (unique: string) => `query-${unique}`;

const deployInit = (
  project: string,
  id: string,
  overrides: Partial<DeployRecordInit> = {},
): DeployRecordInit => ({
  id,
  project,
  stage: 'dev',
  release: release('v1.0.0', 'a'),
  trigger: 'auto',
  state: 'pending',
  data: {},
  ...overrides,
});

const ids = (deploys: readonly { readonly id: string }[]) => deploys.map((deploy) => deploy.id);

const leadership = (holder: string, leader: boolean): DockerWatcherEvent => ({
  type: 'engine:leadership',
  at: new Date().toISOString(),
  holder,
  leader,
});

const feedGate = {
  claim: 'appendFeed and readFeed',
  when: true,
  claimed: (harness: StateStoreHarness) =>
    harness.store.appendFeed !== undefined && harness.store.readFeed !== undefined,
};

export const stateStoreQueryCases: Cases = {
  'deploy-and-approval-record-who': {
    title: "a deploy keeps who asked for it; an approval keeps its decider's comment and its deploy",
    run: async ({ harness: { store }, unique }) => {
      const project = projectFor(unique);
      const created = await store.createDeploy({
        deploy: deployInit(project, `deploy-${unique}`, { trigger: 'manual', by: 'alice' }),
      });
      same(created.by, 'alice', 'createDeploy result');
      same((await store.getDeploy({ id: created.id }))?.by, 'alice', 'getDeploy');
      const updated = await store.updateDeploy({
        id: created.id,
        expectedRevision: created.revision,
        update: { state: 'pulling' },
      });
      same(updated.by, 'alice', 'updateDeploy keeps it');
      const approval: Approval = {
        id: `approval-${unique}`,
        project,
        stage: 'prod',
        release: release('v1.0.0', 'a'),
        status: 'approved',
        requestedAt: new Date().toISOString(),
        decidedAt: new Date().toISOString(),
        decidedBy: 'bob',
        comment: 'checked on rel <b>ok</b>',
        deployId: created.id,
      };
      await store.putApproval({ approval });
      same(await store.getApproval({ id: approval.id }), approval, 'getApproval');
    },
  },
  'list-deploys-filters-by-state-trigger-and-time': {
    title: 'listDeploys filters by states, trigger and creation time, and pages with before',
    run: async ({ harness: { store }, unique }) => {
      const project = projectFor(unique);
      const id = (name: string) => `deploy-${unique}-${name}`;
      await store.createDeploy({ deploy: deployInit(project, id('auto')) });
      await sleep(5);
      const between = new Date().toISOString();
      await sleep(5);
      await store.createDeploy({
        deploy: deployInit(project, id('manual'), { trigger: 'manual', state: 'succeeded', finished: true }),
      });
      await store.createDeploy({
        deploy: deployInit(project, id('rollback'), { trigger: 'rollback', state: 'failed', finished: true }),
      });
      same(
        ids(await store.listDeploys({ project, states: ['succeeded', 'failed'] })),
        [id('rollback'), id('manual')],
        'deploys in two states',
      );
      same(ids(await store.listDeploys({ project, states: [] })), [], 'deploys in no state');
      same(ids(await store.listDeploys({ project, trigger: 'manual' })), [id('manual')], 'manual deploys');
      same(
        ids(await store.listDeploys({ project, since: between })),
        [id('rollback'), id('manual')],
        'deploys since a time',
      );
      same(ids(await store.listDeploys({ project, until: between })), [id('auto')], 'deploys until a time');
      same(
        ids(await store.listDeploys({ project, since: between, limit: 1, before: id('rollback') })),
        [id('manual')],
        'a page of a filtered listing',
      );
    },
  },
  'list-approvals-across-stages-by-status': {
    title: 'listApprovals lists every stage, or one project, by status',
    run: async ({ harness: { store }, unique }) => {
      const project = projectFor(unique);
      const approval = (name: string, stage: string, status: Approval['status']): Approval => ({
        id: `approval-${unique}-${name}`,
        project,
        stage,
        release: release('v1.0.0', 'a'),
        status,
        requestedAt: new Date().toISOString(),
      });
      const rel = approval('rel', 'rel', 'pending');
      const prod = approval('prod', 'prod', 'pending');
      const done = approval('done', 'prod', 'rejected');
      const other = { ...approval('other', 'prod', 'pending'), project: `${project}-other` };
      for (const item of [rel, prod, done, other]) await store.putApproval({ approval: item });
      const mine = (approvals: readonly Approval[]) =>
        ids(approvals.filter((item) => item.id.startsWith(`approval-${unique}-`)));
      same(
        mine(await store.listApprovals({ status: 'pending' })),
        [rel.id, prod.id, other.id],
        'pending everywhere',
      );
      same(
        mine(await store.listApprovals({ project })),
        [rel.id, prod.id, done.id],
        'every approval of a project',
      );
      same(
        mine(await store.listApprovals({ project, status: 'rejected' })),
        [done.id],
        'rejected in a project',
      );
      same(mine(await store.listApprovals()), [rel.id, prod.id, done.id, other.id], 'all approvals');
    },
  },
  'audit-pages-and-filters': {
    title: 'listAudit pages with before (a sequence number) and filters by actor and action',
    run: async ({ harness: { store }, unique }) => {
      const actor = `auditor-${unique}`;
      const other = `other-${unique}`;
      const at = new Date().toISOString();
      const appended = [];
      for (const [who, action] of [
        [actor, 'pin'],
        [other, 'pin'],
        [actor, 'deploy'],
        [actor, 'pin'],
      ] as const)
        appended.push(await store.appendAudit({ event: { at, actor: who, action, target: 'web/dev' } }));
      const seqs = appended.map((event) => event.seq);
      same(
        (await store.listAudit({ actor })).map((event) => event.seq),
        [seqs[3], seqs[2], seqs[0]],
        "one actor's events",
      );
      same(
        (await store.listAudit({ actor, action: 'pin' })).map((event) => event.seq),
        [seqs[3], seqs[0]],
        "one actor's pins",
      );
      same(
        (await store.listAudit({ actor, limit: 1, before: defined(seqs[3], 'seq') })).map(
          (event) => event.seq,
        ),
        [seqs[2]],
        'the page before the newest',
      );
    },
  },
  'feed-numbers-events-in-order': {
    title: 'appendFeed numbers events in one growing sequence; readFeed reads after a number, or the newest',
    gate: feedGate,
    run: async ({ harness: { store }, unique }) => {
      const appendFeed = defined(store.appendFeed, 'appendFeed').bind(store);
      const readFeed = defined(store.readFeed, 'readFeed').bind(store);
      const first = await appendFeed({
        events: [leadership(`a-${unique}`, true), leadership(`b-${unique}`, false)],
      });
      const second = await appendFeed({ events: [leadership(`c-${unique}`, true)] });
      same(await appendFeed({ events: [] }), [], 'appending nothing');
      const seqs = [...first, ...second].map((entry) => entry.seq);
      check(
        seqs.every((seq, index) => index === 0 || seq === (seqs[index - 1] ?? 0) + 1),
        `numbers must follow each other: ${seqs}`,
      );
      const start = defined(seqs[0], 'first number');
      const read = await readFeed({ after: start - 1 });
      same(
        read.map((entry) => entry.seq),
        seqs,
        'read after the number before the first',
      );
      same(read[1]?.event, first[1]?.event, 'events come back as appended');
      same(
        (await readFeed({ after: start, limit: 1 })).map((entry) => entry.seq),
        [start + 1],
        'limit',
      );
      same(
        (await readFeed({ newest: true, limit: 2 })).map((entry) => entry.seq),
        [start + 1, start + 2],
        'the newest two, oldest first',
      );
    },
  },
  'feed-keeps-the-newest': {
    title: 'appendFeed keeps the newest `keep` entries and drops older ones',
    gate: feedGate,
    run: async ({ harness: { store }, unique }) => {
      const appendFeed = defined(store.appendFeed, 'appendFeed').bind(store);
      const readFeed = defined(store.readFeed, 'readFeed').bind(store);
      const appended = await appendFeed({
        events: Array.from({ length: 5 }, (_, n) => leadership(`${n}-${unique}`, true)),
        keep: 3,
      });
      const last = defined(appended.at(-1), 'appended').seq;
      same(
        (await readFeed({ after: 0 })).map((entry) => entry.seq),
        [last - 2, last - 1, last],
        'only the newest three are left',
      );
    },
  },
  'feed-is-shared-by-replicas': {
    title: 'two handles of the store append to one sequence and read each other',
    gate: {
      claim: 'capabilities.sharedLeases with appendFeed',
      when: true,
      claimed: (harness) => harness.store.capabilities.sharedLeases && feedGate.claimed(harness),
    },
    run: async (context) => {
      const { harness, unique } = context;
      const second = await defined(
        harness.replica,
        'sharedLeases is claimed: the harness needs replica()',
      ).call(harness);
      context.defer(() => second.dispose());
      const appendOne = defined(harness.store.appendFeed, 'appendFeed').bind(harness.store);
      const appendTwo = defined(second.appendFeed, 'appendFeed of the replica').bind(second);
      // Interleaved appenders on both handles: every number is given once and readers see them all, in order.
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, n) =>
          (n % 2 === 0 ? appendOne : appendTwo)({ events: [leadership(`${n}-${unique}`, n % 2 === 0)] }),
        ),
      );
      const seqs = results.flat().map((entry) => entry.seq);
      same(new Set(seqs).size, seqs.length, 'every number is given once');
      const low = Math.min(...seqs);
      const read = await defined(second.readFeed, 'readFeed').call(second, { after: low - 1 });
      same(
        read.map((entry) => entry.seq).filter((seq) => seqs.includes(seq)),
        [...seqs].sort((a, b) => a - b),
        "the replica reads both handles' events in order",
      );
      const readBack = new Map(read.map((entry) => [entry.seq, entry.event] as const));
      check(
        results
          .flat()
          .every((entry) => JSON.stringify(readBack.get(entry.seq)) === JSON.stringify(entry.event)),
        'each number reads back as the event it was given to',
      );
    },
  },
};
