import { describe, expect, it } from 'vitest';
import type { TagPolicyOptions } from './options.ts';
import { compileTagPolicy, type TagCandidate } from './tag-policy.ts';

const sha40 = '3f2a9c1e5b7d4a6f8e0c2b4d6f8a0c2e4b6d8f0a';
const signature = `sha256-${'ab'.repeat(32)}.sig`;

/** Docker Official Images' `python` tags, trimmed. */
const python = [
  'latest',
  'slim',
  'alpine',
  '3',
  '3-slim',
  '3.12',
  '3.12.1',
  '3.12.7',
  '3.12-slim',
  '3.12.1-slim-bookworm',
  '3.12.7-slim-bookworm',
  '3.13',
  '3.13.1',
  '3.13-slim',
  '3.13.1-slim-bookworm',
  '3.13-alpine3.20',
  '3.13-alpine3.21',
  '3.13.1-alpine3.21',
  '3.14.0rc1',
  '3.14-rc',
  '3.14-rc-slim',
  `sha256-${'cd'.repeat(32)}.att`,
];

interface Case {
  name: string;
  options: TagPolicyOptions;
  tags: readonly string[];
  current?: string;
  expected: TagCandidate | undefined;
}

function run(cases: Case[]) {
  it.each(cases.map((item) => [item.name, item] as const))(
    '%s',
    (_name, { options, tags, current, expected }) => {
      const policy = compileTagPolicy(options);
      const candidate = policy.select({ tags, current });
      expect(candidate).toEqual(expected);
      if (candidate !== undefined) {
        expect(tags).toContain(candidate.tag);
        expect(policy.allows(candidate.tag)).toBe(true);
      }
    },
  );
}

describe('semver policies: shapes (Docker Official Images)', () => {
  run([
    {
      name: 'without a current release, the plain full version wins',
      options: { semver: '*' },
      tags: python,
      expected: { tag: '3.13.1', version: '3.13.1' },
    },
    {
      name: '3.12-slim moves to 3.13-slim',
      options: { semver: '*' },
      tags: python,
      current: '3.12-slim',
      expected: { tag: '3.13-slim', version: '3.13.0' },
    },
    {
      name: '3.12 moves to 3.13, not to 3.13.1',
      options: { semver: '*' },
      tags: python,
      current: '3.12',
      expected: { tag: '3.13', version: '3.13.0' },
    },
    {
      name: '3.12.1-slim-bookworm moves to 3.13.1-slim-bookworm',
      options: { semver: '*' },
      tags: python,
      current: '3.12.1-slim-bookworm',
      expected: { tag: '3.13.1-slim-bookworm', version: '3.13.1' },
    },
    {
      name: 'a variant naming its base image version keeps it',
      options: { semver: '*' },
      tags: python,
      current: '3.13-alpine3.20',
      expected: { tag: '3.13-alpine3.20', version: '3.13.0' },
    },
    {
      name: 'one-number tags stay one-number tags',
      options: { semver: '*' },
      tags: python,
      current: '3-slim',
      expected: { tag: '3-slim', version: '3.0.0' },
    },
    {
      name: '3.17-alpine never jumps to 3.18-slim or 3.18',
      options: { semver: '*' },
      tags: ['3.17-alpine', '3.18-slim', '3.18', '3.18.0-alpine'],
      current: '3.17-alpine',
      expected: { tag: '3.17-alpine', version: '3.17.0' },
    },
    {
      name: 'the range still applies to the shape',
      options: { semver: '~3.12' },
      tags: python,
      current: '3.12-slim',
      expected: { tag: '3.12-slim', version: '3.12.0' },
    },
    {
      name: 'sameShape: false takes the newest version of any shape, ties to the shorter name',
      options: { semver: '*', sameShape: false },
      tags: python,
      current: '3.12-slim',
      expected: { tag: '3.13.1', version: '3.13.1' },
    },
    {
      name: 'without plain full versions, plain partial versions are preferred',
      options: { semver: '*' },
      tags: ['3.12', '3.13', '3.13-slim', '3.14-alpine'],
      expected: { tag: '3.13', version: '3.13.0' },
    },
    {
      name: 'with only variants, the newest of any variant',
      options: { semver: '*' },
      tags: ['3.12-slim', '3.13-alpine', '3.13-slim'],
      expected: { tag: '3.13-alpine', version: '3.13.0' },
    },
    {
      name: 'a current release outside the name filters lends no shape',
      options: { semver: '*', exclude: '-slim' },
      tags: python,
      current: '3.12-slim',
      expected: { tag: '3.13.1', version: '3.13.1' },
    },
    {
      name: 'prefixed versions keep their prefix',
      options: { semver: '^1' },
      tags: ['1.4.0', 'release-1.2.0', 'release-1.3.0', 'release-2.0.0', 'worker-1.9.0'],
      current: 'release-1.2.0',
      expected: { tag: 'release-1.3.0', version: '1.3.0' },
    },
  ]);
});

