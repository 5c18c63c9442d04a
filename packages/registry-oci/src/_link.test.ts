import { describe, expect, it } from 'vitest';
import { nextLink } from './_link.ts';

const page = new URL('https://registry.example.com/v2/team/app/tags/list?n=100');

describe('nextLink', () => {
  it('resolves a relative link against the page that carried it (distribution, Gitea)', () => {
    expect(nextLink('</v2/team/app/tags/list?last=t0099&n=100>; rel="next"', page)?.href).toBe(
      'https://registry.example.com/v2/team/app/tags/list?last=t0099&n=100',
    );
  });

  it('follows an absolute link exactly as given, opaque parameters included (Quay)', () => {
    expect(
      nextLink('<https://other.example.com/v2/team/app/tags/list?next_page=gAAAA%3D%3D>; rel=next', page)
        ?.href,
    ).toBe('https://other.example.com/v2/team/app/tags/list?next_page=gAAAA%3D%3D');
  });

  it('picks rel="next" among several links and relation lists', () => {
    const header =
      '<https://r.example/first>; rel="first", <https://r.example/p?a=1,2>; title="x, y"; rel="last next"';
    expect(nextLink(header, page)?.href).toBe('https://r.example/p?a=1,2');
  });

  it('gives nothing without a next link', () => {
    expect(nextLink(undefined, page)).toBeUndefined();
    expect(nextLink('', page)).toBeUndefined();
    expect(nextLink('<https://r.example/prev>; rel="prev"', page)).toBeUndefined();
    expect(nextLink('<https://r.example/broken; rel="next"', page)).toBeUndefined();
  });
});
