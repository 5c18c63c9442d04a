import { expect, it } from 'vitest';
import { headersOf } from './headers.ts';

it('reads response headers by name in any case, joining a repeated one, with names kept as data', () => {
  const headers = headersOf([
    'Docker-Content-Digest',
    'sha256:abc',
    'Link',
    '</v2/a/tags/list?n=2&last=b>; rel="next"',
    'link',
    '</v2/a/tags/list?n=2&last=d>; rel="next"',
    '__proto__',
    'polluted',
    'constructor',
    'x',
  ]);
  expect(headers.get('docker-content-digest')).toBe('sha256:abc');
  expect(headers.get('LINK')).toBe(
    '</v2/a/tags/list?n=2&last=b>; rel="next", </v2/a/tags/list?n=2&last=d>; rel="next"',
  );
  expect(headers.get('__proto__')).toBe('polluted');
  expect(headers.get('toString')).toBeNull();
  expect(headers.get('etag')).toBeNull();
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});