describe('semver policies: prereleases and channels', () => {
  const tags = ['1.2.0', '1.3.0-beta.5', '1.3.0-rc.1', '1.3.0-rc.2', '1.4.0-beta.1', '1.2.1-RC1'];
  run([
    {
      name: 'releases only by default',
      options: { semver: '^1' },
      tags,
      expected: { tag: '1.2.0', version: '1.2.0' },
    },
    {
      name: 'a current prerelease is not replaced by another channel',
      options: { semver: '^1', prerelease: true },
      tags,
      current: '1.3.0-rc.2',
      expected: { tag: '1.3.0-rc.2', version: '1.3.0-rc.2' },
    },
    {
      name: 'a current prerelease moves to the release',
      options: { semver: '^1', prerelease: true },
      tags: [...tags, '1.3.0'],
      current: '1.3.0-rc.2',
      expected: { tag: '1.3.0', version: '1.3.0' },
    },
    {
      name: 'from a release, prerelease: true follows any channel',
      options: { semver: '^1', prerelease: true },
      tags,
      current: '1.2.0',
      expected: { tag: '1.4.0-beta.1', version: '1.4.0-beta.1' },
    },
    {
      name: 'a named channel only',
      options: { semver: '^1', prerelease: 'rc' },
      tags,
      expected: { tag: '1.3.0-rc.2', version: '1.3.0-rc.2' },
    },
    {
      name: 'channel names are case-insensitive; numbers compare as numbers',
      options: { semver: '~1.2', prerelease: 'rc' },
      tags: ['1.2.1-RC1', '1.2.1-rc10', '1.2.1-rc9'],
      expected: { tag: '1.2.1-rc10', version: '1.2.1-rc.10' },
    },
    {
      name: 'an explicit channel overrides the current one',
      options: { semver: '^1', prerelease: 'beta' },
      tags,
      current: '1.3.0-rc.2',
      expected: { tag: '1.4.0-beta.1', version: '1.4.0-beta.1' },
    },
  ]);
});

