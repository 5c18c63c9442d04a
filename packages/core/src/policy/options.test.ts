import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config.ts';
import { isCoreError } from '../errors.ts';
import { type TagPolicyOptions, tagPolicyOptions } from './options.ts';
import { compileTagPolicy } from './tag-policy.ts';

const at = 'projects.web.stages.dev.policy';

function problemsOf(input: unknown): Array<{ path: string; message: string }> {
  try {
    compileTagPolicy(input as TagPolicyOptions, { path: at });
  } catch (error) {
    expect(isCoreError(error, 'CONFIG_INVALID')).toBe(true);
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('tag policy options', () => {
  it.each<[string, unknown, string, RegExp]>([
    ['an invalid include regex', { include: '(' }, `${at}.include`, /Invalid regular expression/],
    [
      'an invalid regex in a list',
      { include: ['^v', '[z-a]'] },
      `${at}.include.1`,
      /Invalid regular expression/,
    ],
    [
      'an invalid exclude regex',
      { semver: '*', exclude: '*oops' },
      `${at}.exclude`,
      /Invalid regular expression/,
    ],
    ['a catastrophic include regex', { include: '^(a+)+$' }, `${at}.include`, /exponential time/],
    ['a catastrophic extract regex', { extract: '^(?<key>(\\d+)+)$' }, `${at}.extract`, /exponential time/],
    ['an unclosed bracket in a glob', { pattern: 'dev-[*' }, `${at}.pattern`, /never closed/],
    ['an empty include', { include: '' }, `${at}.include`, /non-empty/],
    ['an empty include list', { include: [] }, `${at}.include`, /at least one/],
    ['a bad semver range', { semver: '^^1' }, `${at}.semver`, /Invalid semver range/],
    ['a tag as a range', { semver: 'latest' }, `${at}.semver`, /Invalid semver range/],
    ['an empty range', { semver: '' }, `${at}.semver`, /semver range/],
    ['an empty pattern', { pattern: '' }, `${at}.pattern`, /non-empty glob/],
    ['an empty pattern in a list', { pattern: ['dev-*', ''] }, `${at}.pattern.1`, /non-empty glob/],
    ['an empty pin', { pin: '' }, `${at}.pin`, /tag name/],
    ['a pin that is no tag', { pin: 'v1 2' }, `${at}.pin`, /tag name/],
    ['pin with semver', { pin: 'v1.2.3', semver: '^1' }, `${at}.semver`, /Cannot be combined with pin/],
    ['pin with pattern', { pin: 'v1.2.3', pattern: 'v*' }, `${at}.pattern`, /Cannot be combined with pin/],
    ['pin with allowGitShas', { pin: 'v1.2.3', allowGitShas: true }, `${at}.allowGitShas`, /with pin/],
    ['extract without a key group', { extract: String.raw`^build-(\d+)$` }, `${at}.extract`, /\(\?<key>/],
    ['an invalid extract regex', { extract: '(?<key>' }, `${at}.extract`, /Invalid regular expression/],
    ['sort without extract', { pattern: 'build-*', sort: 'numeric' }, `${at}.sort`, /Needs extract/],
    ['an unknown sort', { extract: '(?<key>.+)', sort: 'extract' }, `${at}.sort`, /numeric/],
    [
      'extract with semver',
      { semver: '*', extract: '(?<key>.+)' },
      `${at}.extract`,
      /Cannot be combined with semver/,
    ],
    ['prerelease without semver', { pattern: 'v*', prerelease: true }, `${at}.prerelease`, /Needs semver/],
    ['an unknown channel', { semver: '*', prerelease: 'gamma' }, `${at}.prerelease`, /rc/],
    ['sameShape without semver', { pattern: 'v*', sameShape: false }, `${at}.sameShape`, /Needs semver/],
    ['pushed order with semver', { semver: '*', order: 'pushed' }, `${at}.order`, /semver/],
    ['pushed order with extract', { extract: '(?<key>.+)', order: 'pushed' }, `${at}.order`, /extract/],
    ['an unknown order', { pattern: 'v*', order: 'newest' }, `${at}.order`, /pushed/],
    ['no selection at all', {}, at, /one of pin, semver, extract, pattern or include/],
    ['only an exclude', { exclude: 'x' }, at, /one of pin/],
    [
      'an unknown key (the plan spells it tag_pattern)',
      { tag_pattern: 'dev-*' },
      `${at}.tag_pattern`,
      /Invalid key/,
    ],
    ['a wrong type', { semver: 1 }, `${at}.semver`, /Invalid type/],
    ['not an object', 'dev-*', at, /Invalid type/],
  ])('rejects %s, naming the field', (_name, input, path, message) => {
    const problems = problemsOf(input);
    expect(problems).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('reports every problem at once, without a caller path too', () => {
    try {
      compileTagPolicy({ include: '(', semver: '^^1', pattern: '' });
      expect.unreachable();
    } catch (error) {
      const problems = (error as ConfigError).problems.map((problem) => problem.path);
      expect(problems).toEqual(expect.arrayContaining(['include', 'semver', 'pattern']));
      expect((error as Error).message).toMatch(
        /^Invalid tag policy:\n(.+\n)*include: Invalid regular expression/,
      );
    }
  });

  it.each<[string, TagPolicyOptions, string]>([
    ['a pin', { pin: 'v1.2.3' }, 'pin'],
    ['a semver range', { semver: '^1.2', include: '^v', exclude: ['-debug$'], prerelease: 'rc' }, 'semver'],
    ['an extract', { extract: String.raw`^build-(?<key>\d+)$`, sort: 'numeric' }, 'extract'],
    ['a glob', { pattern: ['dev-*', 'feature-*'], order: 'pushed' }, 'pattern'],
    ['an include regex only', { include: String.raw`^\d+$`, allowGitShas: true }, 'pattern'],
    ['name order with semver', { semver: '*', order: 'name', sameShape: false }, 'semver'],
  ])('accepts %s', (_name, options, kind) => {
    expect(compileTagPolicy(options).kind).toBe(kind);
  });

  it('describes every field, for the generated JSON Schema', () => {
    const entries = tagPolicyOptions.pipe[0].entries;
    for (const [key, schema] of Object.entries(entries)) {
      expect(v.getDescription(schema.wrapped), key).toBeTruthy();
    }
    expect(v.getDescription(tagPolicyOptions)).toBeTruthy();
  });
});
