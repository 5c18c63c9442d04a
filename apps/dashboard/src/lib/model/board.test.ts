import { describe, expect, it } from 'vitest';
import type { Approval, DeployRecord, ProjectSummary, StageSummary } from '../api/types.ts';
import {
  type BoardState,
  boardColumns,
  boardPage,
  buildRow,
  digestColours,
  type LiveDeploy,
  matches,
  stageKey,
} from './board.ts';

const digest = (n: number) => `sha256:${n.toString(16).padStart(8, '0')}${'a'.repeat(56)}`;
const release = (tag: string, n: number) => ({ tag, digest: digest(n) });

const stage = (name: string, extra: Partial<StageSummary> = {}): StageSummary => ({
  name,
  policy: 'glob',
  host: `stage-${name}-web.example.com`,
  confirm: false,
  promoteFrom: null,
  autoDeploy: true,
  pin: null,
  actual: null,
  desired: null,
  lastDeploy: null,
  approval: null,
  available: null,
  ...extra,
});

const project = (id: string, stages: StageSummary[]): ProjectSummary => ({
  id,
  registry: 'local',
  repository: `team/${id}`,
  image: `registry.test/team/${id}`,
  stages,
});

const empty: BoardState = {
  projects: [],
  decisions: new Map(),
  approvals: new Map(),
  active: new Map(),
  last: new Map(),
};

const deployRecord = (extra: Partial<DeployRecord>): DeployRecord => ({
  id: 'd1',
  revision: 1,
  project: 'web',
  stage: 'dev',
  release: release('dev-2', 2),
  trigger: 'auto',
  state: 'succeeded',
  finished: true,
  journal: [],
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:10.000Z',
  ...extra,
});

describe('digest colours', () => {
  it('gives stages running the same digest the same colour, and different digests different ones', () => {
    const colours = digestColours([
      stage('dev', { actual: release('dev-3', 3) }),
      stage('rel', { actual: release('v1', 1) }),
      stage('prod', { actual: release('v1', 1) }),
      stage('idle'),
    ]);
    expect(colours.get(digest(3))).toBe(0);
    expect(colours.get(digest(1))).toBe(1);
    expect(colours.size).toBe(2);
  });
});

