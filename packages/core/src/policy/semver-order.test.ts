import fc from 'fast-check';
import { compare, parse, satisfies } from 'semver';
import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  compileRange,
  formatVersion,
  parseStrictSemver,
  parseVersionTag,
  prereleaseChannels,
  type VersionTag,
} from './semver-order.ts';

type Parsed = Omit<VersionTag, 'tag'>;

const release = { prerelease: [], channel: '', variant: '', prefix: '' };

describe('parseVersionTag', () => {
  it.each<[string, Partial<Parsed>]>([
    ['1.2.3', { ...release, major: 1, minor: 2, patch: 3, components: 3 }],
    ['v1.2.3', { ...release, major: 1, minor: 2, patch: 3, components: 3 }],
    ['V1.2.3', { ...release, major: 1, minor: 2, patch: 3, components: 3 }],
    ['3.12', { ...release, major: 3, minor: 12, patch: 0, components: 2 }],
    ['22', { ...release, major: 22, minor: 0, patch: 0, components: 1 }],
    ['24.04', { ...release, major: 24, minor: 4, components: 2 }],
    ['2026.11.01', { ...release, major: 2026, minor: 11, patch: 1, components: 3 }],
    ['3.12-slim', { major: 3, minor: 12, components: 2, variant: '-slim', prerelease: [] }],
    ['3.12.1-slim-bookworm', { major: 3, minor: 12, patch: 1, variant: '-slim-bookworm' }],
    ['3.13-alpine3.20', { major: 3, minor: 13, components: 2, variant: '-alpine3.20' }],
    ['1.3.0-rc.2', { prerelease: ['rc', 2], channel: 'rc', variant: '' }],
    ['1.3.0-rc2', { prerelease: ['rc', 2], channel: 'rc' }],
    ['1.3.0-RC2', { prerelease: ['rc', 2], channel: 'rc' }],
    ['1.3.0-beta-5', { prerelease: ['beta', 5], channel: 'beta' }],
    ['1.3.0-rc.01', { prerelease: ['rc', 1], channel: 'rc' }],
    ['1.3.0-preview.3', { prerelease: ['preview', 3], channel: 'preview' }],
    ['1.3.0-rc.1-alpine', { prerelease: ['rc', 1], channel: 'rc', variant: '-alpine' }],
    ['3.14-rc-slim', { components: 2, prerelease: ['rc'], channel: 'rc', variant: '-slim' }],
    ['1.0.0-alpha.beta', { prerelease: ['alpha', 'beta'], channel: 'alpha' }],
    ['1.0.0-1', { prerelease: [1], channel: '', variant: '' }],
    ['1.0.0-rcfoo', { prerelease: [], variant: '-rcfoo' }],
    ['release-1.2.3', { prefix: 'release-', major: 1, minor: 2, patch: 3 }],
    ['release-v1.2.3', { prefix: 'release-', major: 1, minor: 2, patch: 3 }],
    ['app_web-2.0', { prefix: 'app_web-', major: 2, components: 2 }],
    ['noble-20240827', { prefix: 'noble-', major: 20240827, components: 1 }],
    ['v1-alpine', { prefix: '', major: 1, components: 1, variant: '-alpine' }],
    ['x-v1-alpine', { prefix: 'x-', major: 1, components: 1, variant: '-alpine' }],
    ['999999999999999.0.0', { major: 999_999_999_999_999 }],
  ])('reads %s', (tag, expected) => {
    expect(parseVersionTag(tag)).toMatchObject({ tag, ...expected });
  });

  it.each([
    'latest',
    'slim',
    'alpine',
    '3.14.0rc1',
    '1.2.3.4',
    '',
    'v',
    'v.1',
    '1.',
    '1..2',
    '1.2.3+build.5',
    '1.2.3-',
    '1.2.3_slim',
    '-1.2.3',
    '1234567890123456',
    '1.2.3-rc.1234567890123456',
    'sha-',
    'ünicode-1.2',
    '1.2.3-ä',
    'v 1.2.3',
  ])('leaves %j out', (tag) => {
    expect(parseVersionTag(tag)).toBeUndefined();
  });

  // The grammar as one regular expression: the specification the scanner is checked against.
  const reference = new RegExp(
    String.raw`^((?:[a-z][a-z0-9]*[-_])*)v?(\d{1,15})(?:\.(\d{1,15})(?:\.(\d{1,15}))?)?` +
      String.raw`(?:-(?:(${prereleaseChannels.join('|')})(?:[.-]?(\d{1,15}))?((?:\.[0-9a-z]{1,40})*)|(\d{1,15}(?:\.\d{1,15})*)))?` +
      '(-[a-z][0-9a-z._-]*)?$',
    'i',
  );

  function referenceParse(tag: string) {
    const match = reference.exec(tag);
    if (match === null) return undefined;
    return {
      prefix: match[1],
      numbers: [match[2], match[3], match[4]].filter((part) => part !== undefined).map(Number),
      prerelease:
        match[5] === undefined
          ? match[8]
          : `${match[5]}${match[6] === undefined ? '' : `.${match[6]}`}${match[7]}`,
      variant: match[9] ?? '',
    };
  }

  it('agrees with the reference regular expression on arbitrary tag-like strings', () => {
    const piece = fc.constantFrom(
      'v',
      'V',
      '1',
      '0',
      '12',
      '2026',
      '1234567890123456',
      '.',
      '-',
      '_',
      'rc',
      'RC',
      'beta',
      'pre',
      'view',
      'alpine',
      'slim',
      'x',
      'a1',
      '+',
      'é',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const tag = pieces.join('');
        const expected = referenceParse(tag);
        const actual = parseVersionTag(tag);
        if (expected === undefined || actual === undefined) {
          // Prereleases whose numeric identifiers exceed 15 digits parse with the regex but not as semver.
          const tooLong = expected !== undefined && /\d{16}/.test(expected.prerelease ?? '');
          expect(actual === undefined && (expected === undefined || tooLong)).toBe(true);
          return;
        }
        expect(actual.prefix).toBe(expected.prefix);
        expect([actual.major, actual.minor, actual.patch].slice(0, actual.components)).toEqual(
          expected.numbers,
        );
        expect(actual.prerelease.join('.')).toBe(
          (expected.prerelease ?? '')
            .split('.')
            .filter((part) => part !== '')
            .map((part) => (/^\d+$/.test(part) ? String(Number(part)) : part.toLowerCase()))
            .join('.'),
        );
        expect(actual.variant).toBe(expected.variant);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('parseStrictSemver', () => {
  it.each([
    ['1.2.3', '1.2.3'],
    ['v1.2.3', '1.2.3'],
    ['V0.0.0-rc.1', '0.0.0-rc.1'],
    ['1.2.3-x-y.7', '1.2.3-x-y.7'],
  ])('reads %s as %s', (text, version) => {
    const parsed = parseStrictSemver(text);
    expect(parsed && formatVersion(parsed)).toBe(version);
  });

  it.each([
    '1.2',
    '01.2.3',
    '1.2.3-01',
    '1.2.3+5',
    'dev-1.2.3',
    '1.2.3-',
    '1.2.3-rc..1',
    '1.2.3-ä',
    '',
    ' 1.2.3',
    '1.2.3 ',
    '1000000000000000.0.0',
    '1.0.0-1000000000000000',
  ])('rejects %j', (text) => {
    expect(parseStrictSemver(text)).toBeUndefined();
  });

  it('agrees with semver.parse (strict) on arbitrary version-like strings', () => {
    const piece = fc.constantFrom('v', '0', '1', '01', '23', '.', '-', 'rc', 'RC', 'x-y', '+b', 'é', ' ');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const text = pieces.join('');
        const ours = parseStrictSemver(text);
        // Where this grammar is deliberately stricter than semver: no build metadata, no spaces
        // (semver trims them; a tag cannot hold one) and at most 15 digits in a number.
        const stricter = text.includes('+') || text.trim() !== text || /\d{16}/.test(text);
        const theirs = stricter ? null : parse(text);
        expect(ours && formatVersion(ours)).toBe(theirs === null ? undefined : theirs.version.toLowerCase());
      }),
      { numRuns: 5000 },
    );
  });
});

const versionArbitrary = fc
  .tuple(
    fc.nat({ max: 3 }),
    fc.nat({ max: 3 }),
    fc.nat({ max: 3 }),
    fc.constantFrom('', 'rc.1', 'rc.2', 'beta.2', 'alpha', '0', 'rc.1.5', 'x-y'),
  )
  .map(([major, minor, patch, pre]) => `${major}.${minor}.${patch}${pre === '' ? '' : `-${pre}`}`);

describe('compareVersions', () => {
  it('orders like semver.compare', () => {
    fc.assert(
      fc.property(versionArbitrary, versionArbitrary, (a, b) => {
        const left = parseStrictSemver(a);
        const right = parseStrictSemver(b);
        expect(left && right && compareVersions(left, right)).toBe(compare(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('formats partial versions and prereleases canonically', () => {
    const formatted = ['3.12', 'v1.3.0-RC2', '2026.11.01', 'release-1.0.0-beta-1-slim'].map((tag) => {
      const parsed = parseVersionTag(tag);
      return parsed && formatVersion(parsed);
    });
    expect(formatted).toEqual(['3.12.0', '1.3.0-rc.2', '2026.11.1', '1.0.0-beta.1']);
  });
});

describe('compileRange', () => {
  const ranges = [
    '*',
    '^1',
    '^1.2',
    '~1.2',
    '1.x',
    '>=2 <3',
    '>=v1.2.0',
    '^0.2.3',
    '=1.2.3',
    '1.2.3 - 2.3.1',
    '<=1.2 || >=3',
    '>1.2.3-beta.1',
    '^1.2.3-rc.1',
    '>=1.0.0-rc.1 <1.0.1',
  ];

  it('decides like semver.satisfies, with and without prereleases', () => {
    fc.assert(
      fc.property(
        versionArbitrary,
        fc.constantFrom(...ranges),
        fc.boolean(),
        (version, range, includePrerelease) => {
          const parsed = parseStrictSemver(version);
          expect(parsed && compileRange(range, includePrerelease)(parsed)).toBe(
            satisfies(version, range, { includePrerelease }),
          );
        },
      ),
      { numRuns: 3000 },
    );
  });

  it.each(['^^1', 'latest', '1.2.3.4', '>=a'])('throws on %j', (range) => {
    expect(() => compileRange(range, false)).toThrow();
  });
});
