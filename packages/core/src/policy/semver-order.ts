import { Range } from 'semver';

/** What ordering and range tests need of a version; `semver`'s own `SemVer` fits it too. */
export interface SemverParts {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Prerelease identifiers, numbers for numeric ones; empty for a release. */
  readonly prerelease: readonly (string | number)[];
}

/** A tag read as a version, with the parts that make up its shape. */
export interface VersionTag extends SemverParts {
  readonly tag: string;
  /** Words before the number with their separator (`release-`, `app_`); `''` for none. The `v` is not part of it. */
  readonly prefix: string;
  /** How many numbers the tag spells: 1 for `3`, 2 for `3.12`, 3 for `3.12.1`. */
  readonly components: 1 | 2 | 3;
  /** The prerelease's leading word, lower-cased (`rc` for `-RC2`); `''` for numeric prereleases and releases. */
  readonly channel: string;
  /** The variant after the version (`-slim-bookworm`, `-alpine3.20`); `''` for none. */
  readonly variant: string;
}

/** Words that start a prerelease suffix; `preview` before `pre` so the longer word wins. */
export const prereleaseChannels = [
  'alpha',
  'beta',
  'rc',
  'preview',
  'pre',
  'dev',
  'next',
  'canary',
  'nightly',
  'snapshot',
] as const;

export type PrereleaseChannel = (typeof prereleaseChannels)[number];

const noPrerelease: readonly (string | number)[] = Object.freeze([]);

/**
 * Version tags as registries spell them, parsed strictly (no `semver.coerce`):
 *
 *   [word prefixes ending in - or _] [v|V] N[.N[.N]] [-prerelease] [-variant]
 *
 * Numbers have 1–15 digits, leading zeros allowed (calendar versions such as `24.04`). A suffix is
 * a prerelease only when it starts with a known prerelease word or a number (`-rc.2`, `-beta5`,
 * `-1`); any other word starts a variant (`-slim`, `-alpine3.20`), which is how Docker Official
 * Images name them. Python-style `3.14.0rc1` (no hyphen) is not a version here: unknown spellings
 * are left out rather than guessed at. The same grammar as one regular expression is kept in
 * `semver-order.test.ts` as the reference this scanner is checked against.
 *
 * Suffix groups: 1 prerelease word, 2 its number, 3 further identifiers, 4 numeric prerelease,
 * 5 variant.
 */
const suffixPattern = new RegExp(
  String.raw`^(?:-(?:(${prereleaseChannels.join('|')})(?:[.-]?(\d{1,15}))?((?:\.[0-9a-z]{1,40})*)|(\d{1,15}(?:\.\d{1,15})*)))?` +
    '(-[a-z][0-9a-z._-]*)?$',
  'i',
);

const maxDigits = 15;

