import { CoreError } from '../errors.ts';

/**
 * The deploy state machine. Every transition is journaled in the store before the step's side
 * effect runs, so a restarted engine knows exactly where a deploy stopped.
 *
 * blue-green: pending → pulling → starting → health-checking → switching-traffic → retiring-old → succeeded
 * recreate:   pending → pulling → stopping-old → starting → health-checking → switching-traffic → succeeded
 * failure:    any active state → rolling-back → rolled-back (old release serving) | failed (it is not)
 */
export const deployStates = [
  'pending',
  'pulling',
  'stopping-old',
  'starting',
  'health-checking',
  'switching-traffic',
  'retiring-old',
  'rolling-back',
  'succeeded',
  'rolled-back',
  'failed',
  'cancelled',
] as const;

export type DeployState = (typeof deployStates)[number];

export const finalDeployStates: ReadonlySet<DeployState> = new Set([
  'succeeded',
  'rolled-back',
  'failed',
  'cancelled',
]);

export const deployTransitions: Readonly<Record<DeployState, readonly DeployState[]>> = {
  pending: ['pulling', 'cancelled'],
  pulling: ['starting', 'stopping-old', 'rolling-back'],
  'stopping-old': ['starting', 'rolling-back'],
  starting: ['health-checking', 'rolling-back'],
  'health-checking': ['switching-traffic', 'rolling-back'],
  // The switch is the commit point: after it, failures no longer roll back.
  'switching-traffic': ['retiring-old', 'succeeded', 'rolling-back'],
  'retiring-old': ['succeeded'],
  'rolling-back': ['rolled-back', 'failed'],
  succeeded: [],
  'rolled-back': [],
  failed: [],
  cancelled: [],
};

export function isDeployState(value: string): value is DeployState {
  return (deployStates as readonly string[]).includes(value);
}

export function isFinalDeployState(state: DeployState): boolean {
  return finalDeployStates.has(state);
}

export function canTransition(from: DeployState, to: DeployState): boolean {
  return deployTransitions[from].includes(to);
}

/** Throws `INVALID_TRANSITION` unless the table allows `from → to`. */
export function assertTransition(from: string, to: DeployState): asserts from is DeployState {
  if (!isDeployState(from) || !canTransition(from, to)) {
    throw new CoreError('INVALID_TRANSITION', `A deploy cannot go from ${from} to ${to}`, {
      details: { from, to },
    });
  }
}
