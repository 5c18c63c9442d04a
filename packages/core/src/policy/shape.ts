import type { VersionTag } from './semver-order.ts';

/**
 * A version tag's shape: its word prefix, how many numbers it spells and its variant suffix.
 * `3.17-alpine` (2 numbers, `-alpine`) and `3.18-slim` differ in shape, so does `3.12` and
 * `3.12.1`; `v1.2.3`, `V1.2.3` and `1.2.3` share one (the `v` is spelling, not shape).
 *
 * Variants are compared exactly: `-alpine3.20` and `-alpine3.21` are different shapes, because a
 * variant that names its base image's version is a deliberate pin of that base image. Case counts
 * too (`-Alpine` is not `-alpine`).
 */
export function isSameShape(a: VersionTag, b: VersionTag): boolean {
  return a.components === b.components && a.variant === b.variant && a.prefix === b.prefix;
}

/**
 * Preference among shapes when there is no current release to copy the shape from: the plain full
 * version (`1.2.3`, `v1.2.3`: no prefix, no variant, three numbers) is 2, other plain versions
 * (`3.12`, `24.04`, `22`) are 1, anything with a prefix or variant is 0. A policy picks from the
 * highest level that has a candidate, so a repository of `python` tags starts on `3.13.1`, not on
 * `3.13-slim` or `3.13`; once that runs, its shape is kept.
 */
export function shapePreference(tag: VersionTag): 0 | 1 | 2 {
  if (tag.prefix !== '' || tag.variant !== '') return 0;
  return tag.components === 3 ? 2 : 1;
}
