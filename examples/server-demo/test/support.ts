// What the end-to-end tests ask the stack, through the server's HTTP API and Caddy only.
import type { Approval, DeployRecord, StageState } from '@docker-watcher/core';
import type { Stack } from '../src/stack.ts';
import { waitFor } from '../src/wait-for.ts';

export async function deploysOf(stack: Stack, project: string, stage?: string): Promise<DeployRecord[]> {
  const query = new URLSearchParams({ project, ...(stage ? { stage } : {}), limit: '100' });
  return (await stack.api<{ deploys: DeployRecord[] }>(`/api/deploys?${query}`)).deploys;
}

/** The deploy of `tag` in a stage, once it finished. */
export function finished(stack: Stack, project: string, stage: string, tag: string): Promise<DeployRecord> {
  return waitFor(`the deploy of ${tag} to ${project}/${stage} to finish`, async () =>
    (await deploysOf(stack, project, stage)).find((d) => d.release.tag === tag && d.finished),
  );
}

/** Waits until the stage's host answers `body` on /version through Caddy. */
export function serves(stack: Stack, project: string, stage: string, body: string): Promise<true> {
  return waitFor(`${stack.hostOf(project, stage)} to serve ${body}`, async () => {
    const served = await stack.served(project, stage);
    return served.status === 200 && served.body.trim() === body;
  });
}

export async function servedBody(stack: Stack, project: string, stage: string): Promise<string> {
  const served = await stack.served(project, stage);
  return `${served.status} ${served.body.trim()}`;
}

export async function pendingApprovals(stack: Stack, project: string, stage: string): Promise<Approval[]> {
  const { approvals } = await stack.api<{ approvals: Approval[] }>('/api/approvals');
  return approvals.filter((a) => a.project === project && a.stage === stage);
}

export function pendingApproval(stack: Stack, project: string, stage: string): Promise<Approval> {
  return waitFor(
    `a confirmation request in ${project}/${stage}`,
    async () => (await pendingApprovals(stack, project, stage))[0],
  );
}

type StageView = { actual: StageState['actual'] | null; autoDeploy: boolean };

export function stageOf(stack: Stack, project: string, stage: string): Promise<StageView> {
  return stack.api<StageView>(`/api/projects/${project}/stages/${stage}`);
}

/** A Prometheus metric of a replica (the first running one by default), summed over the label sets that match `labels`. */
export async function counter(
  stack: Stack,
  name: string,
  labels: Record<string, string> = {},
  server = stack.servers.find((s) => s.running()) ?? stack.server,
): Promise<number> {
  const url = server.url;
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
    sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

/** Running containers the stack's target manages for a project, with their digest label. */
export async function running(
  stack: Stack,
  project: string,
): Promise<Array<{ stage: string; digest: string }>> {
  return (await stack.containers(project))
    .filter((c) => c.State === 'running')
    .map((c) => ({
      stage: c.Labels['docker-watcher.stage'] ?? '',
      digest: c.Labels['docker-watcher.digest'] ?? '',
    }));
}
