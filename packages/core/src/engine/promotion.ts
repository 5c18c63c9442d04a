import { randomUUID } from 'node:crypto';
import type { Release } from '../contracts/release.ts';
import type { Approval, DeployRecord, StateStore } from '../contracts/state-store.ts';
import { CoreError, toCoreError } from '../errors.ts';
import type { EventBus } from '../events.ts';

/** How often a waiting deploy reads its approval from the store (another replica may decide it). */
const storeCheckMs = 2_000;

/**
 * Opens the approval a candidate waiting for its promotion needs, tied to its deploy, and says so
 * with `deploy:awaiting-confirmation` (carrying the approval id).
 */
export async function openPromotionApproval(
  store: StateStore,
  bus: EventBus,
  record: DeployRecord,
): Promise<Approval> {
  const approval = await store.putApproval({
    approval: {
      id: randomUUID(),
      project: record.project,
      stage: record.stage,
      release: record.release,
      status: 'pending',
      requestedAt: new Date().toISOString(),
      deployId: record.id,
      kind: 'promotion',
    },
  });
  bus.emit({
    type: 'deploy:awaiting-confirmation',
    at: new Date().toISOString(),
    project: record.project,
    stage: record.stage,
    release: record.release,
    approvalId: approval.id,
    ...(record.previous ? { current: record.previous } : {}),
  });
  return approval;
}

/**
 * Resolves with the approval once it is decided (approved, rejected or closed): at once when this
 * process decides it (`approval:decided`), within a few seconds when another replica does. Rejects
 * with `TIMEOUT` after `ms`, and with the signal's reason when it fires.
 */
export function awaitDecision(params: {
  readonly store: StateStore;
  readonly bus: EventBus;
  readonly approvalId: string;
  readonly ms: number;
  readonly signal?: AbortSignal;
}): Promise<Approval> {
  const { store, bus, approvalId, ms, signal } = params;
  return new Promise<Approval>((resolve, reject) => {
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearInterval(poll);
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    const check = async () => {
      try {
        const approval = await store.getApproval({ id: approvalId });
        if (!approval) {
          finish(() => reject(new CoreError('NOT_FOUND', `The approval ${approvalId} is gone`)));
        } else if (approval.status !== 'pending') finish(() => resolve(approval));
      } catch {
        // A store that does not answer now may answer at the next check; the deadline bounds it.
      }
    };
    const onAbort = () =>
      finish(() => reject(signal?.reason instanceof CoreError ? signal.reason : toCoreError(signal?.reason)));
    const unsubscribe = bus.on('approval:decided', (event) => {
      if (event.approvalId === approvalId) void check();
    });
    const poll = setInterval(() => void check(), storeCheckMs);
    const deadline = setTimeout(
      () =>
        finish(() =>
          reject(
            new CoreError('TIMEOUT', `Nobody decided the promotion (approval ${approvalId}) within ${ms} ms`),
          ),
        ),
      ms,
    );
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    void check();
  });
}

/** Closes a promotion approval still pending when its deploy ends another way (failed, cancelled). */
export async function closePromotionApproval(
  store: StateStore,
  approvalId: string,
  reason: string,
): Promise<void> {
  const approval = await store.getApproval({ id: approvalId });
  if (approval?.status !== 'pending') return;
  await store.putApproval({
    approval: { ...approval, status: 'closed', decidedAt: new Date().toISOString(), reason },
  });
}

/** Why a decided promotion does not go on: the person's no (with what they said), or a closed approval. */
export function refusal(approval: Approval, release: Release): CoreError {
  if (approval.status === 'rejected') {
    const said = approval.comment ? `: ${approval.comment}` : '';
    return new CoreError(
      'ABORTED',
      `${approval.decidedBy ?? 'someone'} rejected the promotion of ${release.tag}${said}`,
    );
  }
  return new CoreError(
    'ABORTED',
    `The promotion of ${release.tag} was closed (${approval.reason ?? 'no reason'})`,
  );
}
