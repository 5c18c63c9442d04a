// Text helpers every channel shares: cutting to a service's limits and escaping for its markup.
// Everything from outside (tags, names, error messages) goes through one of the escapes.

const ellipsis = '…';

/** At most `max` characters (code points), ending in `…` when cut. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}${ellipsis}`;
}

/** At most `max` UTF-8 bytes, ending in `…` when cut, never splitting a character. */
export function truncateBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let out = '';
  let size = Buffer.byteLength(ellipsis);
  for (const char of text) {
    const next = Buffer.byteLength(char);
    if (size + next > max) break;
    out += char;
    size += next;
  }
  return `${out}${ellipsis}`;
}

/** For HTML (Telegram, Matrix, email): text is never markup. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Slack's mrkdwn: `&`, `<` and `>` are its control characters (links, mentions). */
export function escapeSlack(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Markdown as Discord and Teams render it: every formatting character is escaped with `\`. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_~|>#[\]()!-]/g, '\\$&').replace(/@/g, '@\u200b');
}

/** Whether a URL may be given to a service as a link target (http or https only). */
export function isWebUrl(url: string): boolean {
  return URL.canParse(url) && /^https?:$/.test(new URL(url).protocol);
}
