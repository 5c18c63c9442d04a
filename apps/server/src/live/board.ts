import {
  type Approval,
  type DeployRecord,
  type EngineProject,
  type EngineStage,
  type FeedEntry,
  type StageRef,
  type StageState,
  type StateStore,
  stageKey,
} from '@docker-watcher/core';
import type * as v from 'valibot';
import type { boardSchema } from '../api/projects.ts';
import type { projectSummarySchema, stageSummarySchema } from '../api/schemas.ts';

type StageSummary = v.InferOutput<typeof stageSummarySchema>;
type ProjectSummary = v.InferOutput<typeof projectSummarySchema>;
type Board = v.InferOutput<typeof boardSchema>;

/** What the board knows of one stage: its state, last deploy and oldest pending approval. */
export interface StageFacts {
  readonly ref: StageRef;
  readonly config: EngineStage;
  readonly state?: StageState;
  readonly lastDeploy?: DeployRecord;
  readonly approval?: Approval;
}

interface Entry {
  facts: StageFacts;
  /** Bumped by every event about the stage; facts read at an older generation are stale. */
  generation: number;
  loaded: number;
}

/** One project's parts of the answers, encoded; dropped when one of its stages changes. */
interface Encoded {
  projects?: Buffer;
  board?: Buffer;
}

/** Deploys read at once when the board first loads: enough to find each stage's last one at 1,000 stages. */
const initialDeploys = 5_000;

const bytes = (text: string) => Buffer.from(text, 'utf8');
const projectsOpen = bytes('{"projects":[');
const comma = bytes(',');
const close = bytes(']}');

/** `parts` joined by commas between `open` and `]}`, in one buffer. */
const joined = (open: Buffer, parts: readonly Buffer[]) =>
  Buffer.concat([open, ...parts.flatMap((part, index) => (index === 0 ? [part] : [comma, part])), close]);

/**
 * Every stage's summary, kept current by events instead of read per request: an event about a
 * stage (from any replica, through the event hub) marks it stale, and the next read refreshes only
 * the stale stages (three store reads each). Each project's part of `/api/projects` and `/api/board`
 * is encoded once per change of one of its stages, and the answers are those parts joined, kept as
 * they are until the next change: at 1,000 projects an answer is most of a megabyte, and a change
 * re-encodes one project's part, not all of them.
 */
export class StageBoard {
  readonly #store: StateStore;
  readonly #projects: readonly EngineProject[];
  readonly #entries = new Map<string, Entry>();
  /** Entries whose facts are older than their generation. */
  readonly #stale = new Set<Entry>();
  readonly #encoded = new Map<string, Encoded>();
  readonly #lastEventId: () => number;
  readonly #containerOf: (ref: StageRef) => string | undefined;
  #loading: Promise<void> | undefined;
  #version = 0;
  readonly #rendered = new Map<string, { readonly version: number; readonly body: Uint8Array }>();
  #projectRenders = 0;

  constructor(params: {
    readonly store: StateStore;
    readonly projects: readonly EngineProject[];
    /** The newest event the hub delivered: what a summary read now includes. */
    readonly lastEventId: () => number;
    /** The container a stage comes from, for a stage label mode made. */
    readonly containerOf?: (ref: StageRef) => string | undefined;
  }) {
    this.#containerOf = params.containerOf ?? (() => undefined);
    this.#store = params.store;
    this.#projects = params.projects;
    this.#lastEventId = params.lastEventId;
    for (const project of params.projects)
      for (const [stage, config] of Object.entries(project.stages)) {
        const entry: Entry = {
          facts: { ref: { project: project.id, stage }, config },
          generation: 1,
          loaded: 0,
        };
        this.#entries.set(stageKey({ project: project.id, stage }), entry);
        this.#stale.add(entry);
      }
  }

  /** How many times a project's part of an answer was encoded (each change of one of its stages costs one). */
  get projectRenders(): number {
    return this.#projectRenders;
  }

  /** An event (this replica's or another's): the stages it is about are read again on the next request. */
  onEntry(entry: FeedEntry): void {
    const event = entry.event as { project?: unknown; stage?: unknown };
    if (typeof event.project === 'string' && typeof event.stage === 'string')
      this.invalidate({ project: event.project, stage: event.stage });
  }

