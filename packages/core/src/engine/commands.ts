import type { Release, StageRef } from '../contracts/release.ts';
import { stageKey } from '../contracts/release.ts';
import type {
  Approval,
  DeployRecord,
  DeployTrigger,
  StageState,
  StageStateInit,
  StateStore,
} from '../contracts/state-store.ts';
import { CoreError } from '../errors.ts';
import type { EventBus } from '../events.ts';
import type { StageDecision } from './decide/decide.ts';
import { busyElsewhere } from './deploy/deploy-queue.ts';
import type { Engine } from './engine.ts';
import type { EngineProject, EngineStage } from './engine-config.ts';
import type { StageNotices } from './notify/stage-notices.ts';

/** What the commands work with: the engine's shared state, and the steps of its flow they start. */
export interface CommandContext {
  readonly store: StateStore;
  readonly bus: EventBus;
  readonly notices: StageNotices;
  /** The stage's config; `NOT_FOUND` for a stage the config does not have. */
  readonly stageOf: (ref: StageRef) => EngineStage;
  readonly projectOf: (ref: StageRef) => EngineProject;
  readonly readState: (ref: StageRef) => Promise<StageState | undefined>;
  readonly updateState: (
    ref: StageRef,
    change: (state: StageStateInit) => StageStateInit,
  ) => Promise<StageState>;
  /** Lists the stage's repository now, whatever the poll cycle's backoff says. */
  readonly listNow: (project: EngineProject) => Promise<string[]>;
  readonly resolveDigest: (ref: StageRef, tag: string) => Promise<string | undefined>;
  /** The release the stage's policy, pin or source stage offers now. */
  readonly candidateOf: (ref: StageRef, state: StageState | undefined) => Promise<Release | undefined>;
  /** Decides the stage and acts on the decision. */
  readonly reconcile: (ref: StageRef) => Promise<StageDecision | undefined>;
  readonly enqueue: (
    ref: StageRef,
    release: Release,
    trigger: DeployTrigger,
    reason: string,
    by: string | undefined,
  ) => Promise<DeployRecord>;
  /** `enqueue`, unless the same release is under way in the stage: that deploy is the answer. */
  readonly enqueueOnce: CommandContext['enqueue'];
  readonly inFlightFor: (ref: StageRef, release: Release) => Promise<DeployRecord | undefined>;
  readonly closeApprovals: (ref: StageRef, release: Release, reason: string) => Promise<void>;
  /** Takes a deploy out of this replica's queue when it waits there (it never starts). */
  readonly dequeue: (key: string, id: string) => Promise<void>;
  /** The cancellation handle of a deploy this replica runs. */
  readonly cancellerOf: (id: string) => AbortController | undefined;
  readonly cancelPending: (id: string, note: string) => Promise<DeployRecord | undefined>;
  /** The stage's lease (one replica acts on a stage at a time). */
  readonly enter: (key: string) => Promise<boolean>;
  readonly exit: (key: string) => Promise<void>;
  readonly onError: (adapterId: string, operation: string, error: unknown) => void;
}

type Params<K extends keyof Engine> = Engine[K] extends (params: infer P) => unknown ? P : never;

/**
 * What people ask of the stages (deploy, promote, roll back, cancel, approve, reject, pin, toggle
 * auto-deploy): each checks what it may do, records it, and hands the work to the deploy queue or
 * to a new decision. They keep no state of their own.
 */
export class StageCommands {
  readonly #c: CommandContext;

  constructor(context: CommandContext) {
    this.#c = context;
  }

