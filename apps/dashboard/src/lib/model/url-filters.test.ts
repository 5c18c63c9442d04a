import { describe, expect, it } from 'vitest';
import { readBoardQuery, safeNext, writeBoardQuery } from './url-filters.ts';

describe('board filters in the URL', () => {
  it('round-trips search, attention and page, leaving defaults out', () => {
    const query = { search: 'web app', attention: true, page: 3 };
    const text = writeBoardQuery(query);
    expect(text).toBe('?q=web+app&attention=1&page=3');
    expect(readBoardQuery(new URLSearchParams(text))).toEqual(query);
    expect(writeBoardQuery({ search: ' ', attention: false, page: 1 })).toBe('');
  });

  it('reads nonsense as the defaults', () => {
    expect(readBoardQuery(new URLSearchParams('page=-2&attention=yes'))).toEqual({
      search: '',
      attention: false,
      page: 1,
    });
  });
});

describe('the login return path', () => {
  it('keeps paths on this site and refuses everything else', () => {
    expect(safeNext('/projects/web?x=1')).toBe('/projects/web?x=1');
    for (const bad of [
      '//evil.example',
      'https://evil.example/',
      '/\\evil.example',
      'javascript:alert(1)',
      '',
      null,
      '/login?next=/',
    ])
      expect(safeNext(bad)).toBe('/');
  });
});