  /** The stage changed (an API action here, whose event may come later). */
  invalidate(ref: StageRef): void {
    const entry = this.#entries.get(stageKey(ref));
    if (!entry) return;
    entry.generation += 1;
    this.#stale.add(entry);
  }

  /** Current facts of one stage. */
  async stage(ref: StageRef): Promise<StageFacts | undefined> {
    await this.#fresh();
    return this.#entries.get(stageKey(ref))?.facts;
  }

  /** `GET /api/projects` as UTF-8 JSON. */
  async projectsJson(): Promise<Uint8Array> {
    return this.#render('projects', () =>
      joined(
        projectsOpen,
        this.#projects.map((project) => this.#part(project, 'projects')),
      ),
    );
  }

  async projectJson(id: string): Promise<Uint8Array | undefined> {
    const project = this.#projects.find((p) => p.id === id);
    if (!project) return undefined;
    await this.#fresh();
    return this.#part(project, 'projects');
  }

  async boardJson(): Promise<Uint8Array> {
    return this.#render('board', () => {
      const head = JSON.stringify({
        lastEventId: this.#lastEventId(),
        generatedAt: new Date().toISOString(),
      });
      return joined(
        bytes(`${head.slice(0, -1)},"projects":[`),
        this.#projects.map((project) => this.#part(project, 'board')),
      );
    });
  }

  summaryOf(facts: StageFacts): StageSummary {
    const { config, state, lastDeploy, approval } = facts;
    return {
      name: facts.ref.stage,
      policy: config.policy.kind,
      host: config.deploy.host ?? null,
      confirm: config.confirm === true,
      promoteFrom: config.promoteFrom ?? null,
      autoDeploy: state?.autoDeploy ?? config.autoDeploy,
      pin: (state ? state.pin : config.pin) ?? null,
      actual: state?.actual ?? null,
      desired: state?.desired ?? null,
      lastDeploy: lastDeploy
        ? {
            id: lastDeploy.id,
            state: lastDeploy.state,
            finished: lastDeploy.finished,
            trigger: lastDeploy.trigger,
            ...(lastDeploy.by === undefined ? {} : { by: lastDeploy.by }),
            release: lastDeploy.release,
            createdAt: lastDeploy.createdAt,
            updatedAt: lastDeploy.updatedAt,
          }
        : null,
      approval: approval
        ? { id: approval.id, release: approval.release, requestedAt: approval.requestedAt }
        : null,
      available: availableOf(facts),
      ...this.#source(facts.ref),
    };
  }

  #source(ref: StageRef): Pick<StageSummary, 'source' | 'container'> {
    const container = this.#containerOf(ref);
    return container === undefined ? {} : { source: 'labels', container };
  }

  /** A whole answer, joined again only after a change (its parts are re-encoded only where one changed). */
  async #render(key: string, build: () => Uint8Array): Promise<Uint8Array> {
    await this.#fresh();
    const cached = this.#rendered.get(key);
    if (cached?.version === this.#version) return cached.body;
    const version = this.#version;
    const body = build();
    this.#rendered.set(key, { version, body });
    return body;
  }

  /** One project's part of an answer, encoded when one of its stages changed since the last time. */
  #part(project: EngineProject, kind: keyof Encoded): Buffer {
    let encoded = this.#encoded.get(project.id);
    if (!encoded) {
      encoded = {};
      this.#encoded.set(project.id, encoded);
    }
    const cached = encoded[kind];
    if (cached) return cached;
    this.#projectRenders += 1;
    const part = bytes(
      JSON.stringify(kind === 'projects' ? this.#project(project) : this.#boardProject(project)),
    );
    encoded[kind] = part;
    return part;
  }

  #project(project: EngineProject): ProjectSummary {
    return {
      id: project.id,
      registry: project.registry,
      repository: project.repository,
      image: Object.values(project.stages)[0]?.deploy.image ?? null,
      stages: Object.keys(project.stages).map((stage) =>
        this.summaryOf(this.#entries.get(stageKey({ project: project.id, stage }))!.facts),
      ),
    };
  }

  #boardProject(project: EngineProject): Board['projects'][number] {
    return {
      id: project.id,
      stages: Object.keys(project.stages).map((stage) => {
        const facts = this.#entries.get(stageKey({ project: project.id, stage }))!.facts;
        const summary = this.summaryOf(facts);
        const deploy = facts.lastDeploy;
        return {
          name: stage,
          autoDeploy: summary.autoDeploy,
          ...(summary.pin === null ? {} : { pin: summary.pin }),
          ...(summary.actual === null ? {} : { actual: summary.actual }),
          ...(deploy
            ? {
                deploy: {
                  id: deploy.id,
                  state: deploy.state,
                  finished: deploy.finished,
                  tag: deploy.release.tag,
                  ...(deploy.by === undefined ? {} : { by: deploy.by }),
                },
              }
            : {}),
          ...(facts.approval ? { approval: { id: facts.approval.id, ...facts.approval.release } } : {}),
          ...(summary.available ? { available: summary.available.release } : {}),
        };
      }),
    };
  }

  /** Loads every stage once, then refreshes the stale ones; concurrent callers share one refresh. */
  async #fresh(): Promise<void> {
    while (this.#loading) await this.#loading;
    if (this.#stale.size === 0) return;
    const stale = [...this.#stale];
    this.#loading = (
      stale.length === this.#entries.size && this.#entries.size > 1 ? this.#loadAll() : this.#loadSome(stale)
    ).finally(() => {
      this.#loading = undefined;
    });
    await this.#loading;
  }

  async #loadSome(stale: readonly Entry[]): Promise<void> {
    await Promise.all(
      stale.map(async (entry) => {
        const generation = entry.generation;
        const { ref } = entry.facts;
        const [state, deploys, approvals] = await Promise.all([
          this.#store.getStage(ref),
          this.#store.listDeploys({ ...ref, limit: 1 }),
          this.#store.listApprovals({ ...ref, status: 'pending' }),
        ]);
        this.#set(entry, generation, state, deploys[0], approvals[0]);
      }),
    );
  }

  /** The first load: one read per kind for all stages, then single reads for stages whose last deploy is older. */
  async #loadAll(): Promise<void> {
    const generations = new Map([...this.#entries].map(([key, entry]) => [key, entry.generation]));
    const [states, deploys, approvals] = await Promise.all([
      this.#store.listStages(),
      this.#store.listDeploys({ limit: initialDeploys }),
      this.#store.listApprovals({ status: 'pending' }),
    ]);
    const stateOf = new Map(states.map((state) => [stageKey(state), state]));
    const deployOf = new Map<string, DeployRecord>();
    for (const deploy of deploys) if (!deployOf.has(stageKey(deploy))) deployOf.set(stageKey(deploy), deploy);
    const approvalOf = new Map<string, Approval>();
    for (const approval of approvals)
      if (!approvalOf.has(stageKey(approval))) approvalOf.set(stageKey(approval), approval);
    const older: Entry[] = [];
    for (const [key, entry] of this.#entries) {
      const deploy = deployOf.get(key);
      if (!deploy && deploys.length === initialDeploys) older.push(entry);
      else this.#set(entry, generations.get(key)!, stateOf.get(key), deploy, approvalOf.get(key));
    }
    if (older.length > 0) await this.#loadSome(older);
  }

  #set(
    entry: Entry,
    generation: number,
    state: StageState | undefined,
    lastDeploy: DeployRecord | undefined,
    approval: Approval | undefined,
  ): void {
    entry.facts = {
      ref: entry.facts.ref,
      config: entry.facts.config,
      ...(state ? { state } : {}),
      ...(lastDeploy ? { lastDeploy } : {}),
      ...(approval ? { approval } : {}),
    };
    entry.loaded = generation;
    if (entry.loaded === entry.generation) this.#stale.delete(entry);
    this.#encoded.delete(entry.facts.ref.project);
    this.#version += 1;
  }
}

/**
 * A newer allowed release of a stage that deploys by hand: the engine holds it as desired (auto-deploy
 * is off), it is not what runs, and it is neither deploying nor failed here already.
 */
export function availableOf(facts: StageFacts): StageSummary['available'] {
  const { state, lastDeploy } = facts;
  const desired = state?.desired;
  if (!state || state.autoDeploy || !desired || desired.digest === state.actual?.digest) return null;
  if (lastDeploy && lastDeploy.release.digest === desired.digest && lastDeploy.state !== 'cancelled')
    return null;
  return { release: { tag: desired.tag, digest: desired.digest }, reason: desired.reason };
}
