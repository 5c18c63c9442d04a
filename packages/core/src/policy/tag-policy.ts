import { parseOptions } from '../config.ts';
import { compileExtract } from './extract-order.ts';
import { compileGlob, type TagGlob } from './glob.ts';
import { isIgnoredTag } from './ignored-tags.ts';
import { compareNatural } from './natural-order.ts';
import { type TagPolicyOptions, tagPolicyOptions } from './options.ts';
import {
  compareVersions,
  compileRange,
  formatVersion,
  parseStrictSemver,
  parseVersionTag,
  type SemverParts,
  type VersionTag,
} from './semver-order.ts';
import { isSameShape, shapePreference } from './shape.ts';

/**
 * `pin`: one fixed tag. `semver`: the newest version in a range. `extract`: the largest key a
 * regex captures. `pattern`: the newest tag matching globs/regexes, by name or by push order.
 */
export type TagPolicyKind = 'pin' | 'semver' | 'extract' | 'pattern';

/** The tag a policy picked, with what it was ordered by. Plain data: safe to store and send. */
export interface TagCandidate {
  tag: string;
  /** The semver precedence it was ordered by (`3.12` → `3.12.0`, `v1.3.0-RC2` → `1.3.0-rc.2`). */
  version?: string;
  /** Extract policies: the captured key. */
  key?: string;
}

export interface SelectTagInput {
  /**
   * The repository's tags, garbage and duplicates included. Order matters only to
   * `order: 'pushed'`, which takes the last matching one.
   */
  tags: readonly string[];
  /** The tag the stage runs now, if any: its shape and channel are kept, and it is the floor. */
  current?: string | undefined;
}

export interface TagPolicy {
  readonly kind: TagPolicyKind;
  /**
   * The candidate among `tags`: always a member of `tags` that `allows` accepts, or `undefined`.
   * Never ordered below `current` when the policy allows `current` (it is returned itself when
   * it is the newest); rolling back is the caller's business. One pass, no sorting.
   */
  select(input: SelectTagInput): TagCandidate | undefined;
  /**
   * Whether the tag could ever be a candidate: the context-free half of `select`. Shape, channel
   * and the floor depend on the current release and are left to `select`.
   */
  allows(tag: string): boolean;
}

export interface CompileTagPolicyContext {
  /** Where the options sit in the caller's config, e.g. `projects.web.stages.dev.policy`. */
  path?: string;
}

const maxTagLength = 128;

/** Accepts and rejects tag names before any ordering: globs, include and exclude regexes. */
interface NameFilter {
  /** -1 when the tag is rejected; otherwise the index of the first glob it matched (0 without globs). */
  match(tag: string): number;
  /** The literal prefix of the glob at that index (`dev-` for `dev-*`); `''` without globs. */
  literalPrefix(index: number): string;
}

function toList(value: string | string[] | undefined): string[] | undefined {
  return value === undefined ? undefined : typeof value === 'string' ? [value] : value;
}

function someMatches(patterns: readonly RegExp[], tag: string): boolean {
  for (const pattern of patterns) {
    if (pattern.test(tag)) return true;
  }
  return false;
}

function createNameFilter(options: TagPolicyOptions): NameFilter {
  const globs: TagGlob[] | undefined = toList(options.pattern)?.map(compileGlob);
  const include = toList(options.include)?.map((source) => new RegExp(source));
  const exclude = toList(options.exclude)?.map((source) => new RegExp(source));
  return {
    match(tag) {
      let index = 0;
      if (globs !== undefined) {
        index = globs.findIndex((glob) => glob.test(tag));
        if (index === -1) return -1;
      }
      if (include !== undefined && !someMatches(include, tag)) return -1;
      if (exclude !== undefined && someMatches(exclude, tag)) return -1;
      return index;
    },
    literalPrefix: (index) => globs?.[index]?.literalPrefix ?? '',
  };
}

/**
 * Breaks a tie between two different tags that order the same (`v1.2.3` / `V1.2.3` / `1.2.3`,
 * `dev-01` / `dev-1`): the current tag wins, so an alias never replaces what runs; otherwise the
 * smaller string, so the answer does not depend on the registry's listing order. > 0: `a` wins.
 */