describe('semver policies: spellings, calendars, filters and the floor', () => {
  run([
    {
      name: 'v prefixes are accepted',
      options: { semver: '^1' },
      tags: ['v1.2.3', 'v1.10.0', 'v2.0.0', 'v1.9.9'],
      expected: { tag: 'v1.10.0', version: '1.10.0' },
    },
    {
      name: 'Gitea lowercases tags: v1.2.3 and V1.2.3 are one version, ties go to the smaller name',
      options: { semver: '^1' },
      tags: ['v1.2.3', 'V1.2.3'],
      expected: { tag: 'V1.2.3', version: '1.2.3' },
    },
    {
      name: 'an alias never replaces the current tag',
      options: { semver: '^1' },
      tags: ['V1.2.3', 'v1.2.3', '1.2.3'],
      current: 'v1.2.3',
      expected: { tag: 'v1.2.3', version: '1.2.3' },
    },
    {
      name: 'a current V1.2.3 pushed to Gitea is listed as v1.2.3',
      options: { semver: '^1' },
      tags: ['v1.2.3', 'v1.1.0'],
      current: 'V1.2.3',
      expected: { tag: 'v1.2.3', version: '1.2.3' },
    },
    {
      name: 'calendar versions with leading zeros',
      options: { semver: '*' },
      tags: ['2026.09.30', '2026.11.01', '2026.10.15', '2025.12.31'],
      expected: { tag: '2026.11.01', version: '2026.11.1' },
    },
    {
      name: "Ubuntu's YY.MM tags",
      options: { semver: '*' },
      tags: ['22.04', '24.04', '24.10', 'noble', 'noble-20240827', 'latest', 'rolling'],
      expected: { tag: '24.10', version: '24.10.0' },
    },
    {
      name: 'Ubuntu, following the dated codename',
      options: { semver: '*' },
      tags: ['24.04', 'noble-20240827', 'noble-20241011', 'jammy-20241111'],
      current: 'noble-20240827',
      expected: { tag: 'noble-20241011', version: '20241011.0.0' },
    },
    {
      name: 'include and exclude filter before ordering',
      options: { semver: '*', include: '^v', exclude: ['-debug$'] },
      tags: ['v1.0.0', '9.9.9', 'v1.1.0-debug', 'v1.0.1'],
      expected: { tag: 'v1.0.1', version: '1.0.1' },
    },
    {
      name: 'a glob narrows a semver policy',
      options: { semver: '>=2 <3', pattern: 'v*' },
      tags: ['v2.1.0', 'v2.3.0', '2.9.0', 'v3.0.0'],
      expected: { tag: 'v2.3.0', version: '2.3.0' },
    },
    {
      name: 'the current release is returned when it is the newest',
      options: { semver: '^1' },
      tags: ['v1.0.0', 'v1.2.0', 'v1.1.0'],
      current: 'v1.2.0',
      expected: { tag: 'v1.2.0', version: '1.2.0' },
    },
    {
      name: 'nothing older than an allowed current release, even when it is gone from the registry',
      options: { semver: '^1' },
      tags: ['v1.0.0', 'v1.1.0'],
      current: 'v1.2.0',
      expected: undefined,
    },
    {
      name: 'a current release the range no longer allows is no floor',
      options: { semver: '^1' },
      tags: ['v1.0.0', 'v1.1.0', 'v2.0.0'],
      current: 'v2.0.0',
      expected: { tag: 'v1.1.0', version: '1.1.0' },
    },
    {
      name: 'signatures and digests are never versions',
      options: { semver: '*' },
      tags: ['sha256-1234', 'sha256-1234.sig', '1.0.0.sig', '1.0.0'],
      expected: { tag: '1.0.0', version: '1.0.0' },
    },
    {
      name: 'no version tags at all',
      options: { semver: '*' },
      tags: ['latest', 'main', sha40],
      expected: undefined,
    },
  ]);
});

describe('extract policies', () => {
  run([
    {
      name: 'build numbers compare as numbers',
      options: { extract: String.raw`^build-(?<key>\d+)$` },
      tags: ['build-99', 'build-1234', 'build-100', 'build-x', 'build-', 'latest'],
      expected: { tag: 'build-1234', key: '1234' },
    },
    {
      name: 'date and counter compare segment by segment',
      options: { extract: String.raw`^main-(?<key>\d{8}-\d+)$` },
      tags: ['main-20261101-999', 'main-20261101-1234', 'main-20261031-5000', 'main-x'],
      expected: { tag: 'main-20261101-1234', key: '20261101-1234' },
    },
    {
      name: 'calendar versions',
      options: { extract: String.raw`^(?<key>\d{4}\.\d{1,2}\.\d{1,2})$` },
      tags: ['2026.9.30', '2026.11.01', '2026.10.15'],
      expected: { tag: '2026.11.01', key: '2026.11.01' },
    },
    {
      name: 'alphabetic keys compare by character',
      options: { extract: '^nightly-(?<key>.+)$', sort: 'alphabetic' },
      tags: ['nightly-2026-10-31T2300Z', 'nightly-2026-11-01T0100Z', 'nightly-2026-11-01T0059Z'],
      expected: { tag: 'nightly-2026-11-01T0100Z', key: '2026-11-01T0100Z' },
    },
    {
      name: 'alphabetic order is not numeric order',
      options: { extract: String.raw`^b-(?<key>\d+)$`, sort: 'alphabetic' },
      tags: ['b-9', 'b-10'],
      expected: { tag: 'b-9', key: '9' },
    },
    {
      name: 'equal keys: the current tag wins',
      options: { extract: String.raw`(?<key>\d+)$` },
      tags: ['a-7', 'b-07', 'c-7'],
      current: 'c-7',
      expected: { tag: 'c-7', key: '7' },
    },
    {
      name: 'nothing older than the current build',
      options: { extract: String.raw`^build-(?<key>\d+)$` },
      tags: ['build-99', 'build-1234'],
      current: 'build-2000',
      expected: undefined,
    },
    {
      name: 'the current build when it is the newest',
      options: { extract: String.raw`^build-(?<key>\d+)$` },
      tags: ['build-99', 'build-2000', 'build-1234'],
      current: 'build-2000',
      expected: { tag: 'build-2000', key: '2000' },
    },
    {
      name: 'git SHAs are ignored even when the key would match',
      options: { extract: '^(?<key>[0-9a-f]+)$', sort: 'alphabetic' },
      tags: [sha40, '3f2a9c1'],
      expected: { tag: '3f2a9c1', key: '3f2a9c1' },
    },
    {
      name: 'globs and excludes apply first',
      options: { extract: String.raw`-(?<key>\d+)$`, pattern: 'build-*', exclude: '-9999$' },
      tags: ['build-5', 'build-9999', 'nightly-10000', 'build-42'],
      expected: { tag: 'build-42', key: '42' },
    },
  ]);
});

