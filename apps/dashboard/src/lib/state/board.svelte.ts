// The pipeline board's state: projects, plan, pending approvals and deploys, loaded once and kept
// current by the event stream (deploy states directly, the rest by re-reading the one project).
import type { DwEvent } from '../api/events.ts';
import { api } from '../api/index.ts';
import type { Approval, DeployRecord, ProjectSummary, StageDecision } from '../api/types.ts';
import { type BoardState, buildRow, type LiveDeploy, type Row, stageKey } from '../model/board.ts';
import { isFinalState } from '../model/deploy-states.ts';
import { events } from './events.svelte.ts';

/** Re-reads of one project within this window are merged into one. */
const refreshDelayMs = 60;

/**
 * The maps are plain (a reactive entry per stage would cost a signal each at 1,000 projects): every
 * change marks its project, and `rows` rebuilds the rows of marked projects only.
 */
class Board implements BoardState {
  projects = $state.raw<readonly ProjectSummary[]>([]);
  readonly decisions = new Map<string, StageDecision>();
  readonly approvals = new Map<string, Approval>();
  readonly active = new Map<string, LiveDeploy>();
  readonly last = new Map<string, DeployRecord>();
  loaded = $state(false);
  error = $state.raw<unknown>(undefined);
  /** Bumped by every change of the maps. */
  #version = $state(0);
  /** Built rows by project, with the summary they were built from. */
  #rowCache = new Map<string, { readonly source: ProjectSummary; readonly row: Row }>();
  rows: readonly Row[] = $derived.by(() => {
    void this.#version;
    return this.projects.map((project) => {
      const cached = this.#rowCache.get(project.id);
      if (cached?.source === project) return cached.row;
      const row = buildRow(project, this);
      this.#rowCache.set(project.id, { source: project, row });
      return row;
    });
  });
  /** Pending approvals in total (the navigation's count). */
  pendingCount = $derived.by(() => {
    void this.#version;
    return this.approvals.size;
  });

