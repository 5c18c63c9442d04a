import { describe, expect, it } from 'vitest';
import { isCoreError } from '../errors.ts';
import { readDeployState, toJournalEntry } from './store-helpers.ts';

const thrown = (action: () => unknown): unknown => {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('deploy states a store reads', () => {
  it('pass when the state table has them', () => {
    expect(readDeployState('health-checking', 'deploy d1')).toBe('health-checking');
    expect(toJournalEntry({ seq: 2, state: 'pulling', at: 't', note: null })).toEqual({
      seq: 2,
      state: 'pulling',
      at: 't',
    });
  });

  it('fail with INTERNAL naming the record and the value when it does not', () => {
    const error = thrown(() => readDeployState('exploded', 'deploy d1'));
    expect(isCoreError(error, 'INTERNAL')).toBe(true);
    expect((error as Error).message).toMatch(
      /deploy d1 has an unknown deploy state in the store: "exploded"/,
    );
    expect(
      isCoreError(
        thrown(() => readDeployState(7, 'deploy d1')),
        'INTERNAL',
      ),
    ).toBe(true);
    const journal = thrown(() => toJournalEntry({ seq: 3, state: 'queued', at: 't', note: null }));
    expect((journal as Error).message).toMatch(/journal entry 3 .*"queued"/);
  });

  it('show at most 64 characters of what they found', () => {
    const error = thrown(() => readDeployState('x'.repeat(500), 'deploy d1')) as Error;
    expect(error.message).toContain(`"${'x'.repeat(64)}"`);
    expect(error.message).not.toContain('x'.repeat(65));
  });
});