describe('pattern policies', () => {
  run([
    {
      name: "the plan's dev-* with build numbers: numeric-aware",
      options: { pattern: 'dev-*' },
      tags: ['dev-41', 'dev-100', 'dev-42', 'main-500', 'v1.0.0'],
      expected: { tag: 'dev-100' },
    },
    {
      name: 'dev-* whose remainder reads as semver: semver order',
      options: { pattern: 'dev-*' },
      tags: ['dev-1.2.3', 'dev-1.10.0-rc.1', 'dev-1.10.0', 'dev-1.9.0'],
      expected: { tag: 'dev-1.10.0', version: '1.10.0' },
    },
    {
      name: "the plan's v*: semver tags rank above other names",
      options: { pattern: 'v*' },
      tags: ['v1.2.3', 'v1.10.0', 'v1.10.0-rc.1', 'vnext', 'V9.0.0'],
      expected: { tag: 'v1.10.0', version: '1.10.0' },
    },
    {
      name: 'v1.* reads the whole tag when the remainder is no version',
      options: { pattern: 'v1.*' },
      tags: ['v1.2.0', 'v1.10.0-rc.1', 'v1.9.0', 'v2.0.0'],
      expected: { tag: 'v1.10.0-rc.1', version: '1.10.0-rc.1' },
    },
    {
      name: 'several globs',
      options: { pattern: ['dev-*', 'feature-*'] },
      tags: ['dev-3', 'feature-12', 'main-99'],
      expected: { tag: 'feature-12' },
    },
    {
      name: 'an include regex alone',
      options: { include: String.raw`^\d+$` },
      tags: ['12', '9', '100', 'latest'],
      expected: { tag: '100' },
    },
    {
      name: 'git SHA tags are ignored',
      options: { include: '^[0-9a-f]+$' },
      tags: [sha40, 'abc1234'],
      expected: { tag: 'abc1234' },
    },
    {
      name: 'git SHA tags when allowed',
      options: { include: '^[0-9a-f]{40}$', allowGitShas: true },
      tags: [sha40, 'abc1234'],
      expected: { tag: sha40 },
    },
    {
      name: 'signatures never match, whatever the glob',
      options: { pattern: '*' },
      tags: ['v1.0.0', 'v1.0.0.sig', signature, 'v1.0.0.att', 'v1.0.0.sbom'],
      expected: { tag: 'v1.0.0', version: '1.0.0' },
    },
    {
      name: 'nothing older than the current tag',
      options: { pattern: 'dev-*' },
      tags: ['dev-41', 'dev-42'],
      current: 'dev-50',
      expected: undefined,
    },
    {
      name: 'order: pushed takes the last matching tag',
      options: { pattern: 'dev-*', order: 'pushed' },
      tags: ['dev-c3d4e5f', 'dev-ffffff0', 'dev-a1b2c3d', 'main-1', signature],
      expected: { tag: 'dev-a1b2c3d' },
    },
    {
      name: 'order: pushed ignores the current tag',
      options: { pattern: 'dev-*', order: 'pushed' },
      tags: ['dev-b', 'dev-a'],
      current: 'dev-b',
      expected: { tag: 'dev-a' },
    },
  ]);
});

