import { describe, expect, it } from 'vitest';
import { compareCodeUnits, compareNatural, compareNumericSegments, containsDigit } from './natural-order.ts';

const sign = (value: number) => Math.sign(value);

describe('compareNatural', () => {
  it.each([
    ['dev-9', 'dev-10', -1],
    ['dev-10', 'dev-9', 1],
    ['dev-01', 'dev-1', 0],
    ['build-2026.1.9', 'build-2026.1.10', -1],
    ['dev-100', 'dev-abc', -1],
    ['dev', 'dev-1', -1],
    ['v1.2.3', 'v1.2.3', 0],
    ['a99999999999999999999', 'a100000000000000000000', -1],
    ['B', 'a', -1],
    ['', 'a', -1],
  ] as const)('%s vs %s → %i', (a, b, expected) => {
    expect(sign(compareNatural(a, b))).toBe(expected);
    expect(sign(compareNatural(b, a))).toBe(-expected || 0);
  });
});

describe('compareNumericSegments', () => {
  it.each([
    ['20261101-1234', '20261101-999', 1],
    ['20261101-1234', '20261102-1', -1],
    ['1.10', '1.9', 1],
    ['1.2', '1.2.0', -1],
    ['007', '7', 0],
    ['r5', 'r10', -1],
    ['12345678901234567890', '12345678901234567891', -1],
    ['abc', 'def', 0],
  ] as const)('%s vs %s → %i', (a, b, expected) => {
    expect(sign(compareNumericSegments(a, b))).toBe(expected);
    expect(sign(compareNumericSegments(b, a))).toBe(-expected || 0);
  });
});

describe('helpers', () => {
  it('finds digits and compares code units', () => {
    expect(containsDigit('build-1')).toBe(true);
    expect(containsDigit('latest')).toBe(false);
    expect(compareCodeUnits('b', 'a')).toBe(1);
    expect(compareCodeUnits('a', 'a')).toBe(0);
    expect(compareCodeUnits('Z', 'a')).toBe(-1);
  });
});
