import { describe, expect, it } from 'vitest';
import { compileExtract, hasKeyGroup } from './extract-order.ts';

describe('hasKeyGroup', () => {
  it.each([
    [String.raw`^build-(?<key>\d+)$`, true],
    [String.raw`^(?<key>\d+)?$`, true],
    [String.raw`^build-(\d+)$`, false],
    [String.raw`^build-(?<build>\d+)$`, false],
    [String.raw`\(?<key>\d+\)`, false],
  ])('%s → %s', (source, expected) => {
    expect(hasKeyGroup(source)).toBe(expected);
  });
});

describe('compileExtract', () => {
  it.each([
    ['numeric', String.raw`^build-(?<key>\d+)$`, 'build-1234', '1234'],
    ['numeric', String.raw`^build-(?<key>\d+)$`, 'build-x', undefined],
    ['numeric', String.raw`^main-(?<key>\d{8}-\d+)$`, 'main-20261101-1234', '20261101-1234'],
    ['numeric', '^(?<key>[a-z]+)$', 'latest', undefined],
    ['numeric', String.raw`^(?<key>\d+)?-x$`, '-x', undefined],
    ['alphabetic', '^nightly-(?<key>.+)$', 'nightly-2026-11-01T0100Z', '2026-11-01T0100Z'],
    ['alphabetic', '^(?<key>[a-z]+)$', 'latest', 'latest'],
  ] as const)('%s %s reads %s as %s', (sort, source, tag, key) => {
    expect(compileExtract(source, sort).extract(tag)).toBe(key);
  });

  it('orders numeric keys by number and alphabetic keys by character', () => {
    expect(compileExtract('(?<key>.*)', 'numeric').compare('10', '9')).toBeGreaterThan(0);
    expect(compileExtract('(?<key>.*)', 'alphabetic').compare('10', '9')).toBeLessThan(0);
  });
});
