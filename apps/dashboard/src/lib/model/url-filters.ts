// The board's filters live in the URL (shareable, kept across reloads and the back button).
import type { BoardFilter } from './board.ts';

export interface BoardQuery extends BoardFilter {
  readonly page: number;
}

export function readBoardQuery(params: URLSearchParams): BoardQuery {
  const page = Number(params.get('page') ?? '1');
  return {
    search: (params.get('q') ?? '').slice(0, 200),
    attention: params.get('attention') === '1',
    page: Number.isInteger(page) && page > 0 ? page : 1,
  };
}

/** The search part of the board's URL for `query` (`''` when everything is at its default). */
export function writeBoardQuery(query: BoardQuery): string {
  const params = new URLSearchParams();
  if (query.search.trim() !== '') params.set('q', query.search);
  if (query.attention) params.set('attention', '1');
  if (query.page > 1) params.set('page', String(query.page));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** A `?next=` target that stays on this site: a path, never `//host` or a scheme. */
export function safeNext(next: string | null | undefined): string {
  if (!next?.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  if (next.startsWith('/login')) return '/';
  return next;
}
