// The pipeline board as data: a row per project, a cell per stage in config order, with what each
// cell shows and why it needs attention. Pure: the board's state module feeds it, tests call it.
import type {
  Approval,
  DeployRecord,
  DeployState,
  ProjectSummary,
  Release,
  StageDecision,
  StageSummary,
} from '../api/types.ts';
import { shortDigest } from './format.ts';

/** A deploy in flight, as the event stream reports it. */
export interface LiveDeploy {
  readonly id: string;
  readonly state: DeployState;
  readonly release: Release;
  readonly trigger: string;
  readonly by?: string;
  readonly previous?: Release;
  /** The health gate's latest probe, while it runs. */
  readonly health?: { readonly attempt: number; readonly failures: number; readonly healthy: boolean };
}

/** The board's inputs, keyed by `project/stage` (Maps: names are data). */
export interface BoardState {
  readonly projects: readonly ProjectSummary[];
  readonly decisions: ReadonlyMap<string, StageDecision>;
  readonly approvals: ReadonlyMap<string, Approval>;
  readonly active: ReadonlyMap<string, LiveDeploy>;
  /** The newest finished deploy of each stage that the dashboard knows of. */
  readonly last: ReadonlyMap<string, DeployRecord>;
}

export type Attention = 'failed' | 'rolled-back' | 'waiting' | 'available' | 'drifted';

export interface Cell {
  readonly project: string;
  readonly stage: StageSummary;
  readonly decision?: StageDecision;
  readonly approval?: Approval;
  readonly active?: LiveDeploy;
  readonly last?: DeployRecord;
  /** Stages of a row running the same digest share this index (a palette colour). */
  readonly colour?: number;
  /** A release proven in the source stage that this stage does not run yet. */
  readonly promotable?: { readonly from: string; readonly release: Release };
  readonly attention?: { readonly kind: Attention; readonly text: string };
}

export interface Row {
  readonly id: string;
  readonly repository: string;
  readonly cells: readonly Cell[];
  readonly attention: boolean;
  /** The containers its stages come from when label mode made them (the row's "labels" badge); else empty. */
  readonly labelled: readonly string[];
}

export const stageKey = (project: string, stage: string): string => `${project}/${stage}`;

/** Why a cell wants a person, most urgent first; `undefined` when it does not. */
export function attentionOf(cell: Omit<Cell, 'attention'>): Cell['attention'] {
  const { last, approval, decision, active, stage } = cell;
  if (!active && last?.state === 'failed')
    return {
      kind: 'failed',
      text: `${last.release.tag} failed${last.error ? `: ${last.error.message}` : ''}`,
    };
  if (!active && last?.state === 'rolled-back')
    return {
      kind: 'rolled-back',
      text: `${last.release.tag} rolled back${last.error ? `: ${last.error.message}` : ''}`,
    };
  if (approval) return { kind: 'waiting', text: `${approval.release.tag} waits for approval` };
  if (decision?.action === 'hold' && decision.release)
    return { kind: 'available', text: `${decision.release.tag} is available` };
  const { desired, actual } = stage;
  if (!active && desired && actual && desired.digest !== actual.digest && decision?.action !== 'none')
    return {
      kind: 'drifted',
      text: `wants ${desired.tag} (${shortDigest(desired.digest)}), runs ${actual.tag}`,
    };
  return undefined;
}

/** Palette indices per digest of one project, in stage order: equal digests, equal colours. */
export function digestColours(stages: readonly StageSummary[]): Map<string, number> {
  const colours = new Map<string, number>();
  for (const stage of stages) {
    const digest = stage.actual?.digest;
    if (digest && !colours.has(digest)) colours.set(digest, colours.size);
  }
  return colours;
}

/**
 * The release to promote into `stage`: its source stage's running release, when it differs. Not while
 * that digest is being deployed there, nor while an approval for it waits (approving is the action).
 */