  async deploy(params: Params<'deploy'>): Promise<DeployRecord> {
    const c = this.#c;
    const ref = { project: params.project, stage: params.stage };
    const config = c.stageOf(ref);
    const state = await c.readState(ref);
    if (config.promoteFrom && params.tag === undefined)
      return this.promote({ ...ref, ...(params.by === undefined ? {} : { by: params.by }) });
    const release = params.tag
      ? await this.#tagged(ref, config, params.tag, state)
      : // A person asked: look at the registry now, whatever the poll cycle's backoff says.
        await c.listNow(c.projectOf(ref)).then(() => c.candidateOf(ref, state));
    if (!release) throw new CoreError('NOT_FOUND', `No release fits the policy of ${stageKey(ref)}`);
    if (config.promoteFrom && !(await this.#proofOf(ref, config.promoteFrom, release.digest))) {
      throw new CoreError(
        'CONFLICT',
        `${release.tag} (${release.digest}) never succeeded in ${config.promoteFrom}`,
      );
    }
    await this.#requireNotRunning(ref, release);
    return c.enqueueOnce(ref, release, 'manual', 'deployed by hand', params.by);
  }

  async promote(params: Params<'promote'>): Promise<DeployRecord> {
    const c = this.#c;
    const ref = { project: params.project, stage: params.stage };
    const config = c.stageOf(ref);
    if (!config.promoteFrom) throw new CoreError('BAD_REQUEST', `${stageKey(ref)} has no promote_from stage`);
    const source = await c.store.getStage({ project: ref.project, stage: config.promoteFrom });
    const release = params.digest ? source?.history.find((r) => r.digest === params.digest) : source?.actual;
    if (!release || !(await this.#proofOf(ref, config.promoteFrom, release.digest))) {
      throw new CoreError(
        'CONFLICT',
        `${params.digest ?? 'That release'} never succeeded in ${config.promoteFrom}`,
      );
    }
    await this.#requireNotRunning(ref, release);
    return c.enqueueOnce(ref, release, 'promotion', `promoted from ${config.promoteFrom}`, params.by);
  }

  async rollback(params: Params<'rollback'>): Promise<DeployRecord> {
    const c = this.#c;
    const ref = { project: params.project, stage: params.stage };
    const state = await c.readState(ref);
    const previous = state?.history.find((r) => r.digest !== state.actual?.digest);
    if (!previous)
      throw new CoreError('CONFLICT', `${stageKey(ref)} has no earlier successful release to roll back to`);
    const running = await c.inFlightFor(ref, previous);
    if (running) return running;
    // Without the pause, the next cycle would move forward to the release just rolled back from.
    const paused = await c.updateState(ref, (s) => ({ ...s, autoDeploy: false }));
    if (state?.autoDeploy !== false) c.notices.stageUpdated(paused, 'auto-deploy', params.by);
    return c.enqueue(ref, previous, 'rollback', 'rolled back by hand; auto-deploy paused', params.by);
  }

  async cancel({ id, by }: Params<'cancel'>): Promise<DeployRecord> {
    const c = this.#c;
    const record = await c.store.getDeploy({ id });
    if (!record) throw new CoreError('NOT_FOUND', `No deploy ${id}`);
    if (record.finished) throw new CoreError('CONFLICT', `Deploy ${id} is ${record.state} already`);
    const key = stageKey(record);
    await c.dequeue(key, id);
    const canceller = c.cancellerOf(id);
    if (canceller) {
      // The answer comes at once: the running step is abandoned and the rollback goes on in the
      // background (bounded by its own deadline); the record says where it is.
      const moved = this.#nextStateOf(id, 2_000);
      canceller.abort(new CoreError('ABORTED', `Cancelled by ${by}`));
      await moved;
      await this.#forgetDesired(record, by);
      return (await c.store.getDeploy({ id }))!;
    }
    // Not ours: only when no replica works on the stage can it be cancelled from here.
    if (!(await c.enter(key))) throw busyElsewhere(key);
    try {
      const cancelled = (await c.cancelPending(id, `cancelled by ${by}`))!;
      await this.#forgetDesired(record, by);
      return cancelled;
    } finally {
      await c.exit(key);
    }
  }

  async approve({ id, by, comment }: Params<'approve'>): Promise<DeployRecord> {
    const c = this.#c;
    const approval = await this.#pending(id);
    if (approval.kind === 'promotion') return this.#approvePromotion(approval, by, comment);
    const config = c.stageOf(approval);
    if (config.promoteFrom && !(await this.#proofOf(approval, config.promoteFrom, approval.release.digest))) {
      throw new CoreError('CONFLICT', `${approval.release.tag} never succeeded in ${config.promoteFrom}`);
    }
    await this.#requireNotRunning(approval, approval.release);
    const decided = decidedBy(approval, 'approved', by, comment);
    await c.store.putApproval({ approval: decided });
    // The same release already under way in the stage is the deploy this approval joins.
    const deploy = await c.enqueueOnce(
      approval,
      approval.release,
      config.promoteFrom ? 'promotion' : 'manual',
      `confirmed by ${by}`,
      by,
    );
    await c.store.putApproval({ approval: { ...decided, deployId: deploy.id } });
    c.notices.approvalDecided({ ...decided, deployId: deploy.id });
    return deploy;
  }

  async reject({ id, by, comment }: Params<'reject'>): Promise<Approval> {
    const approval = await this.#pending(id);
    const decided = decidedBy(approval, 'rejected', by, comment);
    await this.#c.store.putApproval({ approval: decided });
    this.#c.notices.approvalDecided(decided);
    return decided;
  }

  async setAutoDeploy(params: Params<'setAutoDeploy'>): Promise<StageState> {
    const c = this.#c;
    const ref = { project: params.project, stage: params.stage };
    c.stageOf(ref);
    const state = await c.updateState(ref, (s) => ({ ...s, autoDeploy: params.enabled }));
    c.notices.stageUpdated(state, 'auto-deploy', params.by);
    if (params.enabled) await c.reconcile(ref);
    return state;
  }

  async pin(params: Params<'pin'>): Promise<StageState> {
    const c = this.#c;
    const ref = { project: params.project, stage: params.stage };
    const config = c.stageOf(ref);
    if (params.tag !== undefined && params.tag.trim() === '')
      throw new CoreError('BAD_REQUEST', 'A pinned tag cannot be empty');
    const state = await c.updateState(ref, (s) => {
      const { pin: _dropped, ...rest } = s;
      return params.tag === undefined ? rest : { ...rest, pin: params.tag };
    });
    c.notices.stageUpdated(state, params.tag === undefined ? 'unpin' : 'pin', params.by);
    if (!config.promoteFrom) await c.reconcile(ref);
    return state;
  }

  /** A tag a person named: allowed by the stage's policy (or its pin), and in the registry. */
  async #tagged(
    ref: StageRef,
    config: EngineStage,
    tag: string,
    state: StageState | undefined,
  ): Promise<Release> {
    const pinned = (state === undefined ? config.pin : state.pin) === tag;
    if (!pinned && !config.policy.allows(tag))
      throw new CoreError('BAD_REQUEST', `${tag} is not allowed in ${stageKey(ref)} by its policy`);
    const digest = await this.#c.resolveDigest(ref, tag);
    if (!digest)
      throw new CoreError('NOT_FOUND', `Tag ${tag} does not exist in ${this.#c.projectOf(ref).repository}`);
    return { tag, digest };
  }

  async #pending(id: string): Promise<Approval> {
    const approval = await this.#c.store.getApproval({ id });
    if (!approval) throw new CoreError('NOT_FOUND', `No approval ${id}`);
    if (approval.status !== 'pending')
      throw new CoreError('CONFLICT', `Approval ${id} is ${approval.status} already`);
    return approval;
  }

  /**
   * A running deploy waits for this one (its canaries passed the gate): the decision is recorded and
   * announced, and the waiting deploy (on whichever replica runs it) promotes them and goes on.
   */
  async #approvePromotion(
    approval: Approval,
    by: string,
    comment: string | undefined,
  ): Promise<DeployRecord> {
    const { store, notices } = this.#c;
    const deploy =
      approval.deployId === undefined ? undefined : await store.getDeploy({ id: approval.deployId });
    if (!deploy || deploy.finished)
      throw new CoreError('CONFLICT', `The deploy approval ${approval.id} was waiting for has ended`);
    const decided = decidedBy(approval, 'approved', by, comment);
    await store.putApproval({ approval: decided });
    notices.approvalDecided(decided);
    return deploy;
  }

