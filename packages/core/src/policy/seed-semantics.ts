import type { TagPolicyOptions } from './options.ts';

/**
 * The release tags registrywatcher followed: a lower-case `v` and exactly three numbers, nothing
 * before or after. registrywatcher also capped each number at three digits (an artefact of how it
 * turned tags into integers); this does not.
 */
const registryWatcherRelease = String.raw`^v\d+\.\d+\.\d+$`;

/**
 * registrywatcher's `pinned_tag`: `""` follows the newest `vX.Y.Z` release (strict `v`, three
 * numbers, no prereleases, git SHA tags ignored), any other value pins that tag and the caller
 * redeploys when its digest changes.
 */
export function fromRegistryWatcherPin(pinnedTag: string): TagPolicyOptions {
  return pinnedTag === '' ? { semver: '*', include: registryWatcherRelease } : { pin: pinnedTag };
}

/**
 * The plan's stage `tag_pattern` (`dev-*`, `v*`): every matching tag qualifies; the newest by name
 * wins (semver after the glob's literal prefix when the tags read as semver, numeric-aware order
 * otherwise). Pass `{ order: 'pushed' }` when the caller hands tags over in push order.
 */
export function fromTagPattern(
  tagPattern: string,
  extra: Pick<TagPolicyOptions, 'order'> = {},
): TagPolicyOptions {
  return { pattern: tagPattern, ...extra };
}
