import type { Approval, DeployRecord } from '@docker-watcher/core';
import { demoProject as project, demoRepository as repository } from './demo-config.ts';
import type { Stack } from './stack.ts';
import { waitFor } from './wait-for.ts';

const short = (digest: string) => `${digest.slice(0, 19)}…`;

/** The newest deploy of a stage once it finished (optionally of one tag). */
export async function finishedDeploy(stack: Stack, stage: string, tag?: string): Promise<DeployRecord> {
  return waitFor(`a finished deploy of ${project}/${stage}${tag ? ` ${tag}` : ''}`, async () => {
    const { deploys } = await stack.api<{ deploys: DeployRecord[] }>(
      `/api/deploys?project=${project}&stage=${stage}&limit=1`,
    );
    const newest = deploys[0];
    return newest?.finished && (!tag || newest.release.tag === tag) ? newest : undefined;
  });
}

/** Stops the story at a deploy that did not succeed, saying how it ended and why. */
function mustSucceed(deploy: DeployRecord): void {
  if (deploy.state === 'succeeded') return;
  const why = deploy.error ? `: ${deploy.error.code}: ${deploy.error.message}` : '';
  throw new Error(`the ${deploy.stage} deploy of ${deploy.release.tag} ended ${deploy.state}${why}`);
}

/** The pending approval of a stage, once the server asked for one. */
export function pendingApproval(stack: Stack, stage: string): Promise<Approval> {
  return waitFor(`a confirmation request in ${project}/${stage}`, async () => {
    const { approvals } = await stack.api<{ approvals: Approval[] }>('/api/approvals');
    return approvals.find((a) => a.project === project && a.stage === stage);
  });
}

/** What a stage serves through Caddy, once it serves `body`. */
async function serves(stack: Stack, stage: string, body: string): Promise<string> {
  await waitFor(`${stack.hostOf(project, stage)} to serve ${body}`, async () => {
    const served = await stack.served(project, stage);
    return served.status === 200 && served.body.trim() === body;
  });
  return `curl -H 'Host: ${stack.hostOf(project, stage)}' http://127.0.0.1:${stack.caddy.httpPort}/version -> ${body}`;
}

/**
 * The demo's story through the server's API and Caddy: an automatic deploy to dev, a rel release
 * confirmed, its digest promoted to prod, and a broken dev build rolled back. `startedAt` is when
 * the command started (epoch ms), for the time to the first automatic deploy.
 */
export async function runDemoScenario(
  stack: Stack,
  say: (line: string) => void,
  startedAt: number,
): Promise<void> {
  say('\n1. CI pushes dev-1: the registry notifies the server, which deploys it to dev.');
  await stack.push('v1', repository, 'dev-1');
  const dev1 = await finishedDeploy(stack, 'dev', 'dev-1');
  mustSucceed(dev1);
  say(`   dev: dev-1 deployed automatically (${dev1.trigger}), ${await serves(stack, 'dev', 'v1')}`);
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  say(`   time from the command to the first automatic deploy: ${seconds} s`);

  say('\n2. CI pushes v1.0.0: rel takes v* tags, but only after a confirmation.');
  const pushed = await stack.push('v2', repository, 'v1.0.0');
  const relApproval = await pendingApproval(stack, 'rel');
  say(`   rel: v1.0.0 (${short(pushed.digest)}) waits for confirmation (approval ${relApproval.id})`);
  await stack.api(`/api/approvals/${relApproval.id}/approve`, { body: {} });
  const rel = await finishedDeploy(stack, 'rel', 'v1.0.0');
  mustSucceed(rel);
  say(`   confirmed through the API: rel deployed v1.0.0, ${await serves(stack, 'rel', 'v2')}`);

  say('\n3. prod is promoted from rel: the exact digest rel proved, after a confirmation.');
  const prodApproval = await pendingApproval(stack, 'prod');
  say(
    `   prod: ${prodApproval.release.tag} (${short(prodApproval.release.digest)}) waits for confirmation (approval ${prodApproval.id})`,
  );
  await stack.api(`/api/approvals/${prodApproval.id}/approve`, { body: {} });
  const prod = await finishedDeploy(stack, 'prod');
  mustSucceed(prod);
  const same = prod.release.digest === rel.release.digest ? 'the same digest as rel' : 'ANOTHER digest';
  say(`   confirmed: prod runs ${short(prod.release.digest)}, ${same}, ${await serves(stack, 'prod', 'v2')}`);

  say('\n4. CI pushes a broken build as dev-2: its health check fails, so dev rolls back.');
  await stack.push('unhealthy', repository, 'dev-2');
  const dev2 = await finishedDeploy(stack, 'dev', 'dev-2');
  say(
    `   dev: dev-2 ended ${dev2.state}${dev2.error ? ` (${dev2.error.message})` : ''}; the old release still serves: ${await serves(stack, 'dev', 'v1')}`,
  );
}
