// The deploy log viewer's filtering and download, as plain functions.
import type { LogLine } from '../api/types.ts';

export type LevelFilter = 'all' | 'info' | 'warn' | 'error';

const rank: Readonly<Record<LogLine['level'], number>> = { debug: 0, info: 1, warn: 2, error: 3 };
const minimum: Readonly<Record<LevelFilter, number>> = { all: 0, info: 1, warn: 2, error: 3 };

/** Lines at or above a level that contain `text` (case-insensitive). */
export function filterLines(lines: readonly LogLine[], level: LevelFilter, text: string): LogLine[] {
  const needle = text.trim().toLowerCase();
  return lines.filter(
    (line) =>
      rank[line.level] >= minimum[level] && (needle === '' || line.line.toLowerCase().includes(needle)),
  );
}

/** The log as a text file: one `time level line` row per line. */
export function logText(lines: readonly LogLine[]): string {
  return (
    lines.map((line) => `${line.at} ${line.level.toUpperCase().padEnd(5)} ${line.line}`).join('\n') +
    (lines.length ? '\n' : '')
  );
}

/** Adds lines that are new (by sequence number), keeping order: a resumed stream may repeat some. */
export function appendLines(lines: readonly LogLine[], incoming: readonly LogLine[]): LogLine[] {
  let last = lines.at(-1)?.seq ?? 0;
  const out = [...lines];
  for (const line of incoming) {
    if (line.seq <= last) continue;
    out.push(line);
    last = line.seq;
  }
  return out;
}
