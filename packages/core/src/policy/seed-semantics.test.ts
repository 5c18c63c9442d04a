import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromRegistryWatcherPin, fromTagPattern } from './seed-semantics.ts';
import { compileTagPolicy } from './tag-policy.ts';

/** registrywatcher's GetLatestReleaseTag, as the seed wrote it (utils/helpers.go). */
function seedLatestRelease(tags: readonly string[]): string | undefined {
  const release = /^v([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$/;
  let best: { tag: string; value: number } | undefined;
  for (const tag of tags) {
    const match = release.exec(tag);
    if (match === null) continue;
    const value = Number(match[1]) * 1_000_000 + Number(match[2]) * 1000 + Number(match[3]);
    if (best === undefined || value >= best.value) best = { tag, value };
  }
  return best?.tag;
}

describe("registrywatcher's pinned_tag", () => {
  it('"" follows the newest strict vX.Y.Z release', () => {
    const options = fromRegistryWatcherPin('');
    expect(options).toEqual({ semver: '*', include: String.raw`^v\d+\.\d+\.\d+$` });
    const policy = compileTagPolicy(options);
    expect(policy.kind).toBe('semver');
    const tags = [
      'v1.2.3',
      'v1.10.0',
      'v2.0.0-rc.1',
      'V3.0.0',
      '3.0.0',
      'v3.0',
      'v4.0.0-alpine',
      'release-v5.0.0',
      'v1.2.3.4',
      'latest',
      '3f2a9c1e5b7d4a6f8e0c2b4d6f8a0c2e4b6d8f0a',
    ];
    expect(policy.select({ tags })).toEqual({ tag: 'v1.10.0', version: '1.10.0' });
    expect(policy.allows('v2.0.0-rc.1')).toBe(false);
  });

  it('"" picks what the seed picked', () => {
    const release = fc
      .tuple(fc.nat({ max: 999 }), fc.nat({ max: 999 }), fc.nat({ max: 999 }))
      .map(([major, minor, patch]) => `v${major}.${minor}.${patch}`);
    const other = fc.constantFrom('latest', 'v1.2', 'V1.2.3', '1.2.3', 'v1.2.3-rc.1', 'main-20261101-1');
    const policy = compileTagPolicy(fromRegistryWatcherPin(''));
    fc.assert(
      fc.property(fc.uniqueArray(fc.oneof(release, other), { maxLength: 40 }), (tags) => {
        expect(policy.select({ tags })?.tag).toBe(seedLatestRelease(tags));
      }),
    );
  });

  it('any other value pins that tag', () => {
    const policy = compileTagPolicy(fromRegistryWatcherPin('v1.2.3-hotfix'));
    expect(policy.kind).toBe('pin');
    expect(policy.select({ tags: ['v1.2.3-hotfix', 'v9.9.9'] })).toEqual({ tag: 'v1.2.3-hotfix' });
  });
});

describe("the plan's tag_pattern", () => {
  it('builds a glob policy', () => {
    expect(fromTagPattern('dev-*')).toEqual({ pattern: 'dev-*' });
    expect(fromTagPattern('dev-*', { order: 'pushed' })).toEqual({ pattern: 'dev-*', order: 'pushed' });
    const policy = compileTagPolicy(fromTagPattern('dev-*'));
    expect(policy.kind).toBe('pattern');
    expect(policy.select({ tags: ['dev-7', 'dev-12', 'v1.0.0'] })).toEqual({ tag: 'dev-12' });
  });

  it('v* follows releases by semver', () => {
    const policy = compileTagPolicy(fromTagPattern('v*'));
    expect(policy.select({ tags: ['v1.9.0', 'v1.10.0', 'dev-99'] })).toEqual({
      tag: 'v1.10.0',
      version: '1.10.0',
    });
  });

  it('an empty tag_pattern is a config error naming the field', () => {
    expect(() => compileTagPolicy(fromTagPattern(''), { path: 'projects.web.stages.dev' })).toThrow(
      /projects\.web\.stages\.dev\.pattern: Expected a non-empty glob/,
    );
  });
});