describe('pin policies', () => {
  run([
    {
      name: 'the pinned tag when listed',
      options: { pin: 'v1.2.3' },
      tags: ['v1.2.3', 'v9.0.0'],
      expected: { tag: 'v1.2.3' },
    },
    {
      name: 'nothing when it is not listed',
      options: { pin: 'v1.2.3' },
      tags: ['v9.0.0'],
      expected: undefined,
    },
    {
      name: 'pins are exact (Gitea lists lower case)',
      options: { pin: 'V1.2.3' },
      tags: ['v1.2.3'],
      expected: undefined,
    },
    {
      name: 'a pin may be a git SHA',
      options: { pin: sha40 },
      tags: [sha40],
      current: 'v1',
      expected: { tag: sha40 },
    },
    {
      name: 'a pin ignores the current tag',
      options: { pin: 'v1.0.0' },
      tags: ['v1.0.0', 'v2.0.0'],
      current: 'v2.0.0',
      expected: { tag: 'v1.0.0' },
    },
  ]);

  it('allows only the pinned tag', () => {
    const policy = compileTagPolicy({ pin: 'stable' });
    expect(policy.kind).toBe('pin');
    expect(policy.allows('stable')).toBe(true);
    expect(policy.allows('stable2')).toBe(false);
  });
});

describe('allows', () => {
  it.each<[TagPolicyOptions, string, boolean]>([
    [{ semver: '^1' }, 'v1.2.3', true],
    [{ semver: '^1' }, 'v2.0.0', false],
    [{ semver: '^1' }, 'v1.3.0-rc.1', false],
    [{ semver: '^1', prerelease: true }, 'v1.3.0-rc.1', true],
    [{ semver: '^1', prerelease: 'rc' }, 'v1.3.0-beta.1', false],
    [{ semver: '*' }, 'latest', false],
    [{ semver: '*' }, '3.12-slim', true],
    [{ semver: '*', include: '^v' }, '1.0.0', false],
    [{ pattern: 'dev-*' }, 'dev-1', true],
    [{ pattern: 'dev-*' }, `dev-${'x'.repeat(130)}`, false],
    [{ pattern: '*' }, sha40, false],
    [{ pattern: '*', allowGitShas: true }, sha40, true],
    [{ pattern: '*' }, signature, false],
    [{ pattern: '*' }, 'ünicode', false],
    [{ pattern: '*' }, '', false],
    [{ extract: String.raw`^b-(?<key>\d+)$` }, 'b-1', true],
    [{ extract: String.raw`^b-(?<key>\d*)$` }, 'b-', false],
  ])('%j allows %s: %s', (options, tag, expected) => {
    expect(compileTagPolicy(options).allows(tag)).toBe(expected);
  });
});

describe('garbage never crashes', () => {
  const policies: TagPolicyOptions[] = [
    { semver: '*' },
    { semver: '^1', include: String.raw`^v\d`, prerelease: true },
    { extract: String.raw`(?<key>\d+)` },
    { extract: '(?<key>.+)', sort: 'alphabetic' },
    { pattern: '*' },
    { pattern: '*', order: 'pushed' },
    { pin: 'v1.0.0' },
  ];

  function randomTags(count: number): string[] {
    let seed = 42;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const alphabet = [
      'v',
      '1',
      '2',
      '.',
      '-',
      '_',
      'rc',
      'a',
      'é',
      '🐳',
      ' ',
      '\u0000',
      '+',
      'slim',
      'sha256-',
      '0',
    ];
    return Array.from({ length: count }, () =>
      Array.from(
        { length: Math.floor(next() * 20) },
        () => alphabet[Math.floor(next() * alphabet.length)],
      ).join(''),
    );
  }

  const garbage = randomTags(100_000);

  it.each(policies.map((options) => [JSON.stringify(options), options] as const))('%s', (_name, options) => {
    const policy = compileTagPolicy(options);
    for (const current of [undefined, '', 'v1.0.0', '🐳', garbage[7]]) {
      const candidate = policy.select({ tags: garbage, current });
      if (candidate !== undefined) {
        expect(garbage).toContain(candidate.tag);
        expect(policy.allows(candidate.tag)).toBe(true);
      }
    }
    expect(policy.select({ tags: [] })).toBeUndefined();
    expect(policy.select({ tags: ['', '', ''] })).toBeUndefined();
    const loose = ['v1.0.0', null, 5, undefined, 'v1.1.0'] as unknown as string[];
    expect(() => policy.select({ tags: loose, current: 7 as unknown as string })).not.toThrow();
    expect(policy.allows(null as unknown as string)).toBe(false);
  });

  it('duplicates do not change the answer', () => {
    const policy = compileTagPolicy({ semver: '*' });
    const tags = ['1.0.0', '1.2.0', '1.1.0'];
    expect(policy.select({ tags: [...tags, ...tags, '1.2.0'] })).toEqual(policy.select({ tags }));
  });
});
