import { describe, expect, it } from 'vitest';
import { isArtefactTag, isGitShaTag, isIgnoredTag, isValidTagName } from './ignored-tags.ts';

const sha40 = '3f2a9c1e5b7d4a6f8e0c2b4d6f8a0c2e4b6d8f0a';
const sha256 = 'a'.repeat(64);

describe('isIgnoredTag', () => {
  it.each([
    [`sha256-${sha256}`, true, 'the referrers fallback tag'],
    [`sha256-${sha256}.sig`, true, 'a cosign signature'],
    [`sha256-${sha256}.att`, true, 'a cosign attestation'],
    [`sha256-${sha256}.sbom`, true, 'an SBOM'],
    ['v1.2.3.sig', true, 'any .sig tag'],
    [sha40, true, 'a full git SHA'],
    [sha40.toUpperCase(), true, 'an upper-case git SHA'],
    ['3f2a9c1', false, 'a short SHA: indistinguishable from a build number'],
    ['20261101', false, 'a date, which is also valid hex'],
    [`${sha40}0`, false, '41 hex characters'],
    ['sha-3f2a9c1', false, "docker/metadata-action's sha- tags"],
    ['sha256', false, 'a word'],
    ['', true, 'an empty string'],
    ['ünicode', true, 'a non-ASCII name'],
    ['.hidden', true, 'a leading dot'],
    ['a'.repeat(129), true, '129 characters'],
    ['a'.repeat(128), false, '128 characters'],
    ['v1.2.3', false, 'a release'],
    ['latest', false, 'latest'],
  ])('%s → %s (%s)', (tag, expected) => {
    expect(isIgnoredTag(tag, { allowGitShas: false })).toBe(expected);
  });

  it('lets git SHAs through when asked, never signatures', () => {
    expect(isIgnoredTag(sha40, { allowGitShas: true })).toBe(false);
    expect(isIgnoredTag(`sha256-${sha256}.sig`, { allowGitShas: true })).toBe(true);
  });

  it('exposes the single rules', () => {
    expect(isGitShaTag(sha40)).toBe(true);
    expect(isGitShaTag('g'.repeat(40))).toBe(false);
    expect(isArtefactTag('x.att')).toBe(true);
    expect(isValidTagName('_private')).toBe(true);
    expect(isValidTagName('-dash')).toBe(false);
  });
});
