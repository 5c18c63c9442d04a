import { describe, expect, it } from 'vitest';
import type { DeployRecord } from '../api/types.ts';
import { provenReleases, rollbackTarget } from './releases.ts';

const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const deploy = (id: string, tag: string, n: number, state: string): DeployRecord => ({
  id,
  project: 'web',
  stage: 'rel',
  release: { tag, digest: digest(n) },
  trigger: 'auto',
  state,
  finished: true,
  journal: [],
  createdAt: `2026-01-01T00:00:0${id.length}.000Z`,
  updatedAt: `2026-01-01T00:01:0${id.length}.000Z`,
});

describe('releases to choose from', () => {
  const deploys = [
    deploy('d5', 'v3', 3, 'rolled-back'),
    deploy('d4', 'v2', 2, 'succeeded'),
    deploy('d3', 'v2', 2, 'succeeded'),
    deploy('d2', 'v1', 1, 'succeeded'),
    deploy('d1', 'v0', 9, 'failed'),
  ];

  it('lists successful releases once each, newest first', () => {
    expect(provenReleases(deploys).map((r) => r.tag)).toEqual(['v2', 'v1']);
  });

  it('rolls back to the newest success that does not run now', () => {
    expect(rollbackTarget(deploys, { tag: 'v2', digest: digest(2) })?.tag).toBe('v1');
    expect(rollbackTarget(deploys, null)?.tag).toBe('v2');
    expect(rollbackTarget(deploys.slice(0, 2), { tag: 'v2', digest: digest(2) })).toBeUndefined();
  });
});
