// Deploy states as the dashboard groups and words them (the engine's table is in core's deploy-states.ts).
import type { DeployState } from '../api/types.ts';

export type StateTone = 'running' | 'good' | 'bad' | 'warn' | 'quiet';

const finalStates: ReadonlySet<DeployState> = new Set(['succeeded', 'rolled-back', 'failed', 'cancelled']);

export const isFinalState = (state: DeployState): boolean => finalStates.has(state);

export function toneOf(state: DeployState): StateTone {
  if (state === 'succeeded') return 'good';
  if (state === 'failed') return 'bad';
  if (state === 'rolled-back' || state === 'rolling-back') return 'warn';
  if (state === 'cancelled') return 'quiet';
  return 'running';
}

const words: Readonly<Record<DeployState, string>> = {
  pending: 'queued',
  pulling: 'pulling',
  'stopping-old': 'stopping old',
  starting: 'starting',
  'health-checking': 'health check',
  'switching-traffic': 'switching traffic',
  'retiring-old': 'retiring old',
  'rolling-back': 'rolling back',
  succeeded: 'succeeded',
  'rolled-back': 'rolled back',
  failed: 'failed',
  cancelled: 'cancelled',
};

export const stateWords = (state: DeployState): string => words[state];

/** The steps a blue-green deploy walks through, for the timeline (recreate adds `stopping-old`). */
export const happyPath: readonly DeployState[] = [
  'pending',
  'pulling',
  'starting',
  'health-checking',
  'switching-traffic',
  'retiring-old',
  'succeeded',
];

const actionWords: Readonly<Record<string, string>> = {
  none: 'nothing to do',
  deploy: 'deploy',
  'await-confirmation': 'wait for approval',
  hold: 'wait for a deploy by hand',
};

/** A plan decision's action in words. */
export const actionOf = (action: string): string => actionWords[action] ?? action;
