import { type ChatServiceFake, loadFixture, startFakeService } from './_fake-service.ts';

export type TelegramAnswer =
  | 'ok'
  | 'unauthorized'
  | 'parse_error'
  | 'chat_not_found'
  | 'blocked'
  | 'migrated'
  | 'rate_limited';

export interface TelegramFake extends ChatServiceFake<TelegramAnswer> {
  /** The bot token (`<bot id>:<secret>`). */
  readonly token: string;
  /** Base of the Bot API as the notifier's `apiUrl` takes it. */
  readonly apiUrl: string;
  /** Chats the bot may post to. */
  readonly chats: readonly string[];
  /** A group that became a supergroup: posts to it answer `migrate_to_chat_id` -1009876543210. */
  readonly migratedChat: string;
}

const allowedTags = new Set([
  'b',
  'strong',
  'i',
  'em',
  'u',
  'ins',
  's',
  'strike',
  'del',
  'a',
  'code',
  'pre',
  'blockquote',
]);

/**
 * The text as Telegram shows it, after its HTML parse mode: only its tags, `&lt; &gt; &amp; &quot;`
 * and numeric entities; anything else is the "can't parse entities" error (`undefined`).
 */
export function telegramVisibleText(html: string): string | undefined {
  const open: string[] = [];
  let text = '';
  const token = /<(\/?)([a-z-]+)(?:\s[^>]*)?>|&(#x?[0-9a-f]+|[a-z]+);|[<>&]/gi;
  let last = 0;
  for (let match = token.exec(html); match !== null; match = token.exec(html)) {
    text += html.slice(last, match.index);
    last = match.index + match[0].length;
    const [whole, closing, tag, entity] = match;
    if (tag !== undefined) {
      const name = tag.toLowerCase();
      if (!allowedTags.has(name)) return undefined;
      if (closing) {
        if (open.pop() !== name) return undefined;
      } else open.push(name);
    } else if (entity !== undefined) {
      const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };
      if (entity.startsWith('#')) {
        const code = entity[1] === 'x' ? Number.parseInt(entity.slice(2), 16) : Number(entity.slice(1));
        text += String.fromCodePoint(code);
      } else if (Object.hasOwn(named, entity.toLowerCase())) text += named[entity.toLowerCase()];
      else return undefined;
    } else if (whole === '<' || whole === '>' || whole === '&') return undefined;
  }
  text += html.slice(last);
  return open.length === 0 ? text : undefined;
}

/**
 * Telegram's Bot API on loopback: `POST /bot<token>/sendMessage`, answered as the API documents
 * (`ok:true`; 401 for another token; 400 for an unknown chat, a migrated group, HTML it cannot
 * parse or text over 4096 characters), with scripted rate limits (`parameters.retry_after`, no header).
 */
export async function startTelegramFake(): Promise<TelegramFake> {
  const token = '123456789:AAdwTelegramSecret_0123456789abcdef';
  const chats = ['-1001234567890', '@releases'];
  const migratedChat = '-4004004004';
  const fixture = loadFixture<TelegramAnswer>('telegram');
  const fake = await startFakeService(fixture, (request) => {
    const match = /^\/bot([^/]+)\/sendMessage$/.exec(request.url.pathname);
    if (request.method !== 'POST' || !match) return { message: false, answer: fixture.answers.unauthorized };
    if (match[1] !== token) return { message: true, answer: fixture.answers.unauthorized, kept: false };
    const body = request.json as { chat_id?: unknown; text?: unknown; parse_mode?: unknown } | undefined;
    const chat = String(body?.chat_id ?? '');
    if (chat === migratedChat) return { message: true, answer: fixture.answers.migrated, kept: false };
    if (!chats.includes(chat) && chat !== '-1009876543210')
      return { message: true, answer: fixture.answers.chat_not_found, kept: false };
    const text = typeof body?.text === 'string' ? body.text : '';
    const visible = body?.parse_mode === 'HTML' ? telegramVisibleText(text) : text;
    if (visible === undefined) return { message: true, answer: fixture.answers.parse_error, kept: false };
    if (visible.trim() === '' || Array.from(visible).length > 4096)
      return {
        message: true,
        answer: {
          status: 400,
          headers: { 'content-type': 'application/json' },
          body: { ok: false, error_code: 400, description: 'Bad Request: message is too long' },
        },
        kept: false,
      };
    return { message: true, answer: fixture.answers.ok };
  });
  return Object.assign(fake, { token, apiUrl: fake.origin, chats, migratedChat });
}
