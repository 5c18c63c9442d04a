import { describe, expect, it } from 'vitest';
import type { LogLine } from '../api/types.ts';
import { appendLines, filterLines, logText } from './log.ts';

const line = (seq: number, level: LogLine['level'], text: string): LogLine => ({
  seq,
  at: `2026-01-01T00:00:0${seq}.000Z`,
  level,
  line: text,
});

describe('the deploy log', () => {
  const lines = [
    line(1, 'info', 'pulling image'),
    line(2, 'warn', 'probe 1: 503'),
    line(3, 'error', 'Health check failed'),
  ];

  it('filters by level and text', () => {
    expect(filterLines(lines, 'warn', '').map((l) => l.seq)).toEqual([2, 3]);
    expect(filterLines(lines, 'all', 'HEALTH').map((l) => l.seq)).toEqual([3]);
    expect(filterLines(lines, 'error', 'pulling')).toEqual([]);
  });

  it('keeps each line once when a resumed stream repeats some', () => {
    expect(
      appendLines(lines.slice(0, 2), [line(2, 'warn', 'probe 1: 503'), line(3, 'error', 'x')]).map(
        (l) => l.seq,
      ),
    ).toEqual([1, 2, 3]);
  });

  it('downloads as plain text lines', () => {
    expect(logText(lines.slice(0, 2))).toBe(
      '2026-01-01T00:00:01.000Z INFO  pulling image\n2026-01-01T00:00:02.000Z WARN  probe 1: 503\n',
    );
  });
});
