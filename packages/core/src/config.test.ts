import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { parseOptions } from './config.ts';

const schema = v.strictObject({
  url: v.pipe(
    v.string(),
    v.check((value) => !value.includes('office.com'), 'is a retired connector: use a Workflows webhook'),
    v.url(),
  ),
  token: v.optional(v.pipe(v.string(), v.minLength(10))),
});

const problems = (input: unknown): string[] => {
  try {
    parseOptions(schema, input, { secrets: ['url', 'token'] });
  } catch (error) {
    return ((error as { problems: Array<{ path: string; message: string }> }).problems ?? []).map(
      (problem) => `${problem.path}: ${problem.message}`,
    );
  }
  return [];
};

describe('parseOptions', () => {
  it("keeps a secret field's own message when it cannot quote the value, and never echoes the value", () => {
    const text = problems({ url: 'https://x.office.com/hook/s3cr3t', token: 'short-tk' });
    expect(text).toEqual([
      'url: is a retired connector: use a Workflows webhook',
      'token: Invalid value: Expected >=10',
    ]);
    expect(text.join('\n')).not.toMatch(/s3cr3t|short-tk/);
    expect(problems({ url: 'not a url at all' })).toEqual(['url: Invalid value: Expected a valid value']);
  });
});
