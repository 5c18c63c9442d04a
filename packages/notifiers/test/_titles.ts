// Reading a message's title back from what each service received, undoing the channel's escaping.

type Json = Record<string, never>;
const at = (value: unknown, ...path: Array<string | number>): unknown =>
  path.reduce<unknown>((node, key) => (node as Record<string | number, unknown> | undefined)?.[key], value);

const unescapeHtml = (text: string) =>
  text
    .replace(/<[^>]+>/g, '')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&amp;', '&');
const unescapeMarkdown = (text: string) => text.replace(/\\(.)/g, '$1').replaceAll('@\u200b', '@');

export const titleOf = {
  slack: (body: Json) =>
    unescapeHtml(
      String(at(body, 'attachments', 0, 'blocks', 0, 'text', 'text'))
        .split('\n')[0]
        ?.replace(/^\*|\*$/g, '') ?? '',
    ),
  discord: (body: Json) => String(at(body, 'embeds', 0, 'title')),
  teams: (body: Json) => unescapeMarkdown(String(at(body, 'attachments', 0, 'content', 'body', 0, 'text'))),
  // `<b>✅ title</b>`: the mark before the first space goes.
  telegram: (body: Json) => unescapeHtml(String(body.text).split('\n')[0] ?? '').replace(/^\S+ /, ''),
  ntfy: (body: Json) => String(body.title),
  gotify: (body: Json) => String(body.title),
  matrix: (body: Json) => String(body.body).split('\n\n')[0] ?? '',
};

/** The Subject of a raw mail (folded lines joined; RFC 2047 words are not expected in tests). */
export function subjectOf(raw: string): string {
  const headers = raw.split(/\r?\n\r?\n/)[0] ?? '';
  const unfolded = headers.replace(/\r?\n[ \t]+/g, ' ');
  return /^Subject: (.*)$/im.exec(unfolded)?.[1]?.trim() ?? '';
}