export function promotableInto(
  stage: StageSummary,
  stages: readonly StageSummary[],
  active: LiveDeploy | undefined,
  approval?: Approval,
): Cell['promotable'] {
  if (!stage.promoteFrom) return undefined;
  const source = stages.find((s) => s.name === stage.promoteFrom);
  const proven = source?.actual;
  if (!proven || proven.digest === stage.actual?.digest) return undefined;
  if (active && active.release.digest === proven.digest) return undefined;
  if (approval?.status === 'pending' && approval.release.digest === proven.digest) return undefined;
  return { from: stage.promoteFrom, release: proven };
}

export function buildRow(project: ProjectSummary, state: BoardState): Row {
  const colours = digestColours(project.stages);
  const cells = project.stages.map((stage) => {
    const key = stageKey(project.id, stage.name);
    const active = state.active.get(key);
    const approval = state.approvals.get(key);
    const base = {
      project: project.id,
      stage,
      decision: state.decisions.get(key),
      approval,
      active,
      last: state.last.get(key),
      colour: stage.actual ? colours.get(stage.actual.digest) : undefined,
      promotable: promotableInto(stage, project.stages, active, approval),
    };
    return { ...base, attention: attentionOf(base) };
  });
  return {
    id: project.id,
    repository: project.repository,
    cells,
    attention: cells.some((cell) => cell.attention !== undefined),
    labelled: project.stages.flatMap((stage) =>
      stage.source === 'labels' && stage.container !== undefined ? [stage.container] : [],
    ),
  };
}

const hex = /^(?:sha256:)?([0-9a-f]{4,64})$/;

/** Whether a row matches a search for a project, repository, tag or digest (prefix). */
export function matches(row: Row, search: string): boolean {
  const q = search.trim().toLowerCase();
  if (q === '') return true;
  if (row.id.toLowerCase().includes(q) || row.repository.toLowerCase().includes(q)) return true;
  const digest = hex.exec(q)?.[1];
  for (const cell of row.cells) {
    const releases = [cell.stage.actual, cell.stage.desired, cell.decision?.release, cell.active?.release];
    for (const release of releases) {
      if (!release) continue;
      if (release.tag.toLowerCase().includes(q)) return true;
      if (digest && release.digest.slice('sha256:'.length).startsWith(digest)) return true;
    }
  }
  return false;
}

export interface BoardFilter {
  readonly search: string;
  readonly attention: boolean;
}

export interface BoardPage {
  readonly rows: readonly Row[];
  /** Rows that pass the filter, on every page. */
  readonly total: number;
  readonly page: number;
  readonly pages: number;
  /** Rows needing attention, filter aside. */
  readonly attentionCount: number;
}

export const pageSize = 50;

/** Beyond this many distinct stage names the board stops aligning stages in columns. */
export const maxColumns = 6;

/**
 * The board's columns: every stage name in config order of first appearance, when there are few
 * enough to align (`dev`, `rel`, `prod` line up across projects); `undefined` otherwise.
 */
export function boardColumns(projects: readonly ProjectSummary[]): string[] | undefined {
  const names: string[] = [];
  for (const project of projects)
    for (const stage of project.stages) {
      if (names.includes(stage.name)) continue;
      names.push(stage.name);
      if (names.length > maxColumns) return undefined;
    }
  return names;
}

/** The rows on one page of the filtered board (page numbers start at 1, clamped into range). */
export function boardPage(
  rows: readonly Row[],
  filter: BoardFilter,
  page: number,
  size = pageSize,
): BoardPage {
  let attentionCount = 0;
  const passing: Row[] = [];
  for (const row of rows) {
    if (row.attention) attentionCount++;
    if (filter.attention && !row.attention) continue;
    if (!matches(row, filter.search)) continue;
    passing.push(row);
  }
  const pages = Math.max(1, Math.ceil(passing.length / size));
  const current = Math.min(Math.max(1, Math.floor(page) || 1), pages);
  return {
    rows: passing.slice((current - 1) * size, current * size),
    total: passing.length,
    page: current,
    pages,
    attentionCount,
  };
}