function isDigitCode(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isLetterCode(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

function isVCode(code: number): boolean {
  return code === 118 || code === 86;
}

function isSeparatorCode(code: number): boolean {
  return code === 45 || code === 95;
}

/** Parses the version that starts at `start` (after the word prefix). */
function parseVersionAt(tag: string, start: number): VersionTag | undefined {
  const length = tag.length;
  let position = start;
  if (isVCode(tag.charCodeAt(position))) position++;
  const numbers = [0, 0, 0];
  let components = 0;
  while (components < 3) {
    const runStart = position;
    let value = 0;
    while (position < length && isDigitCode(tag.charCodeAt(position))) {
      value = value * 10 + tag.charCodeAt(position) - 48;
      position++;
    }
    if (position === runStart || position - runStart > maxDigits) return undefined;
    numbers[components] = value;
    components++;
    if (components === 3 || tag.charCodeAt(position) !== 46 || !isDigitCode(tag.charCodeAt(position + 1)))
      break;
    position++;
  }
  let prerelease = noPrerelease;
  let channel = '';
  let variant = '';
  if (position < length) {
    if (tag.charCodeAt(position) !== 45) return undefined;
    const suffix = suffixPattern.exec(tag.slice(position));
    if (suffix === null) return undefined;
    const word = suffix[1];
    if (word !== undefined) {
      const number = suffix[2];
      const text = `${word}${number === undefined ? '' : `.${number}`}${suffix[3] ?? ''}`;
      const identifiers = toIdentifiers(text, 0, false);
      if (identifiers === undefined) return undefined;
      prerelease = identifiers;
      channel = word.toLowerCase();
    } else if (suffix[4] !== undefined) {
      const identifiers = toIdentifiers(suffix[4], 0, false);
      if (identifiers === undefined) return undefined;
      prerelease = identifiers;
    }
    variant = suffix[5] ?? '';
  }
  return {
    tag,
    prefix: start === 0 ? '' : tag.slice(0, start),
    major: numbers[0] ?? 0,
    minor: numbers[1] ?? 0,
    patch: numbers[2] ?? 0,
    components: components as 1 | 2 | 3,
    prerelease,
    channel,
    variant,
  };
}

function isIdentifierCode(code: number): boolean {
  return isDigitCode(code) || isLetterCode(code) || code === 45;
}

/**
 * Reads dot-separated prerelease identifiers from `start` to the end of `text`: numeric ones as
 * numbers (at most 15 digits), others lower-cased so `RC` and `rc` are one channel. With `strict`,
 * numeric identifiers may not have leading zeros (semver 2.0); otherwise `rc.01` reads as `rc.1`.
 */
function toIdentifiers(text: string, start: number, strict: boolean): (string | number)[] | undefined {
  const identifiers: (string | number)[] = [];
  let from = start;
  for (let position = start; position <= text.length; position++) {
    if (position < text.length && text.charCodeAt(position) !== 46) continue;
    if (position === from) return undefined;
    let numeric = true;
    let value = 0;
    for (let index = from; index < position; index++) {
      const code = text.charCodeAt(index);
      if (!isIdentifierCode(code)) return undefined;
      if (isDigitCode(code)) value = value * 10 + code - 48;
      else numeric = false;
    }
    if (numeric) {
      const digits = position - from;
      if (digits > maxDigits || (strict && digits > 1 && text.charCodeAt(from) === 48)) return undefined;
      identifiers.push(value);
    } else {
      identifiers.push(text.slice(from, position).toLowerCase());
    }
    from = position + 1;
  }
  return identifiers;
}

/**
 * Reads a tag as a version in the grammar above; `undefined` if it is not one. A hand-written
 * scanner: the whole grammar as one regular expression costs ~250 ns a tag, a third of the
 * 100,000-tag budget, while plain versions (most tags) need no regex at all here.
 */
export function parseVersionTag(tag: string): VersionTag | undefined {
  // Word prefixes (`release-`, `app_`), longest first.
  let prefixEnd = 0;
  let position = 0;
  while (isLetterCode(tag.charCodeAt(position))) {
    position++;
    while (isLetterCode(tag.charCodeAt(position)) || isDigitCode(tag.charCodeAt(position))) position++;
    if (!isSeparatorCode(tag.charCodeAt(position))) break;
    position++;
    prefixEnd = position;
  }
  const parsed = parseVersionAt(tag, prefixEnd);
  if (parsed !== undefined || prefixEnd === 0) return parsed;
  // Like a regex backtracking: in `v1-alpine` the `v1-` that looked like a prefix is the version.
  for (let start = prefixEnd - 2; start >= 0; start--) {
    const atSegment = start === 0 || isSeparatorCode(tag.charCodeAt(start - 1));
    if (atSegment && isVCode(tag.charCodeAt(start)) && isDigitCode(tag.charCodeAt(start + 1))) {
      const shorter = parseVersionAt(tag, start);
      if (shorter !== undefined) return shorter;
    }
  }
  return undefined;
}

/**
 * Reads text as exactly semver 2.0 `[v|V]MAJOR.MINOR.PATCH[-PRERELEASE]` (no build metadata, which
 * tags cannot carry; numbers of at most 15 digits); `undefined` otherwise.
 */
export function parseStrictSemver(text: string): SemverParts | undefined {
  let position = isVCode(text.charCodeAt(0)) ? 1 : 0;
  const numbers = [0, 0, 0];
  for (let component = 0; component < 3; component++) {
    if (component > 0) {
      if (text.charCodeAt(position) !== 46) return undefined;
      position++;
    }
    const start = position;
    let value = 0;
    while (isDigitCode(text.charCodeAt(position))) {
      value = value * 10 + text.charCodeAt(position) - 48;
      position++;
    }
    const digits = position - start;
    if (digits === 0 || digits > maxDigits || (digits > 1 && text.charCodeAt(start) === 48)) return undefined;
    numbers[component] = value;
  }
  let prerelease = noPrerelease;
  if (position < text.length) {
    if (text.charCodeAt(position) !== 45) return undefined;
    const identifiers = toIdentifiers(text, position + 1, true);
    if (identifiers === undefined) return undefined;
    prerelease = identifiers;
  }
  return { major: numbers[0] ?? 0, minor: numbers[1] ?? 0, patch: numbers[2] ?? 0, prerelease };
}

function comparePrerelease(a: readonly (string | number)[], b: readonly (string | number)[]): number {
  if (a.length === 0) return b.length === 0 ? 0 : 1;
  if (b.length === 0) return -1;
  for (let index = 0; ; index++) {
    const left = a[index];
    const right = b[index];
    if (left === undefined) return right === undefined ? 0 : -1;
    if (right === undefined) return 1;
    if (left === right) continue;
    if (typeof left === 'number') return typeof right === 'number' && left > right ? 1 : -1;
    if (typeof right === 'number') return 1;
    return left < right ? -1 : 1;
  }
}

/** Semver precedence: numbers, then a release above its prereleases, then prerelease identifiers. */
export function compareVersions(a: SemverParts, b: SemverParts): number {
  if (a.major !== b.major) return a.major < b.major ? -1 : 1;
  if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch !== b.patch) return a.patch < b.patch ? -1 : 1;
  return comparePrerelease(a.prerelease, b.prerelease);
}

/** `3.12` reads as `3.12.0`, `v1.3.0-RC2` as `1.3.0-rc.2`. */
export function formatVersion(version: SemverParts): string {
  const main = `${version.major}.${version.minor}.${version.patch}`;
  return version.prerelease.length === 0 ? main : `${main}-${version.prerelease.join('.')}`;
}

type Operator = '' | '=' | '<' | '>' | '<=' | '>=';

interface CompiledComparator {
  operator: Operator;
  version: SemverParts;
}

function satisfiesComparator(version: SemverParts, comparator: CompiledComparator): boolean {
  const order = compareVersions(version, comparator.version);
  switch (comparator.operator) {
    case '':
    case '=':
      return order === 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
  }
}

function satisfiesSet(
  version: SemverParts,
  set: readonly CompiledComparator[],
  includePrerelease: boolean,
): boolean {
  for (const comparator of set) {
    if (!satisfiesComparator(version, comparator)) return false;
  }
  if (version.prerelease.length === 0 || includePrerelease) return true;
  // semver's rule: a prerelease only matches a comparator set that names a prerelease of the same
  // major.minor.patch, so `^1.2.3-rc.1` admits `1.2.3-rc.2` but not `1.3.0-rc.1`.
  for (const comparator of set) {
    const bound = comparator.version;
    if (
      bound.prerelease.length > 0 &&
      bound.major === version.major &&
      bound.minor === version.minor &&
      bound.patch === version.patch
    ) {
      return true;
    }
  }
  return false;
}

export type RangeTest = (version: SemverParts) => boolean;

/**
 * Compiles a semver range (`^1.2`, `1.x`, `>=2 <3`, `*`, `v` prefixes allowed) into a test over
 * already-parsed versions. `semver`'s own `Range.test` re-parses a version string on every call,
 * which alone costs ~50 ms for 100,000 tags; this walks the same comparator sets without
 * allocating. Throws `semver`'s TypeError for an invalid range.
 */
export function compileRange(range: string, includePrerelease: boolean): RangeTest {
  const parsed = new Range(range, { includePrerelease });
  const sets: CompiledComparator[][] = parsed.set.map((set) =>
    // A comparator without a version (value `''`) is semver's "any": it always holds.
    set
      .filter((comparator) => comparator.value !== '')
      .map((comparator) => ({
        operator: comparator.operator,
        version: {
          major: comparator.semver.major,
          minor: comparator.semver.minor,
          patch: comparator.semver.patch,
          prerelease: [...comparator.semver.prerelease],
        },
      })),
  );
  return (version) => {
    for (const set of sets) {
      if (satisfiesSet(version, set, includePrerelease)) return true;
    }
    return false;
  };
}
