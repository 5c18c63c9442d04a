import * as v from 'valibot';
import { channelOptionEntries, webUrl } from '../_options.ts';

/** A chat id (-1001234567890), a public channel (@releases), either with `:<topic thread id>`. */
const chat = v.pipe(
  v.string(),
  v.regex(
    /^(-?\d{1,20}|@[A-Za-z]\w{3,31})(:\d{1,12})?$/,
    'must be a chat id (-1001234567890) or @channelname, optionally with :<thread id>',
  ),
);

export const telegramNotifierOptions = v.strictObject({
  token: v.pipe(
    v.string(),
    v.regex(/^\d{3,20}:[\w-]{20,}$/, 'must be a bot token as @BotFather gives it (<bot id>:<secret>)'),
    v.description('The bot token (a secret: never logged, never in errors).'),
  ),
  chats: v.pipe(
    v.array(chat),
    v.minLength(1, 'must name at least one chat'),
    v.description('Chats the bot posts to; the bot must be a member.'),
  ),
  apiUrl: v.optional(
    webUrl('Bot API base: a self-hosted Bot API server, or a proxy.'),
    'https://api.telegram.org',
  ),
  silent: v.optional(v.pipe(v.boolean(), v.description('Deliver without a sound.')), false),
  preview: v.optional(v.pipe(v.boolean(), v.description('Show a preview of the dashboard link.')), false),
  ...channelOptionEntries,
});

export type TelegramNotifierOptions = v.InferInput<typeof telegramNotifierOptions>;