function breakTie(a: string, b: string, current: string | undefined): number {
  if (a === b) return 0;
  if (a === current) return 1;
  if (b === current) return -1;
  return a < b ? 1 : -1;
}

function isTagLike(tag: unknown): tag is string {
  return typeof tag === 'string' && tag.length > 0 && tag.length <= maxTagLength;
}

type PolicyBehaviour = Omit<TagPolicy, 'kind'>;

function pinPolicy(pin: string): PolicyBehaviour {
  return {
    allows: (tag) => tag === pin,
    select: ({ tags }) => (tags.includes(pin) ? { tag: pin } : undefined),
  };
}

function semverPolicy(options: TagPolicyOptions, range: string, filter: NameFilter): PolicyBehaviour {
  const prerelease = options.prerelease ?? false;
  const inRange = compileRange(range, prerelease !== false);
  const keepShape = options.sameShape ?? true;
  const ignore = { allowGitShas: options.allowGitShas ?? false };

  const prereleaseAllowed = (version: VersionTag) =>
    version.prerelease.length === 0 ||
    prerelease === true ||
    (prerelease !== false && version.channel === prerelease);
  const readVersion = (tag: unknown) =>
    isTagLike(tag) && filter.match(tag) !== -1 && !isIgnoredTag(tag, ignore)
      ? parseVersionTag(tag)
      : undefined;
  const allowsVersion = (version: VersionTag) => prereleaseAllowed(version) && inRange(version);

  return {
    allows(tag) {
      const version = readVersion(tag);
      return version !== undefined && allowsVersion(version);
    },
    select({ tags, current }) {
      // The current release lends its shape and channel as long as it passes the name filters,
      // even when the range no longer admits it; it is the floor only when it is allowed.
      const reference = readVersion(current);
      const floor = reference !== undefined && allowsVersion(reference) ? reference : undefined;
      const shape = keepShape ? reference : undefined;
      const channel =
        prerelease === true && reference !== undefined && reference.prerelease.length > 0
          ? reference.channel
          : undefined;
      const byPreference = keepShape && reference === undefined;
      // Leaders per shape preference (see shape.ts); a single level when a shape is given or ignored.
      const leaders: (VersionTag | undefined)[] = [undefined, undefined, undefined];
      for (const tag of tags) {
        if (!isTagLike(tag) || filter.match(tag) === -1) continue;
        const version = parseVersionTag(tag);
        if (version === undefined || !prereleaseAllowed(version)) continue;
        if (channel !== undefined && version.prerelease.length > 0 && version.channel !== channel) continue;
        if (shape !== undefined && !isSameShape(version, shape)) continue;
        const level = byPreference ? shapePreference(version) : 0;
        const leader = leaders[level];
        if (
          leader !== undefined &&
          (compareVersions(version, leader) || breakTie(tag, leader.tag, current)) <= 0
        )
          continue;
        // The range and the ignore rules cost more than a comparison: only would-be leaders pay.
        if (!inRange(version) || isIgnoredTag(tag, ignore)) continue;
        leaders[level] = version;
      }
      const winner = leaders[2] ?? leaders[1] ?? leaders[0];
      if (winner === undefined || (floor !== undefined && compareVersions(winner, floor) < 0))
        return undefined;
      return { tag: winner.tag, version: formatVersion(winner) };
    },
  };
}

function extractPolicy(options: TagPolicyOptions, source: string, filter: NameFilter): PolicyBehaviour {
  const extractor = compileExtract(source, options.sort ?? 'numeric');
  const ignore = { allowGitShas: options.allowGitShas ?? false };
  const readKey = (tag: unknown) =>
    isTagLike(tag) && filter.match(tag) !== -1 && !isIgnoredTag(tag, ignore)
      ? extractor.extract(tag)
      : undefined;

  return {
    allows: (tag) => readKey(tag) !== undefined,
    select({ tags, current }) {
      const floor = readKey(current);
      let leaderTag: string | undefined;
      let leaderKey: string | undefined;
      for (const tag of tags) {
        if (!isTagLike(tag) || filter.match(tag) === -1) continue;
        const key = extractor.extract(tag);
        if (key === undefined) continue;
        if (
          leaderKey !== undefined &&
          leaderTag !== undefined &&
          (extractor.compare(key, leaderKey) || breakTie(tag, leaderTag, current)) <= 0
        ) {
          continue;
        }
        if (isIgnoredTag(tag, ignore)) continue;
        leaderTag = tag;
        leaderKey = key;
      }
      if (leaderTag === undefined || leaderKey === undefined) return undefined;
      if (floor !== undefined && extractor.compare(leaderKey, floor) < 0) return undefined;
      return { tag: leaderTag, key: leaderKey };
    },
  };
}

