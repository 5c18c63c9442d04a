// Engine events as `GET /api/events` streams them: the server's own types (apps/server/src/api/events.ts).
import { streamEventTypes } from '@docker-watcher/server/client';
import type { DwEvent } from './types.ts';

export type { DwEvent };
export type DwEventType = DwEvent['type'];
export const streamedEventTypes: readonly DwEventType[] = streamEventTypes;

const known = new Set<string>(streamEventTypes);

/** An event from an SSE message's data, or `undefined` for anything else (a newer server's event). */
export function parseEvent(data: string): DwEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const type = (value as { type?: unknown }).type;
  return typeof type === 'string' && known.has(type) ? (value as DwEvent) : undefined;
}
