import type * as v from 'valibot';

/** Levenshtein distance, for "did you mean". */
export function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/** The closest candidate within a few edits (case and `-`/`_` ignored), if any. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const norm = (text: string) => text.toLowerCase().replace(/[-_]/g, '');
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = distance(norm(word), norm(candidate));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  return bestDistance <= limit ? best : undefined;
}

export const didYouMean = (word: string, candidates: Iterable<string>): string => {
  const match = closest(word, candidates);
  return match ? `; did you mean ${match}?` : '';
};

const typeWords: Record<string, string> = {
  string: 'text',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (key: value)',
  strict_object: 'a mapping (key: value)',
  loose_object: 'a mapping (key: value)',
  record: 'a mapping (key: value)',
  literal: 'a fixed value',
};

/** What a value is, in words, for "must be X, not Y". Secrets are never shown. */
export function describeValue(value: unknown, secret: boolean): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'empty (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (secret) return `a ${typeof value}`;
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `the text ${JSON.stringify(shown)}`;
  }
  return String(value);
}

const optionsOf = (issue: v.BaseIssue<unknown>): string[] => {
  const expected = issue.expected ?? '';
  return [...expected.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
};

/**
 * valibot's issue as plain words (`must be a number, not the text "80"`), with a "did you mean"
 * for a near miss among allowed values. Custom messages of the schemas stay as they are.
 */
export function plainMessage(issue: v.BaseIssue<unknown>, secret: boolean): string {
  const received = describeValue(issue.input, secret);
  const requirement = (issue as { requirement?: unknown }).requirement;
  if (issue.kind === 'schema') {
    if (issue.input === undefined && issue.type.endsWith('object')) return 'is required';
    if (issue.type === 'picklist' || issue.type === 'variant' || issue.type === 'enum') {
      const options = optionsOf(issue);
      const hint = typeof issue.input === 'string' && !secret ? didYouMean(issue.input, options) : '';
      return `must be one of ${options.join(', ')}, not ${received}${hint}`;
    }
    if (issue.type === 'literal') return `must be ${issue.expected}, not ${received}`;
    if (issue.type === 'never')
      return issue.message.startsWith('Invalid') ? 'is not allowed here' : issue.message;
    if (issue.type === 'union') return `must be ${unionWords(issue)}, not ${received}`;
    const word = typeWords[issue.type];
    if (word) return `must be ${word}, not ${received}`;
  }
  if (!issue.message.startsWith('Invalid ')) return issue.message;
  switch (issue.type) {
    case 'min_value':
    case 'gt_value':
      return `must be at least ${String(requirement)}, not ${received}`;
    case 'max_value':
    case 'lt_value':
      return `must be at most ${String(requirement)}, not ${received}`;
    case 'integer':
      return `must be a whole number, not ${received}`;
    case 'min_length':
      return requirement === 1
        ? 'must not be empty'
        : `needs at least ${String(requirement)} entries or characters`;
    case 'max_length':
      return `may have at most ${String(requirement)} entries or characters`;
    case 'non_empty':
      return 'must not be empty';
    case 'url':
      return `must be a URL, not ${received}`;
    case 'ip':
      return `must be an IP address, not ${received}`;
    case 'regex':
      return `does not have the expected form (${issue.expected ?? 'a pattern'}), not ${received}`;
    default:
      return `${issue.message.replace(/ but received .*$/, '').replace(/^Invalid \w+: Expected /, 'must be ')}`;
  }
}

function unionWords(issue: v.BaseIssue<unknown>): string {
  const expected = issue.expected ?? '';
  return expected
    .split(' | ')
    .map((part) => typeWords[part] ?? (part.startsWith('"') ? part : part === 'Object' ? 'a mapping' : part))
    .join(' or ');
}
