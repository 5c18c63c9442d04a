import { describe, expect, it } from 'vitest';
import { parseVersionTag } from './semver-order.ts';
import { isSameShape, shapePreference } from './shape.ts';

function version(tag: string) {
  const parsed = parseVersionTag(tag);
  if (parsed === undefined) throw new Error(`not a version: ${tag}`);
  return parsed;
}

describe('isSameShape', () => {
  it.each([
    ['3.17-alpine', '3.18-alpine', true],
    ['3.17-alpine', '3.18-slim', false],
    ['3.17-alpine', '3.18', false],
    ['3.12', '3.12.1', false],
    ['3.12.1-slim-bookworm', '3.13.0-slim-bookworm', true],
    ['3.13-alpine3.20', '3.14-alpine3.21', false],
    ['3.13-alpine3.20', '3.14-alpine3.20', true],
    ['v1.2.3', '1.2.4', true],
    ['V1.2.3', 'v1.2.4', true],
    ['1.3.0-rc.1', '1.3.0', true],
    ['release-1.2.3', '1.2.4', false],
    ['1.2.3-Alpine', '1.2.4-alpine', false],
  ])('%s and %s → %s', (a, b, expected) => {
    expect(isSameShape(version(a), version(b))).toBe(expected);
  });
});

describe('shapePreference', () => {
  it.each([
    ['1.2.3', 2],
    ['v1.2.3', 2],
    ['1.2.3-rc.1', 2],
    ['3.12', 1],
    ['22', 1],
    ['3.12-slim', 0],
    ['release-1.2.3', 0],
  ] as const)('%s → %i', (tag, expected) => {
    expect(shapePreference(version(tag))).toBe(expected);
  });
});
