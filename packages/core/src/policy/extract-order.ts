import { compareCodeUnits, compareNumericSegments, containsDigit } from './natural-order.ts';

/** How extracted keys are ordered. */
export type ExtractSort = 'numeric' | 'alphabetic';

/**
 * Whether a (valid) regular expression declares a named group `key`. JavaScript cannot list a
 * regex's groups, but a match of the empty alternative reports every named group as `undefined`.
 */
export function hasKeyGroup(source: string): boolean {
  const groups = new RegExp(`(?:${source})|`).exec('')?.groups;
  return groups !== undefined && Object.hasOwn(groups, 'key');
}

export interface KeyExtractor {
  /** The tag's sort key, or `undefined` when the tag does not match or (numeric) the key has no digits. */
  extract(tag: string): string | undefined;
  compare(a: string, b: string): number;
}

/**
 * Extract-and-sort for schemes semver cannot read: build numbers (`build-1234`), dates with a
 * counter (`main-20261101-1234` with `(?<key>\d{8}-\d+)`), calendar versions. `numeric` compares the
 * key's digit runs one segment after the other as whole numbers; `alphabetic` compares UTF-16 code
 * units (fixed-width keys such as ISO timestamps).
 */
export function compileExtract(source: string, sort: ExtractSort): KeyExtractor {
  const pattern = new RegExp(source);
  const numeric = sort === 'numeric';
  return {
    extract(tag) {
      const key = pattern.exec(tag)?.groups?.key;
      if (key === undefined || (numeric && !containsDigit(key))) return undefined;
      return key;
    },
    compare: numeric ? compareNumericSegments : compareCodeUnits,
  };
}
