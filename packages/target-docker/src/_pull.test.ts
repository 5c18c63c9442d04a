import { describe, expect, it } from 'vitest';
import { createPullLogger } from './_pull.ts';

describe('pull progress lines', () => {
  it('log each layer status once, without progress bars', () => {
    const lines: string[] = [];
    const log = createPullLogger((line) => lines.push(line));
    log({ status: 'Pulling from team/app', id: 'sha256:abc' });
    for (const progress of ['[=>  ]', '[==> ]', '[===>]']) log({ status: 'Downloading', id: 'l1', progress });
    log({ status: 'Download complete', id: 'l1' });
    log({ status: 'Extracting', id: 'l1', progress: '[=> ]' });
    log({ status: 'Extracting', id: 'l1', progress: '[==>]' });
    log({ status: 'Pull complete', id: 'l1' });
    log({ status: 'Digest: sha256:abc' });
    log({});
    expect(lines).toEqual([
      'pull sha256:abc: Pulling from team/app',
      'pull l1: Downloading',
      'pull l1: Download complete',
      'pull l1: Extracting',
      'pull l1: Pull complete',
      'pull: Digest: sha256:abc',
    ]);
  });
});
