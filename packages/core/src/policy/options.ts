import * as v from 'valibot';
import { hasKeyGroup } from './extract-order.ts';
import { compileGlob } from './glob.ts';
import { isValidTagName } from './ignored-tags.ts';
import { exponentialRegexProblem } from './safe-regex.ts';
import { compileRange, prereleaseChannels } from './semver-order.ts';

function problemOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const regexSource = v.pipe(
  v.string(),
  v.nonEmpty('Expected a non-empty regular expression'),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed || dataset.issues !== undefined) return;
    const problem = problemOf(() => new RegExp(dataset.value));
    if (problem !== undefined) addIssue({ message: problem });
    else {
      const slow = exponentialRegexProblem(dataset.value);
      if (slow !== undefined)
        addIssue({
          message: `can take exponential time on a crafted tag: ${slow}; rewrite it without nested repetition`,
        });
    }
  }),
);

const glob = v.pipe(
  v.string(),
  v.nonEmpty('Expected a non-empty glob such as dev-* or v*'),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed || dataset.issues !== undefined) return;
    const problem = problemOf(() => compileGlob(dataset.value));
    if (problem !== undefined) addIssue({ message: `Invalid glob: ${problem}` });
  }),
);

function oneOrMore<TItem extends v.GenericSchema<string>>(item: TItem) {
  return v.union([item, v.pipe(v.array(item), v.minLength(1, 'Expected at least one entry'))]);
}

/** Keys that may stand with `pin`: none. A pin selects exactly one tag, so anything else would be ignored. */
const selectionKeys = [
  'pattern',
  'include',
  'exclude',
  'semver',
  'prerelease',
  'sameShape',
  'extract',
  'sort',
  'order',
  'allowGitShas',
] as const;

interface OptionProblem {
  key: string | undefined;
  message: string;
}

function contradictions(options: Readonly<Record<string, unknown>>): OptionProblem[] {
  const has = (key: string) => options[key] !== undefined;
  const problems: OptionProblem[] = [];
  if (has('pin')) {
    for (const key of selectionKeys) {
      if (has(key))
        problems.push({ key, message: 'Cannot be combined with pin: a pin selects exactly one tag' });
    }
    return problems;
  }
  if (!has('semver') && !has('extract') && !has('pattern') && !has('include')) {
    problems.push({
      key: undefined,
      message: 'Expected a policy: one of pin, semver, extract, pattern or include',
    });
  }
  if (has('semver') && has('extract')) {
    problems.push({
      key: 'extract',
      message: 'Cannot be combined with semver: each orders tags its own way',
    });
  }
  if (has('prerelease') && !has('semver')) {
    problems.push({
      key: 'prerelease',
      message: 'Needs semver: prereleases are only recognised by semver policies',
    });
  }
  if (has('sameShape') && !has('semver')) {
    problems.push({ key: 'sameShape', message: 'Needs semver: shapes are only compared by semver policies' });
  }
  if (has('sort') && !has('extract')) {
    problems.push({ key: 'sort', message: 'Needs extract: sort orders the keys that extract captures' });
  }
  if (options.order === 'pushed' && (has('semver') || has('extract'))) {
    problems.push({
      key: 'order',
      message: `Cannot be pushed together with ${has('semver') ? 'semver' : 'extract'}, which orders tags by their names`,
    });
  }
  return problems;
}

/**
 * Options of a tag policy: which of a repository's tags a stage may run, and which of those is the
 * newest. Validated once, by `compileTagPolicy`.
 */
