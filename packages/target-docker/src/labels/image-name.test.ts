import { describe, expect, it } from 'vitest';
import { parseImageName } from './image-name.ts';

const digest = `sha256:${'a'.repeat(64)}`;

describe('parseImageName', () => {
  it.each([
    ['nginx', { repository: 'nginx', host: 'docker.io', path: 'library/nginx', tag: 'latest' }],
    [
      'nginx:1.25-alpine',
      { repository: 'nginx', host: 'docker.io', path: 'library/nginx', tag: '1.25-alpine' },
    ],
    ['team/app:v2', { repository: 'team/app', host: 'docker.io', path: 'team/app', tag: 'v2' }],
    [
      'docker.io/team/app:v2',
      { repository: 'docker.io/team/app', host: 'docker.io', path: 'team/app', tag: 'v2' },
    ],
    [
      '127.0.0.1:5000/x:latest',
      { repository: '127.0.0.1:5000/x', host: '127.0.0.1:5000', path: 'x', tag: 'latest' },
    ],
    ['localhost/a/b', { repository: 'localhost/a/b', host: 'localhost', path: 'a/b', tag: 'latest' }],
    [`ghcr.io/o/app@${digest}`, { repository: 'ghcr.io/o/app', host: 'ghcr.io', path: 'o/app', digest }],
    [
      `ghcr.io/o/app:v1@${digest}`,
      { repository: 'ghcr.io/o/app', host: 'ghcr.io', path: 'o/app', tag: 'v1', digest },
    ],
  ])('%s', (reference, expected) => {
    expect(parseImageName(reference)).toEqual(expected);
  });

  it.each(['', `sha256:${'b'.repeat(64)}`, 'app@sha256:short', 'UPPER/case:v1', 'app:bad tag'])(
    'rejects %j',
    (reference) => {
      expect(parseImageName(reference)).toBeUndefined();
    },
  );
});