describe('a board row', () => {
  it('names the containers of stages that come from labels (its "labels" badge), and none otherwise', () => {
    const labelled = buildRow(
      project('web', [stage('live', { source: 'labels', container: 'web-1' })]),
      empty,
    );
    expect(labelled.labelled).toEqual(['web-1']);
    expect(buildRow(project('api', [stage('dev')]), empty).labelled).toEqual([]);
  });

  const stages = [
    stage('dev', { actual: release('dev-3', 3) }),
    stage('rel', { actual: release('v1.1.0', 11), confirm: true }),
    stage('prod', { actual: release('v1.0.0', 10), promoteFrom: 'rel', confirm: true }),
  ];

  it('offers the source stage release as promotable into a stage that does not run it', () => {
    const row = buildRow(project('web', stages), empty);
    expect(row.cells.map((cell) => cell.promotable)).toEqual([
      undefined,
      undefined,
      { from: 'rel', release: release('v1.1.0', 11) },
    ]);
  });

  it('offers nothing to promote once the digest runs there or is being deployed there', () => {
    const same = buildRow(
      project('web', [stages[1]!, { ...stages[2]!, actual: release('v1.1.0', 11) }]),
      empty,
    );
    expect(same.cells[1]!.promotable).toBeUndefined();
    const live: LiveDeploy = {
      id: 'd9',
      state: 'pulling',
      release: release('v1.1.0', 11),
      trigger: 'promotion',
    };
    const deploying = buildRow(project('web', stages), {
      ...empty,
      active: new Map([[stageKey('web', 'prod'), live]]),
    });
    expect(deploying.cells[2]!.promotable).toBeUndefined();
  });

  it('offers approving, not also promoting, while an approval for the proven digest waits', () => {
    const waiting: Approval = {
      id: 'a7',
      project: 'web',
      stage: 'prod',
      release: release('v1.1.0', 11),
      status: 'pending',
      requestedAt: '2026-01-01T00:00:00.000Z',
    };
    const key = stageKey('web', 'prod');
    const row = buildRow(project('web', stages), { ...empty, approvals: new Map([[key, waiting]]) });
    expect(row.cells[2]!.approval).toBe(waiting);
    expect(row.cells[2]!.promotable).toBeUndefined();
    // An approval for another digest leaves the proven one promotable.
    const other = { ...waiting, release: release('v1.0.1', 9) };
    const both = buildRow(project('web', stages), { ...empty, approvals: new Map([[key, other]]) });
    expect(both.cells[2]!.promotable).toEqual({ from: 'rel', release: release('v1.1.0', 11) });
  });

  it('says why a stage needs attention: failed, rolled back, waiting, available, drifted', () => {
    const approval: Approval = {
      id: 'a1',
      project: 'web',
      stage: 'rel',
      release: release('v1.2.0', 12),
      status: 'pending',
      requestedAt: '2026-01-01T00:00:00.000Z',
    };
    const state: BoardState = {
      ...empty,
      last: new Map([
        [
          stageKey('web', 'dev'),
          deployRecord({
            state: 'rolled-back',
            error: { code: 'UNHEALTHY', message: 'health check failed 3 times' },
          }),
        ],
      ]),
      approvals: new Map([[stageKey('web', 'rel'), approval]]),
    };
    const row = buildRow(project('web', stages), state);
    expect(row.cells.map((cell) => cell.attention?.kind)).toEqual(['rolled-back', 'waiting', undefined]);
    expect(row.cells[0]!.attention!.text).toBe('dev-2 rolled back: health check failed 3 times');
    expect(row.attention).toBe(true);

    const held = buildRow(project('web', stages), {
      ...empty,
      decisions: new Map([
        [
          stageKey('web', 'dev'),
          { action: 'hold', release: release('dev-4', 4), reason: 'auto-deploy is off' },
        ],
      ]),
    });
    expect(held.cells[0]!.attention).toEqual({ kind: 'available', text: 'dev-4 is available' });

    const drifted = buildRow(
      project('web', [
        stage('dev', { actual: release('dev-3', 3), desired: { ...release('dev-4', 4), reason: 'x' } }),
      ]),
      empty,
    );
    expect(drifted.cells[0]!.attention?.kind).toBe('drifted');
  });

  it('does not call a stage failed while a new deploy runs there', () => {
    const row = buildRow(project('web', stages), {
      ...empty,
      last: new Map([[stageKey('web', 'dev'), deployRecord({ state: 'failed' })]]),
      active: new Map([
        [
          stageKey('web', 'dev'),
          { id: 'd2', state: 'starting', release: release('dev-5', 5), trigger: 'auto' },
        ],
      ]),
    });
    expect(row.cells[0]!.attention).toBeUndefined();
  });
});

describe('search and paging', () => {
  const rows = Array.from({ length: 120 }, (_, i) =>
    buildRow(project(`app-${i}`, [stage('dev', { actual: release(`dev-${i}`, 1000 + i) })]), empty),
  );

  it('finds a project, a repository, a tag or a digest prefix', () => {
    const row = rows[42]!;
    expect(matches(row, 'app-42')).toBe(true);
    expect(matches(row, 'TEAM/APP-42')).toBe(true);
    expect(matches(row, 'dev-42')).toBe(true);
    expect(matches(row, `sha256:${digest(1042).slice(7, 60)}`)).toBe(true);
    expect(matches(row, digest(1042).slice(7, 19))).toBe(true);
    expect(matches(row, 'dev-43')).toBe(false);
    expect(matches(row, digest(1043).slice(7, 30))).toBe(false);
  });

  it('pages the filtered rows and clamps the page into range', () => {
    const first = boardPage(rows, { search: '', attention: false }, 1);
    expect(first).toMatchObject({ total: 120, page: 1, pages: 3 });
    expect(first.rows[0]!.id).toBe('app-0');
    expect(boardPage(rows, { search: '', attention: false }, 3).rows.map((r) => r.id)).toHaveLength(20);
    expect(boardPage(rows, { search: '', attention: false }, 99).page).toBe(3);
    expect(boardPage(rows, { search: 'app-11', attention: false }, 1).total).toBe(11);
    expect(boardPage(rows, { search: '', attention: true }, 1).total).toBe(0);
  });
});

describe('board columns', () => {
  it('lines stages up by name in config order of first appearance', () => {
    expect(
      boardColumns([
        project('a', [stage('dev'), stage('prod')]),
        project('b', [stage('dev'), stage('rel'), stage('prod')]),
      ]),
    ).toEqual(['dev', 'prod', 'rel']);
  });

  it('stops aligning when there are too many distinct stage names', () => {
    const many = Array.from({ length: 7 }, (_, i) => stage(`s${i}`));
    expect(boardColumns([project('a', many)])).toBeUndefined();
  });
});
