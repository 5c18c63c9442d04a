import { describe, expect, it } from 'vitest';
import { between, duration, relativeTime, shortDigest } from './format.ts';

describe('formatting', () => {
  it('shortens digests to 12 hex digits', () => {
    expect(shortDigest(`sha256:${'ab'.repeat(32)}`)).toBe('abababababab');
  });

  it('words times relative to now', () => {
    const now = Date.parse('2026-01-01T12:00:00.000Z');
    expect(relativeTime('2026-01-01T11:59:58.000Z', now)).toBe('just now');
    expect(relativeTime('2026-01-01T11:59:30.000Z', now)).toBe('30 s ago');
    expect(relativeTime('2026-01-01T11:55:00.000Z', now)).toBe('5 min ago');
    expect(relativeTime('2026-01-01T09:00:00.000Z', now)).toBe('3 h ago');
    expect(relativeTime('2025-12-30T12:00:00.000Z', now)).toBe('2 d ago');
    expect(relativeTime('2026-01-01T12:02:00.000Z', now)).toBe('in 2 min');
    expect(relativeTime('not a time', now)).toBe('');
  });

  it('words durations', () => {
    expect(duration(850)).toBe('850 ms');
    expect(duration(4_200)).toBe('4.2 s');
    expect(duration(185_000)).toBe('3 min 05 s');
    expect(duration(7_800_000)).toBe('2 h 10 min');
    expect(between('2026-01-01T00:00:00.000Z', '2026-01-01T00:00:02.500Z')).toBe('2.5 s');
    expect(between(undefined, undefined)).toBe('');
  });
});
