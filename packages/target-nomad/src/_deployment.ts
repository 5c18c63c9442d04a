import type { HealthReport } from '@docker-watcher/core';
import type {
  NomadAllocation,
  NomadAllocationMetric,
  NomadDeployment,
  NomadDeploymentState,
} from './_nomad-types.ts';

/** Deployment statuses after which nothing changes any more. */
const terminalStatuses: ReadonlySet<string> = new Set(['successful', 'failed', 'cancelled']);

export const isTerminalDeployment = (deployment: NomadDeployment): boolean =>
  terminalStatuses.has(deployment.Status);

export const shortId = (id: string): string => id.slice(0, 8);

const groupsOf = (deployment: NomadDeployment): Array<[string, NomadDeploymentState]> =>
  Object.entries(deployment.TaskGroups ?? {}).sort(([a], [b]) => a.localeCompare(b));

/** Groups whose canaries wait for promotion (placed or not yet). */
export function groupsAwaitingPromotion(deployment: NomadDeployment): string[] {
  if (deployment.Status !== 'running') return [];
  return groupsOf(deployment)
    .filter(([, state]) => (state.DesiredCanaries ?? 0) > 0 && !state.Promoted)
    .map(([name]) => name);
}

/** Every canary of every group awaiting promotion is placed and healthy: promotion would be accepted. */
export function canariesReady(deployment: NomadDeployment): boolean {
  const waiting = groupsAwaitingPromotion(deployment);
  return (
    waiting.length > 0 &&
    waiting.every((name) => {
      const state = deployment.TaskGroups?.[name];
      return state !== undefined && (state.HealthyAllocs ?? 0) >= (state.DesiredCanaries ?? 0);
    })
  );
}

/** Nomad promotes these by itself: every waiting group has `auto_promote`. */
export function autoPromotes(deployment: NomadDeployment): boolean {
  const waiting = groupsAwaitingPromotion(deployment);
  return waiting.length > 0 && waiting.every((name) => deployment.TaskGroups?.[name]?.AutoPromote === true);
}

function groupProgress(name: string, state: NomadDeploymentState): string {
  const parts = [`${state.HealthyAllocs ?? 0}/${state.DesiredTotal ?? 0} healthy`];
  if ((state.UnhealthyAllocs ?? 0) > 0) parts.push(`${state.UnhealthyAllocs} unhealthy`);
  const canaries = state.DesiredCanaries ?? 0;
  if (canaries > 0) {
    const placed = state.PlacedCanaries?.length ?? 0;
    parts.push(state.Promoted ? `${canaries} canaries promoted` : `canaries ${placed}/${canaries} placed`);
  }
  return `${name} ${parts.join(', ')}`;
}

/** One line on where a deployment stands, for the deploy log; it changes whenever its counts do. */
export function progressLine(deployment: NomadDeployment): string {
  const groups = groupsOf(deployment).map(([name, state]) => groupProgress(name, state));
  const description = deployment.StatusDescription ? ` (${deployment.StatusDescription})` : '';
  return `deployment ${shortId(deployment.ID)} of version ${deployment.JobVersion} ${deployment.Status}${description}${groups.length > 0 ? `: ${groups.join('; ')}` : ''}`;
}

/** The health of a job version, as its deployment tells it. `dead` says the allocations all stopped. */
export function deploymentHealth(
  deployment: NomadDeployment,
  facts: {
    readonly current: boolean;
    readonly currentVersion: number;
    readonly dead?: string | undefined;
    /** Its canaries are healthy and wait for a person's confirmation: the gate passes, the promotion comes after. */
    readonly awaitsConfirmation?: boolean;
  },
): HealthReport {
  const line = progressLine(deployment);
  switch (deployment.Status) {
    case 'successful':
      return facts.current
        ? { status: 'healthy', detail: line }
        : {
            status: 'exited',
            detail: `job version ${deployment.JobVersion} was replaced by version ${facts.currentVersion}`,
          };
    case 'failed':
    case 'cancelled': {
      const reverted = facts.current ? '' : `; the job is at version ${facts.currentVersion} now`;
      if (facts.dead !== undefined) return { status: 'exited', detail: `${line}; ${facts.dead}${reverted}` };
      return { status: 'unhealthy', detail: `${line}${reverted}` };
    }
    default: {
      if (facts.awaitsConfirmation && facts.current)
        return { status: 'healthy', detail: `${line}; canaries healthy, awaiting promotion` };
      const waiting = canariesReady(deployment) ? '; canaries healthy, awaiting promotion' : '';
      return { status: 'starting', detail: `${line}${waiting}` };
    }
  }
}

