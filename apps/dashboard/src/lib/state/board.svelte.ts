// The pipeline board's state: projects, plan, pending approvals and deploys, loaded once and kept
// current by the event stream (deploy states directly, the rest by re-reading the one project).
import { SvelteMap } from 'svelte/reactivity';
import type { DwEvent } from '../api/events.ts';
import { api } from '../api/index.ts';
import type { Approval, DeployRecord, ProjectSummary, StageDecision } from '../api/types.ts';
import { type BoardState, buildRow, type LiveDeploy, type Row, stageKey } from '../model/board.ts';
import { isFinalState } from '../model/deploy-states.ts';
import { events } from './events.svelte.ts';

/** Re-reads of one project within this window are merged into one. */
const refreshDelayMs = 60;

class Board implements BoardState {
  projects = $state.raw<readonly ProjectSummary[]>([]);
  decisions = new SvelteMap<string, StageDecision>();
  approvals = new SvelteMap<string, Approval>();
  active = new SvelteMap<string, LiveDeploy>();
  last = new SvelteMap<string, DeployRecord>();
  loaded = $state(false);
  error = $state.raw<unknown>(undefined);
  rows: readonly Row[] = $derived(this.projects.map((project) => buildRow(project, this)));
  /** Pending approvals in total (the navigation's count). */
  pendingCount = $derived(this.approvals.size);

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
    this.#loading ??= this.reload();
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
        api.projects(),
        api.plan(),
        api.approvals(),
        api.deploys({ limit: 200 }),
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
        return;
      }
      case 'deploy:state-changed': {
        const key = stageKey(event.project, event.stage);
        const current = this.active.get(key);
        if (isFinalState(event.to)) {
          this.#refreshLater(event.project);
          return;
        }
        if (current?.id === event.deployId) this.active.set(key, { ...current, state: event.to });
        else this.#refreshLater(event.project);
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
        api.project(id),
        api.plan({ project: id }),
        api.approvals(),
        api.deploys({ project: id, limit: 30 }),
      ]);
      for (const stage of project.stages) {
        const key = stageKey(id, stage.name);
        this.decisions.delete(key);
        this.active.delete(key);
        this.last.delete(key);
      }
      for (const entry of plan) this.decisions.set(stageKey(entry.project, entry.stage), entry.decision);
      this.approvals.clear();
      for (const approval of approvals)
        if (approval.status === 'pending')
          this.approvals.set(stageKey(approval.project, approval.stage), approval);
      this.#takeDeploys(deploys, false);
      this.projects = this.projects.map((p) => (p.id === id ? project : p));
    } catch {
      // The next event or reconnect reads it again; a lasting failure shows in the connection banner.
    }
  }
}

export const board = new Board();
