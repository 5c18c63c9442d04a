import { describe, expect, it } from 'vitest';
import { compileGlob, literalPrefixOf } from './glob.ts';

describe('compileGlob', () => {
  it.each([
    ['dev-*', 'dev-42', true],
    ['dev-*', 'dev-', true],
    ['dev-*', 'xdev-42', false],
    ['dev-*', 'Dev-42', false],
    ['v*', 'v1.2.3', true],
    ['v*', 'V1.2.3', false],
    ['v*', 'release-v1', false],
    ['{main,release}-*', 'release-7', true],
    ['*-alpine', '3.13-alpine', true],
    ['*-alpine', '3.13-alpine3.20', false],
    ['v?.*', 'v1.2', true],
    ['!dev-*', 'main-1', true],
    ['*', '.hidden', true],
  ])('%s on %s → %s', (glob, tag, expected) => {
    expect(compileGlob(glob).test(tag)).toBe(expected);
  });

  it.each([
    ['dev-*', 'dev-'],
    ['v*', 'v'],
    ['v1.*', 'v1.'],
    ['{main,release}-*', ''],
    ['!dev-*', ''],
    ['exact', 'exact'],
  ])('the literal prefix of %s is %j', (glob, prefix) => {
    expect(literalPrefixOf(glob)).toBe(prefix);
  });
});

describe('compileGlob refuses what picomatch would read its own way', () => {
  it.each([
    ['dev-[*', '"[" at position 5 is never closed'],
    ['dev-{a,b', '"{" at position 5 is never closed'],
    ['v(1', '"(" at position 2 is never closed'],
    ['v1}', '"}" at position 3 closes nothing'],
  ])('%s: %s', (glob, message) => {
    expect(() => compileGlob(glob)).toThrow(message);
  });

  it.each(['dev-\\[*', 'v[0-9]*', '[]x]*', '@(a|b)-*', '{main,release}-*'])('accepts %s', (glob) => {
    expect(() => compileGlob(glob)).not.toThrow();
  });
});
