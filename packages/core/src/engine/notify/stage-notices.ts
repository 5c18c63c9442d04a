import type { Notifier } from '../../contracts/notifier.ts';
import type { Release, StageRef } from '../../contracts/release.ts';
import type { Approval, DeployRecord, DeployTrigger, StageState } from '../../contracts/state-store.ts';
import type { EventBus } from '../../events.ts';
import type { Logger } from '../../logger.ts';
import { createNotificationDispatcher } from '../../notify/notification-dispatcher.ts';

export interface StageNoticesOptions {
  readonly bus: EventBus;
  readonly logger: Logger;
  /** Told about what the events below say (and the runner's deploy outcomes); never block a deploy. */
  readonly notifiers?: readonly Notifier[];
}

const at = () => new Date().toISOString();

/**
 * What the engine says about its stages outside a deploy's run (the runner reports its own steps):
 * releases selected, held or waiting for confirmation, deploys queued or cancelled before they
 * started, people's changes and decisions. All go to the bus; the notifiers, when there are any,
 * hear them through one dispatcher, which the engine's stop flushes.
 */
export class StageNotices {
  readonly #bus: EventBus;
  readonly #dispatcher: ReturnType<typeof createNotificationDispatcher> | undefined;

  constructor(options: StageNoticesOptions) {
    this.#bus = options.bus;
    const { notifiers, bus, logger } = options;
    this.#dispatcher =
      notifiers && notifiers.length > 0
        ? createNotificationDispatcher({ notifiers, bus, logger })
        : undefined;
  }

  /** What the last deploys reported still goes out, within the dispatcher's timeouts. */
  async close(): Promise<void> {
    await this.#dispatcher?.flush();
    await this.#dispatcher?.dispose();
  }

  selected(ref: StageRef, release: Release, reason: string): void {
    this.#bus.emit({
      type: 'release:selected',
      at: at(),
      ...ref,
      tag: release.tag,
      digest: release.digest,
      reason,
    });
  }

  /** Said once per release: the stage holds it until a person deploys it. */
  available(ref: StageRef, release: Release, current: Release | undefined, reason: string): void {
    this.#bus.emit({
      type: 'release:available',
      at: at(),
      project: ref.project,
      stage: ref.stage,
      release,
      ...(current ? { current } : {}),
      reason,
    });
  }

  awaitingConfirmation(
    ref: StageRef,
    release: Release,
    approvalId: string,
    current: Release | undefined,
  ): void {
    this.#bus.emit({
      type: 'deploy:awaiting-confirmation',
      at: at(),
      project: ref.project,
      stage: ref.stage,
      release,
      approvalId,
      ...(current ? { current } : {}),
    });
  }

  queued(record: DeployRecord, trigger: DeployTrigger, by: string | undefined): void {
    this.#bus.emit({
      type: 'deploy:queued',
      at: at(),
      deployId: record.id,
      project: record.project,
      stage: record.stage,
      release: record.release,
      trigger,
      ...(by === undefined ? {} : { by }),
    });
  }

  /** A deploy that never started went straight to cancelled. */
  cancelled(record: DeployRecord): void {
    this.#bus.emit({
      type: 'deploy:state-changed',
      at: at(),
      deployId: record.id,
      project: record.project,
      stage: record.stage,
      from: record.state,
      to: 'cancelled',
    });
  }

  stageUpdated(state: StageState, change: 'pin' | 'unpin' | 'auto-deploy', by: string | undefined): void {
    this.#bus.emit({
      type: 'stage:updated',
      at: at(),
      project: state.project,
      stage: state.stage,
      change,
      autoDeploy: state.autoDeploy,
      ...(state.pin === undefined ? {} : { pin: state.pin }),
      ...(by === undefined ? {} : { by }),
    });
  }

  approvalDecided(approval: Approval): void {
    this.#bus.emit({
      type: 'approval:decided',
      at: at(),
      project: approval.project,
      stage: approval.stage,
      approvalId: approval.id,
      release: approval.release,
      status: approval.status === 'rejected' ? 'rejected' : 'approved',
      by: approval.decidedBy ?? 'unknown',
      ...(approval.comment === undefined ? {} : { comment: approval.comment }),
      ...(approval.deployId === undefined ? {} : { deployId: approval.deployId }),
    });
  }
}
