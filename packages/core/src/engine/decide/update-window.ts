/**
 * An update window: the hours of the day in which a stage deploys new releases on its own, e.g.
 * `02:00-05:00` (UTC) or `22:00-04:00 Europe/Berlin` (across midnight, in a time zone). A release
 * found outside it waits for the window to open; a person's deploy does not wait.
 */
export interface UpdateWindow {
  /** Minutes after midnight the window opens, 0–1439. */
  readonly startMinute: number;
  /** Minutes after midnight it closes; before `startMinute` when it spans midnight. */
  readonly endMinute: number;
  /** IANA time zone of the hours. */
  readonly timeZone: string;
  /** As written, for people: `02:00–05:00` plus the zone when not UTC. */
  readonly text: string;
}

const windowPattern = /^([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]|24):([0-5]\d)(?:\s+(\S{1,64}))?$/;

/** Whether the runtime knows the time zone (`Intl` throws a RangeError for one it does not). */
function knownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const hhmm = (minute: number) =>
  `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;

/**
 * Reads `HH:MM-HH:MM`, optionally followed by a space and an IANA time zone (UTC by default).
 * Returns the problem, in words, when the text is no window. The text is data: matched, never run.
 */
export function parseUpdateWindow(
  text: string,
): { readonly window: UpdateWindow } | { readonly problem: string } {
  const match = windowPattern.exec(text.trim());
  if (!match)
    return {
      problem:
        'expected hours such as 02:00-05:00, optionally followed by a time zone (02:00-05:00 Europe/Berlin)',
    };
  const startMinute = Number(match[1]) * 60 + Number(match[2]);
  const endMinute = (Number(match[3]) * 60 + Number(match[4])) % 1440;
  if (Number(match[3]) === 24 && match[4] !== '00') return { problem: 'hours go up to 24:00' };
  if (startMinute === endMinute) return { problem: 'the window opens and closes at the same minute' };
  const timeZone = match[5] ?? 'UTC';
  if (!knownZone(timeZone)) return { problem: `unknown time zone ${JSON.stringify(timeZone)}` };
  const zone = timeZone === 'UTC' ? '' : ` ${timeZone}`;
  return {
    window: { startMinute, endMinute, timeZone, text: `${hhmm(startMinute)}–${hhmm(endMinute)}${zone}` },
  };
}

/** Seconds after midnight at `now`, on the wall clock of `zone`. */
function wallSeconds(now: number, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(now));
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return part('hour') * 3600 + part('minute') * 60 + part('second');
}

/**
 * Whether `now` is inside the window, and else when it opens next (ms since the epoch). Across a
 * daylight-saving change the opening may be off by the change; the engine then looks again then,
 * and waits for the rest.
 */
export function updateWindowAt(
  window: UpdateWindow,
  now: number,
): { readonly open: true } | { readonly open: false; readonly opensAt: number } {
  const seconds = wallSeconds(now, window.timeZone);
  const start = window.startMinute * 60;
  const end = window.endMinute * 60;
  const open = start < end ? seconds >= start && seconds < end : seconds >= start || seconds < end;
  if (open) return { open: true };
  const wait = (start - seconds + 86_400) % 86_400;
  // Whole seconds: the wall clock's seconds drop the milliseconds of `now`.
  return { open: false, opensAt: (Math.floor(now / 1000) + wait) * 1000 };
}
