// Every mutating action as a confirmation request: what it will do in words, the typed stage name
// where the config asks for it, and the API call. Pages and cells only choose which to offer.
import { goto } from '$app/navigation';
import { actionKey, api } from './api/index.ts';
import type { Approval, DeployRecord, Release, StageSummary } from './api/types.ts';
import { shortDigest } from './model/format.ts';
import { confirmer } from './state/confirm.svelte.ts';

const label = (release: Release | null | undefined) =>
  release ? `${release.tag} (${shortDigest(release.digest)})` : 'nothing';

const typed = (stage: StageSummary) => (stage.confirm ? stage.name : undefined);

/**
 * One key per opened confirmation: a request retried (a flaky network, a second click that got
 * through) is answered once by the server.
 */
const key = actionKey;

/** Opens a deploy's page once it was accepted. */
const follow = (result: unknown) => {
  const deploy = (result as { deploy?: DeployRecord } | undefined)?.deploy;
  if (deploy) void goto(`/deploys/${encodeURIComponent(deploy.id)}`);
};

export function askDeploy(project: string, stage: StageSummary, tag: string | undefined, why?: string): void {
  confirmer.ask({
    title: `Deploy ${tag ?? 'the current candidate'} to ${project} / ${stage.name}?`,
    lines: [
      `${stage.name} runs ${label(stage.actual)} now.`,
      tag
        ? `It will run ${tag}${why ? ` (${why})` : ''}, with a health check; a failure rolls back.`
        : 'It will run the release its policy selects now.',
    ],
    confirmLabel: 'Deploy',
    ...(typed(stage) ? { typeToConfirm: stage.name } : {}),
    run: () =>
      api.deployStage({
        params: { id: project, stage: stage.name },
        body: tag ? { tag } : {},
        idempotencyKey: key(),
      }),
    done: follow,
  });
}

export function askPromote(project: string, stage: StageSummary, release: Release, from: string): void {
  confirmer.ask({
    title: `Promote ${release.tag} to ${project} / ${stage.name}?`,
    lines: [
      `The exact digest ${shortDigest(release.digest)} that succeeded in ${from} will run in ${stage.name}.`,
      `${stage.name} runs ${label(stage.actual)} now.`,
    ],
    confirmLabel: 'Promote',
    ...(typed(stage) ? { typeToConfirm: stage.name } : {}),
    run: () =>
      api.promoteStage({
        params: { id: project, stage: stage.name },
        body: { digest: release.digest },
        idempotencyKey: key(),
      }),
    done: follow,
  });
}

export function askRollback(project: string, stage: StageSummary, restore: Release | undefined): void {
  confirmer.ask({
    title: `Roll ${project} / ${stage.name} back?`,
    lines: [
      `${stage.name} runs ${label(stage.actual)} now.`,
      restore
        ? `It will run ${label(restore)} again, the release before it, and auto-deploy pauses there.`
        : 'It will run the previous successful release again, and auto-deploy pauses there.',
    ],
    confirmLabel: 'Roll back',
    danger: true,
    ...(typed(stage) ? { typeToConfirm: stage.name } : {}),
    run: () => api.rollbackStage({ params: { id: project, stage: stage.name }, idempotencyKey: key() }),
    done: follow,
  });
}

export function askApprove(
  approval: Approval,
  stage: StageSummary | undefined,
  current?: Release | null,
): void {
  confirmer.ask({
    title: `Approve ${approval.release.tag} for ${approval.project} / ${approval.stage}?`,
    lines: [`${approval.stage} runs ${label(current)} now; it will run ${label(approval.release)}.`],
    confirmLabel: 'Approve and deploy',
    ...(stage?.confirm ? { typeToConfirm: approval.stage } : {}),
    comment: true,
    run: (comment) =>
      api.approve({ params: { id: approval.id }, body: comment ? { comment } : {}, idempotencyKey: key() }),
    done: follow,
  });
}

export function askReject(approval: Approval): void {
  confirmer.ask({
    title: `Reject ${approval.release.tag} for ${approval.project} / ${approval.stage}?`,
    lines: [
      `${label(approval.release)} will not be deployed to ${approval.stage} unless someone deploys it by hand.`,
    ],
    confirmLabel: 'Reject',
    danger: true,
    comment: true,
    run: (comment) =>
      api.reject({ params: { id: approval.id }, body: comment ? { comment } : {}, idempotencyKey: key() }),
  });
}

export function askPin(project: string, stage: StageSummary, tag: string, done?: () => void): void {
  confirmer.ask({
    title: `Pin ${project} / ${stage.name} to ${tag}?`,
    lines: [
      `${stage.name} will run ${tag} and follow only its digest: a re-push of ${tag} is deployed, other tags are not.`,
    ],
    confirmLabel: 'Pin',
    run: () =>
      api.pinStage({ params: { id: project, stage: stage.name }, body: { tag }, idempotencyKey: key() }),
    ...(done ? { done } : {}),
  });
}

export function askUnpin(project: string, stage: StageSummary, done?: () => void): void {
  confirmer.ask({
    title: `Unpin ${project} / ${stage.name}?`,
    lines: [`${stage.name} is pinned to ${stage.pin}; it will follow its ${stage.policy} policy again.`],
    confirmLabel: 'Unpin',
    run: () => api.unpinStage({ params: { id: project, stage: stage.name }, idempotencyKey: key() }),
    ...(done ? { done } : {}),
  });
}

export function askAutoDeploy(
  project: string,
  stage: StageSummary,
  enabled: boolean,
  done?: () => void,
): void {
  confirmer.ask({
    title: `${enabled ? 'Turn on' : 'Turn off'} auto-deploy for ${project} / ${stage.name}?`,
    lines: [
      enabled
        ? `New releases its policy allows will deploy on their own${stage.confirm ? ', after a confirmation' : ''}; the newest one now, if it does not run yet.`
        : 'New releases will wait until someone deploys them.',
    ],
    confirmLabel: enabled ? 'Turn on' : 'Turn off',
    run: () =>
      api.setAutoDeploy({
        params: { id: project, stage: stage.name },
        body: { enabled },
        idempotencyKey: key(),
      }),
    ...(done ? { done } : {}),
  });
}

export function askCancel(deploy: { id: string; project: string; stage: string; release: Release }): void {
  confirmer.ask({
    title: `Cancel the deploy of ${deploy.release.tag} to ${deploy.project} / ${deploy.stage}?`,
    lines: [
      'A queued deploy never starts; a running one stops and the old release keeps (or goes back to) serving.',
    ],
    confirmLabel: 'Cancel deploy',
    danger: true,
    run: () => api.cancelDeploy({ params: { id: deploy.id }, idempotencyKey: key() }),
  });
}