export const tagPolicyOptions = v.pipe(
  v.strictObject({
    pin: v.optional(
      v.pipe(
        v.string(),
        v.check(isValidTagName, 'Expected a tag name: letters, digits, _ . - and at most 128 characters'),
        v.description(
          'A fixed tag. The candidate is always this tag while the registry lists it; the caller watches its digest. Cannot be combined with any other option.',
        ),
      ),
    ),
    pattern: v.optional(
      v.pipe(
        oneOrMore(glob),
        v.description(
          'Glob(s) the whole tag must match (picomatch syntax, case-sensitive), e.g. `dev-*` or `v*`. With several, one must match.',
        ),
      ),
    ),
    include: v.optional(
      v.pipe(
        oneOrMore(regexSource),
        v.description(
          'Regular expression(s) a tag must match; with several, one must match. Unanchored unless you anchor it: `^v\\d+\\.\\d+\\.\\d+$`.',
        ),
      ),
    ),
    exclude: v.optional(
      v.pipe(
        oneOrMore(regexSource),
        v.description('Regular expression(s) no selected tag may match, e.g. `-debug$`.'),
      ),
    ),
    semver: v.optional(
      v.pipe(
        v.string(),
        v.nonEmpty('Expected a semver range such as ^1.2, 1.x, >=2 <3 or *'),
        v.rawCheck(({ dataset, addIssue }) => {
          if (!dataset.typed || dataset.issues !== undefined) return;
          const problem = problemOf(() => compileRange(dataset.value, false));
          if (problem !== undefined) addIssue({ message: `Invalid semver range: ${problem}` });
        }),
        v.description(
          'Follow the newest version tag in this semver range (`^1.2`, `1.x`, `>=2 <3`, `*`). Tags may carry a `v`/`V` prefix, word prefixes (`release-`) and variant suffixes (`-slim`); `3.12` reads as `3.12.0`.',
        ),
      ),
    ),
    prerelease: v.optional(
      v.pipe(
        v.union([v.boolean(), v.picklist(prereleaseChannels)]),
        v.description(
          'Also follow prereleases: `true` for any channel (then staying on the current release’s channel), or a channel name (`rc`, `beta`, …) for that channel only. Default false: releases only.',
        ),
      ),
    ),
    sameShape: v.optional(
      v.pipe(
        v.boolean(),
        v.description(
          'Keep the current release’s shape (word prefix, number of version components, variant suffix), so `3.17-alpine` never moves to `3.18-slim` or `3.18`. Default true for semver policies.',
        ),
      ),
    ),
    extract: v.optional(
      v.pipe(
        regexSource,
        v.rawCheck(({ dataset, addIssue }) => {
          if (!dataset.typed || dataset.issues !== undefined || hasKeyGroup(dataset.value)) return;
          addIssue({ message: 'Expected a named group (?<key>…) whose text orders the tags' });
        }),
        v.description(
          'For schemes semver cannot read: a regular expression with a named group `key`, e.g. `^main-(?<key>\\d{8}-\\d+)$`. Tags it does not match are not selected; the rest are ordered by their key.',
        ),
      ),
    ),
    sort: v.optional(
      v.pipe(
        v.picklist(['numeric', 'alphabetic']),
        v.description(
          'How extracted keys are ordered: `numeric` (default) compares their digit runs segment by segment as numbers; `alphabetic` compares characters.',
        ),
      ),
    ),
    order: v.optional(
      v.pipe(
        v.picklist(['name', 'pushed']),
        v.description(
          'For pattern policies: `name` (default) orders by the tag itself (semver after the glob’s literal prefix, else numeric-aware); `pushed` takes the last matching tag because the caller passes tags in push order.',
        ),
      ),
    ),
    allowGitShas: v.optional(
      v.pipe(
        v.boolean(),
        v.description('Let 40-hex git commit SHA tags through; they are ignored by default. Default false.'),
      ),
    ),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const options = dataset.value;
    for (const problem of contradictions(options)) {
      if (problem.key === undefined) {
        addIssue({ message: problem.message });
        continue;
      }
      const value = options[problem.key as keyof typeof options];
      addIssue({
        message: problem.message,
        path: [{ type: 'object', origin: 'value', input: options, key: problem.key, value }],
      });
    }
  }),
  v.description('Which tags a stage may run, and how the newest of them is chosen.'),
);

export type TagPolicyOptions = v.InferOutput<typeof tagPolicyOptions>;