const eventText = (allocation: NomadAllocation): string | undefined => {
  for (const state of Object.values(allocation.TaskStates ?? {})) {
    const events = state.Events ?? [];
    for (let i = events.length - 1; i >= 0; i -= 1) {
      const event = events[i];
      const text = event?.DisplayMessage || event?.DriverError || event?.Message;
      if (text) return `${event?.Type ?? 'event'}: ${text}`;
      if (event?.Type === 'Terminated') return `Terminated: exit code ${event.ExitCode ?? 'unknown'}`;
    }
  }
  return undefined;
};

/**
 * Why none of these allocations runs, when none does and some failed (the release crashed); otherwise
 * `undefined` (they run, or still start).
 */
export function deadAllocations(allocations: readonly NomadAllocation[]): string | undefined {
  if (allocations.length === 0) return undefined;
  if (allocations.some((allocation) => ['running', 'pending'].includes(allocation.ClientStatus)))
    return undefined;
  const failed = allocations.filter((allocation) => ['failed', 'lost'].includes(allocation.ClientStatus));
  if (failed.length === 0) return undefined;
  const first = failed[0] as NomadAllocation;
  const why = eventText(first);
  return `${failed.length} of ${allocations.length} allocations failed (${shortId(first.ID)} ${first.ClientStatus}${why ? `: ${why}` : ''})`;
}

/** The health of a job version without a deployment (its group has no update block): its allocations. */
export function allocationHealth(allocations: readonly NomadAllocation[], version: number): HealthReport {
  if (allocations.length === 0)
    return { status: 'starting', detail: `no allocations of version ${version} yet` };
  const dead = deadAllocations(allocations);
  if (dead !== undefined) return { status: 'exited', detail: dead };
  const running = allocations.filter((allocation) => allocation.ClientStatus === 'running').length;
  const pending = allocations.filter((allocation) => allocation.ClientStatus === 'pending').length;
  const failed = allocations.filter((allocation) => allocation.ClientStatus === 'failed').length;
  const detail = `version ${version} has no deployment: ${running} allocations running${pending ? `, ${pending} pending` : ''}${failed ? `, ${failed} failed` : ''}`;
  if (pending > 0) return { status: 'starting', detail };
  return failed > 0 ? { status: 'unhealthy', detail } : { status: 'healthy', detail };
}

/** Why the scheduler could not place allocations, one line per group. */
export function placementFailures(metrics: Readonly<Record<string, NomadAllocationMetric>>): string[] {
  return Object.entries(metrics)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([group, metric]) => {
      const reasons: string[] = [];
      const keys = (record: Readonly<Record<string, number>> | null | undefined) =>
        Object.entries(record ?? {}).map(([key, value]) => `${key} (${value})`);
      const exhausted = keys(metric.DimensionExhausted);
      if (exhausted.length > 0) reasons.push(`exhausted ${exhausted.join(', ')}`);
      const constraints = keys(metric.ConstraintFiltered);
      if (constraints.length > 0) reasons.push(`filtered by ${constraints.join(', ')}`);
      if ((metric.QuotaExhausted ?? []).length > 0)
        reasons.push(`quota ${(metric.QuotaExhausted ?? []).join(', ')}`);
      if (reasons.length === 0) reasons.push(`${metric.NodesEvaluated ?? 0} nodes evaluated`);
      const coalesced = metric.CoalescedFailures ? ` (${metric.CoalescedFailures + 1} allocations)` : '';
      return `group ${group} could not be placed${coalesced}: ${reasons.join('; ')}`;
    });
}
