import fc from 'fast-check';
import { compare } from 'semver';
import { describe, expect, it } from 'vitest';
import { compareCodeUnits, compareNatural, compareNumericSegments } from './natural-order.ts';
import type { TagPolicyOptions } from './options.ts';
import { formatVersion, parseStrictSemver, parseVersionTag } from './semver-order.ts';
import { compileTagPolicy, type TagCandidate } from './tag-policy.ts';

const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });

const versionTag = fc
  .record({
    prefix: fc.constantFrom('', '', 'v', 'V', 'release-'),
    numbers: fc
      .tuple(fc.nat({ max: 6 }), fc.nat({ max: 12 }), fc.nat({ max: 4 }))
      .chain((numbers) => fc.integer({ min: 1, max: 3 }).map((count) => numbers.slice(0, count))),
    prerelease: fc.constantFrom('', '', '', '-rc.1', '-rc.2', '-RC3', '-beta.1', '-alpha', '-1'),
    variant: fc.constantFrom('', '', '', '-slim', '-alpine', '-alpine3.20', '-slim-bookworm'),
  })
  .map(({ prefix, numbers, prerelease, variant }) => `${prefix}${numbers.join('.')}${prerelease}${variant}`);

const tag = fc.oneof(
  { weight: 6, arbitrary: versionTag },
  { weight: 2, arbitrary: fc.nat({ max: 3000 }).map((n) => `build-${n}`) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.integer({ min: 20260101, max: 20261231 }), fc.nat({ max: 2000 }))
      .map(([day, n]) => `main-${day}-${n}`),
  },
  { weight: 2, arbitrary: fc.oneof(hex(7), fc.nat({ max: 500 }).map(String)).map((text) => `dev-${text}`) },
  { weight: 1, arbitrary: hex(40) },
  { weight: 1, arbitrary: hex(64).map((digest) => `sha256-${digest}.sig`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('latest', 'slim', 'edge', '', 'ünicode', '🐳', 'v1.2.3 ', 'x'.repeat(129)),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

/** Each policy with an independent oracle of its order: `rank(a) > rank(b)` means a is newer. */
interface Subject {
  options: TagPolicyOptions;
  /** Compares two allowed tags; omitted for shape-keeping semver policies (order depends on the current). */
  compare?: (a: string, b: string) => number;
}

function semverRank(a: string, b: string): number {
  const left = parseVersionTag(a);
  const right = parseVersionTag(b);
  if (left === undefined || right === undefined) throw new Error(`not versions: ${a}, ${b}`);
  return compare(formatVersion(left), formatVersion(right));
}

function keyRank(source: string, order: (a: string, b: string) => number) {
  const pattern = new RegExp(source);
  return (a: string, b: string) =>
    order(pattern.exec(a)?.groups?.key ?? '', pattern.exec(b)?.groups?.key ?? '');
}

function nameRank(prefix: string) {
  const read = (text: string) =>
    (text.startsWith(prefix) && prefix !== '' ? parseStrictSemver(text.slice(prefix.length)) : undefined) ??
    parseStrictSemver(text);
  return (a: string, b: string) => {
    const left = read(a);
    const right = read(b);
    if (left && right) return compare(formatVersion(left), formatVersion(right));
    if (left || right) return left ? 1 : -1;
    return compareNatural(a, b);
  };
}

const subjects: Subject[] = [
  { options: { semver: '*' } },
  { options: { semver: '^1', include: String.raw`^v\d` } },
  { options: { semver: '>=2 <10', prerelease: true } },
  { options: { semver: '*', prerelease: 'rc' } },
  { options: { semver: '*', sameShape: false }, compare: semverRank },
  { options: { semver: '~3.1 || ^5', sameShape: false, exclude: '-slim' }, compare: semverRank },
  {
    options: { extract: String.raw`^build-(?<key>\d+)$` },
    compare: keyRank(String.raw`^build-(?<key>\d+)$`, compareNumericSegments),
  },
  {
    options: { extract: String.raw`^main-(?<key>\d{8}-\d+)$` },
    compare: keyRank(String.raw`^main-(?<key>\d{8}-\d+)$`, compareNumericSegments),
  },
  {
    options: { extract: '^dev-(?<key>.+)$', sort: 'alphabetic' },
    compare: keyRank('^dev-(?<key>.+)$', compareCodeUnits),
  },
  { options: { pattern: 'dev-*' }, compare: nameRank('dev-') },
  { options: { pattern: 'v*' }, compare: nameRank('v') },
  { options: { include: '^[0-9a-f]+$', allowGitShas: true }, compare: nameRank('') },
  { options: { pattern: ['dev-*', 'build-*'], order: 'pushed' } },
  { options: { pin: 'build-7' } },
];

const input = fc.array(tag, { maxLength: 60 }).chain((tags) =>
  fc.record({
    tags: fc.constant(tags),
    shuffled: fc.shuffledSubarray(tags, { minLength: tags.length, maxLength: tags.length }),
    current: fc.option(tags.length > 0 ? fc.oneof(fc.constantFrom(...tags), tag) : tag, { nil: undefined }),
  }),
);

/** Tags plus a current release the policy allows, listed or (like a deleted tag) not. */
function withAllowedCurrent(allows: (tag: string) => boolean) {
  return fc
    .tuple(fc.array(tag, { maxLength: 60 }), fc.array(tag, { maxLength: 100 }), fc.boolean())
    .chain(([tags, elsewhere, listed]) => {
      const inTags = tags.filter(allows);
      const outside = elsewhere.filter(allows);
      const source = (listed && inTags.length > 0) || outside.length === 0 ? inTags : outside;
      return fc.record({
        tags: fc.constant(tags),
        current: source.length > 0 ? fc.constantFrom(...source) : fc.constant(undefined),
      });
    });
}

describe.each(subjects.map((subject) => [JSON.stringify(subject.options), subject] as const))(
  'policy %s',
  (_name, { options, compare: rank }) => {
    const policy = compileTagPolicy(options);
    const pushed = options.order === 'pushed';

    it('picks a listed tag the policy allows', () => {
      fc.assert(
        fc.property(input, ({ tags, current }) => {
          const candidate = policy.select({ tags, current });
          if (candidate === undefined) return;
          expect(tags).toContain(candidate.tag);
          expect(policy.allows(candidate.tag)).toBe(true);
        }),
        { numRuns: 300 },
      );
    });

    // Pins and push order have no order of names to fall below; the other properties need one.
    if (policy.kind !== 'pin' && !pushed) {
      it('never picks below an allowed current release', () => {
        fc.assert(
          fc.property(withAllowedCurrent(policy.allows), ({ tags, current }) => {
            fc.pre(current !== undefined);
            const candidate: TagCandidate | undefined = policy.select({ tags, current });
            if (tags.includes(current)) expect(candidate).toBeDefined();
            if (candidate === undefined) return;
            expect((rank ?? semverRank)(candidate.tag, current)).toBeGreaterThanOrEqual(0);
          }),
          { numRuns: 300 },
        );
      });

      it('does not depend on the listing order', () => {
        fc.assert(
          fc.property(input, ({ tags, shuffled, current }) => {
            expect(policy.select({ tags: shuffled, current })).toEqual(policy.select({ tags, current }));
          }),
          { numRuns: 300 },
        );
      });
    }

    if (rank !== undefined) {
      it('picks the newest allowed tag', () => {
        fc.assert(
          fc.property(input, ({ tags }) => {
            const candidate = policy.select({ tags });
            const allowed = tags.filter((item) => policy.allows(item));
            expect(candidate === undefined).toBe(allowed.length === 0);
            for (const item of allowed) expect(rank(item, candidate?.tag ?? '')).toBeLessThanOrEqual(0);
          }),
          { numRuns: 300 },
        );
      });
    }

    if (pushed) {
      it('takes the last allowed tag in push order', () => {
        fc.assert(
          fc.property(input, ({ tags }) => {
            expect(policy.select({ tags })?.tag).toBe(tags.findLast((item) => policy.allows(item)));
          }),
          { numRuns: 300 },
        );
      });
    }
  },
);