  /**
   * Deploying what runs already is a no-op that says so (`CONFLICT` with `details.noop`), and closes
   * the stage's approvals of it. The same release under way is not an error: `enqueueOnce` answers
   * with that deploy.
   */
  async #requireNotRunning(ref: StageRef, release: Release): Promise<void> {
    const state = await this.#c.readState(ref);
    if (state?.actual?.digest !== release.digest) return;
    await this.#c.closeApprovals(ref, release, `${release.tag} runs already`);
    throw new CoreError(
      'CONFLICT',
      `${release.tag} (${release.digest}) runs in ${stageKey(ref)} already: nothing to deploy`,
      { details: { noop: 'already-running', release } },
    );
  }

  /** Whether the digest succeeded in the source stage (its history, or a succeeded deploy). */
  async #proofOf(ref: StageRef, source: string, digest: string): Promise<boolean> {
    const { store } = this.#c;
    const sourceState = await store.getStage({ project: ref.project, stage: source });
    if (sourceState?.history.some((r) => r.digest === digest)) return true;
    const deploys = await store.listDeploys({ project: ref.project, stage: source, limit: 200 });
    return deploys.some((d) => d.state === 'succeeded' && d.release.digest === digest);
  }

  /** A cancelled release is no longer what the stage should run: what runs is, until a decision says otherwise. */
  async #forgetDesired(record: DeployRecord, by: string): Promise<void> {
    await this.#c
      .updateState(record, (s) => {
        if (s.desired?.digest !== record.release.digest) return s;
        const { desired: _cancelled, ...rest } = s;
        return s.actual
          ? { ...rest, desired: { ...s.actual, reason: `${record.release.tag} was cancelled by ${by}` } }
          : rest;
      })
      .catch((error: unknown) => this.#c.onError(this.#c.store.id, 'putStage', error));
  }

  /** Resolves at the deploy's next state change, or after `ms`. */
  #nextStateOf(deployId: string, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let off: () => void = () => undefined;
      const timer = setTimeout(() => {
        off();
        resolve();
      }, ms);
      off = this.#c.bus.on('deploy:state-changed', (event) => {
        if (event.deployId !== deployId) return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }
}

/** An approval as decided by a person, with their comment when they gave one. */
function decidedBy(
  approval: Approval,
  status: 'approved' | 'rejected',
  by: string,
  comment: string | undefined,
): Approval {
  return {
    ...approval,
    status,
    decidedAt: new Date().toISOString(),
    decidedBy: by,
    ...(comment === undefined ? {} : { comment }),
  };
}