  /** The maps changed for `project` (every project when absent). */
  #changed(project?: string): void {
    if (project === undefined) this.#rowCache.clear();
    else this.#rowCache.delete(project);
    this.#version++;
  }

  #loading: Promise<void> | undefined;
  #refresh = new Map<string, ReturnType<typeof setTimeout>>();
  #unsubscribe: (() => void) | undefined;

  /** Loads everything (once; again after a reconnect) and follows the event stream. */
  start(): Promise<void> {
    if (!this.#unsubscribe) {
      const off = events.subscribe((event) => this.apply(event));
      const offResync = events.onResync(() => void this.reload());
      this.#unsubscribe = () => {
        off();
        offResync();
      };
    }
    // Read once the event stream is open, so that no event falls between the read and the stream.
    this.#loading ??= events.ready(1500).then(() => this.reload());
    return this.#loading;
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#loading = undefined;
    this.loaded = false;
  }

  async reload(): Promise<void> {
    try {
      const [{ projects }, { plan }, { approvals }, { deploys }] = await Promise.all([
        api.listProjects(),
        api.getPlan(),
        api.listApprovals(),
        api.listDeploys({ query: { limit: 200 } }),
      ]);
      this.decisions.clear();
      for (const entry of plan) this.decisions.set(stageKey(entry.project, entry.stage), entry.decision);
      this.approvals.clear();
      for (const approval of approvals)
        if (approval.status === 'pending')
          this.approvals.set(stageKey(approval.project, approval.stage), approval);
      this.#takeDeploys(deploys, true);
      this.projects = projects;
      this.error = undefined;
      this.#changed();
    } catch (error) {
      this.error = error;
    } finally {
      this.loaded = true;
    }
  }

  #takeDeploys(deploys: readonly DeployRecord[], replace: boolean): void {
    if (replace) {
      this.active.clear();
      this.last.clear();
    }
    // Newest first: the first deploy seen of a stage is its newest.
    const seen = new Set<string>();
    for (const deploy of deploys) {
      const key = stageKey(deploy.project, deploy.stage);
      if (!deploy.finished && !this.active.has(key))
        this.active.set(key, {
          id: deploy.id,
          state: deploy.state,
          release: deploy.release,
          trigger: deploy.trigger,
          ...(deploy.by ? { by: deploy.by } : {}),
          ...(deploy.previous ? { previous: deploy.previous } : {}),
        });
      if (deploy.finished && !seen.has(key)) {
        seen.add(key);
        this.last.set(key, deploy);
      }
    }
  }

  apply(event: DwEvent): void {
    switch (event.type) {
      case 'deploy:queued':
      case 'deploy:started': {
        const key = stageKey(event.project, event.stage);
        const current = this.active.get(key);
        this.active.set(key, {
          ...(current?.id === event.deployId ? current : {}),
          id: event.deployId,
          state: current?.id === event.deployId ? current.state : 'pending',
          release: event.release,
          trigger: event.trigger,
          ...(event.type === 'deploy:started' && event.by ? { by: event.by } : {}),
          ...(event.type === 'deploy:started' && event.previous ? { previous: event.previous } : {}),
        });
        this.#changed(event.project);
        return;
      }
      case 'deploy:state-changed': {
        const key = stageKey(event.project, event.stage);
        const current = this.active.get(key);
        if (isFinalState(event.to)) {
          this.#refreshLater(event.project);
          return;
        }
        if (current?.id !== event.deployId) {
          this.#refreshLater(event.project);
          return;
        }
        this.active.set(key, { ...current, state: event.to });
        this.#changed(event.project);
        return;
      }
      case 'deploy:health-checked': {
        const key = stageKey(event.project, event.stage);
        const current = this.active.get(key);
        if (current?.id === event.deployId)
          this.active.set(key, {
            ...current,
            health: { attempt: event.attempt, failures: event.failures, healthy: event.healthy },
          });
        this.#changed(event.project);
        return;
      }
      case 'deploy:succeeded':
      case 'deploy:failed':
      case 'deploy:rolled-back':
      case 'deploy:awaiting-confirmation':
      case 'release:available':
      case 'release:selected':
      case 'approval:decided':
      case 'stage:updated':
        this.#refreshLater(event.project);
        return;
      default:
        return;
    }
  }

  #refreshLater(project: string): void {
    if (this.#refresh.has(project)) return;
    this.#refresh.set(
      project,
      setTimeout(() => {
        this.#refresh.delete(project);
        void this.refreshProject(project);
      }, refreshDelayMs),
    );
  }

  /** Reads one project again: its stages, plan, approvals and recent deploys. */
  async refreshProject(id: string): Promise<void> {
    try {
      const [project, { plan }, { approvals }, { deploys }] = await Promise.all([
        api.getProject({ params: { id } }),
        api.getPlan({ query: { project: id } }),
        api.listApprovals(),
        api.listDeploys({ query: { project: id, limit: 30 } }),
      ]);
      for (const stage of project.stages) {
        const key = stageKey(id, stage.name);
        this.decisions.delete(key);
        this.active.delete(key);
        this.last.delete(key);
      }
      for (const entry of plan) this.decisions.set(stageKey(entry.project, entry.stage), entry.decision);
      // Approvals are read for every project: only the rows whose approvals changed are rebuilt.
      const pending = new Map<string, Approval>();
      for (const approval of approvals)
        if (approval.status === 'pending') pending.set(stageKey(approval.project, approval.stage), approval);
      for (const key of new Set([...pending.keys(), ...this.approvals.keys()])) {
        if (pending.get(key)?.id === this.approvals.get(key)?.id) continue;
        const approval = pending.get(key);
        if (approval) this.approvals.set(key, approval);
        else this.approvals.delete(key);
        this.#rowCache.delete(key.slice(0, key.indexOf('/')));
      }
      this.#takeDeploys(deploys, false);
      this.projects = this.projects.map((p) => (p.id === id ? project : p));
      this.#changed(id);
    } catch {
      // The next event or reconnect reads it again; a lasting failure shows in the connection banner.
    }
  }
}

export const board = new Board();
