// How times, durations and digests read on screen.

/** `sha256:3f2a…` → `3f2a9c1b4d5e` (the first 12 hex digits, as `docker images` shows them). */
export function shortDigest(digest: string): string {
  const hex = digest.startsWith('sha256:') ? digest.slice('sha256:'.length) : digest;
  return hex.slice(0, 12);
}

/** `3 s ago`, `5 min ago`, `2 h ago`, `4 d ago` (`in 2 min` for the future). */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return '';
  const seconds = Math.round((now - at) / 1000);
  const span = Math.abs(seconds);
  const text =
    span < 60
      ? `${span} s`
      : span < 3600
        ? `${Math.floor(span / 60)} min`
        : span < 86_400
          ? `${Math.floor(span / 3600)} h`
          : `${Math.floor(span / 86_400)} d`;
  if (span < 5) return 'just now';
  return seconds >= 0 ? `${text} ago` : `in ${text}`;
}

/** `850 ms`, `4.2 s`, `3 min 05 s`, `2 h 10 min`. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** From one ISO time to another (or to now), formatted; `''` when either is missing. */
export function between(from: string | undefined, to: string | undefined, now: number = Date.now()): string {
  if (!from) return '';
  const start = Date.parse(from);
  const end = to ? Date.parse(to) : now;
  return Number.isNaN(start) || Number.isNaN(end) ? '' : duration(end - start);
}

/** `2026-11-23 23:19:04` in the viewer's time zone, for titles and tables. */
export function timestamp(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** `14:03:22.481` for log lines. */
export function clockTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}
