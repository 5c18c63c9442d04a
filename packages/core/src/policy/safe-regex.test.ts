import { describe, expect, it } from 'vitest';
import { exponentialRegexProblem } from './safe-regex.ts';

describe('exponentialRegexProblem', () => {
  it.each(['^(a+)+$', '(a*)*', '^(\\d+)*x$', '((ab)+)+', '(a|ab)*', '^(?:x+y?)+$', '(a{1,5}){2,}'])(
    'refuses %s',
    (source) => {
      expect(exponentialRegexProblem(source)).toBeDefined();
    },
  );

  it.each([
    '^v\\d+\\.\\d+\\.\\d+$',
    '-debug$',
    '^main-(?<key>\\d{8}-\\d+)$',
    '^(dev|rel)-\\d+$',
    '^(?:v)?(\\d+\\.)?\\d+$',
    '[a+]+',
    '(ab){2}',
    '^release-(\\d+)$',
  ])('accepts %s', (source) => {
    expect(exponentialRegexProblem(source)).toBeUndefined();
  });
});
