import { describe, expect, it } from 'vitest';
import { isCoreError } from '../errors.ts';
import {
  assertTransition,
  canTransition,
  deployStates,
  deployTransitions,
  isFinalDeployState,
} from './deploy-states.ts';

const pairs = deployStates.flatMap((from) => deployStates.map((to) => [from, to] as const));
const legal = pairs.filter(([from, to]) => deployTransitions[from].includes(to));
const illegal = pairs.filter(([from, to]) => !deployTransitions[from].includes(to));

describe('deploy state machine', () => {
  it.each(legal)('allows %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(() => assertTransition(from, to)).not.toThrow();
  });

  it.each(illegal)('refuses %s → %s with INVALID_TRANSITION', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    let thrown: unknown;
    try {
      assertTransition(from, to);
    } catch (error) {
      thrown = error;
    }
    expect(isCoreError(thrown, 'INVALID_TRANSITION')).toBe(true);
  });

  it('refuses unknown states', () => {
    expect(() => assertTransition('exploded', 'succeeded')).toThrow(/cannot go from exploded/);
  });

  it('has final states without exits, and every other state can reach a final state', () => {
    for (const state of deployStates) {
      if (isFinalDeployState(state)) expect(deployTransitions[state]).toEqual([]);
    }
    const reachesFinal = (state: (typeof deployStates)[number], seen = new Set<string>()): boolean =>
      isFinalDeployState(state) ||
      deployTransitions[state].some(
        (next) => !seen.has(next) && reachesFinal(next, new Set([...seen, state])),
      );
    for (const state of deployStates) expect(reachesFinal(state)).toBe(true);
  });

  it('rolls back from every step before the traffic switch, and never after it has been retired', () => {
    for (const state of [
      'pulling',
      'stopping-old',
      'starting',
      'health-checking',
      'switching-traffic',
    ] as const) {
      expect(canTransition(state, 'rolling-back')).toBe(true);
    }
    expect(canTransition('retiring-old', 'rolling-back')).toBe(false);
  });
});