/** A pattern-policy tag with what orders it: its semver reading, when it has one. */
interface NamedTag {
  tag: string;
  version: SemverParts | undefined;
}

/**
 * Pattern policies order by name: tags whose text after the matched glob's literal prefix (or,
 * failing that, whose whole text) reads as strict semver (`dev-1.4.0` under `dev-*`, `v1.4.0`
 * under `v*`) rank above all others and follow semver precedence, so `1.4.0` beats `1.4.0-rc.1`;
 * the rest follow numeric-aware natural order (`dev-9 < dev-10`). Names such as `dev-3f2a9c1`
 * carry no order at all: use `order: 'pushed'` for those.
 */
function compareNamed(a: NamedTag, b: NamedTag): number {
  if (a.version !== undefined) return b.version === undefined ? 1 : compareVersions(a.version, b.version);
  if (b.version !== undefined) return -1;
  return compareNatural(a.tag, b.tag);
}

function patternPolicy(options: TagPolicyOptions, filter: NameFilter): PolicyBehaviour {
  const ignore = { allowGitShas: options.allowGitShas ?? false };
  const accepts = (tag: unknown): tag is string =>
    isTagLike(tag) && filter.match(tag) !== -1 && !isIgnoredTag(tag, ignore);
  const readNamed = (tag: string, globIndex: number): NamedTag => {
    const prefix = filter.literalPrefix(globIndex);
    const rest =
      prefix !== '' && tag.startsWith(prefix) ? parseStrictSemver(tag.slice(prefix.length)) : undefined;
    return { tag, version: rest ?? parseStrictSemver(tag) };
  };

  if (options.order === 'pushed') {
    return {
      allows: accepts,
      select({ tags }) {
        for (let index = tags.length - 1; index >= 0; index--) {
          const tag = tags[index];
          if (accepts(tag)) return { tag };
        }
        return undefined;
      },
    };
  }

  return {
    allows: accepts,
    select({ tags, current }) {
      const floor = accepts(current) ? readNamed(current, filter.match(current)) : undefined;
      let leader: NamedTag | undefined;
      for (const tag of tags) {
        if (!isTagLike(tag)) continue;
        const globIndex = filter.match(tag);
        if (globIndex === -1) continue;
        const named = readNamed(tag, globIndex);
        if (leader !== undefined && (compareNamed(named, leader) || breakTie(tag, leader.tag, current)) <= 0)
          continue;
        if (isIgnoredTag(tag, ignore)) continue;
        leader = named;
      }
      if (leader === undefined || (floor !== undefined && compareNamed(leader, floor) < 0)) return undefined;
      return leader.version === undefined
        ? { tag: leader.tag }
        : { tag: leader.tag, version: formatVersion(leader.version) };
    },
  };
}

/**
 * Validates policy options once and compiles them. Throws a `ConfigError` (code `CONFIG_INVALID`)
 * whose problems name each bad field under `context.path`: invalid regexes and globs, bad semver
 * ranges, empty patterns, contradictory options.
 */
export function compileTagPolicy(input: TagPolicyOptions, context: CompileTagPolicyContext = {}): TagPolicy {
  const options = parseOptions(tagPolicyOptions, input, { path: context.path ?? '', subject: 'tag policy' });
  if (options.pin !== undefined) return { kind: 'pin', ...pinPolicy(options.pin) };
  const filter = createNameFilter(options);
  if (options.semver !== undefined)
    return { kind: 'semver', ...semverPolicy(options, options.semver, filter) };
  if (options.extract !== undefined)
    return { kind: 'extract', ...extractPolicy(options, options.extract, filter) };
  return { kind: 'pattern', ...patternPolicy(options, filter) };
}
