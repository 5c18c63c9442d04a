import * as v from 'valibot';
import { channelOptionEntries, webUrl } from '../_options.ts';

export const discordNotifierOptions = v.strictObject({
  webhookId: v.pipe(
    v.string(),
    v.regex(/^\d{5,25}$/, 'must be the numeric id of the webhook'),
    v.description('The id of the webhook (the number in its URL).'),
  ),
  token: v.pipe(
    v.string(),
    v.regex(/^[\w-]{10,200}$/, 'must be the token of the webhook (the last part of its URL)'),
    v.description('The token of the webhook (a secret: never logged, never in errors).'),
  ),
  apiUrl: v.optional(
    webUrl("Discord's API base; change it only for a proxy in between."),
    'https://discord.com/api',
  ),
  username: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1),
      v.maxLength(80),
      v.description("Sender name instead of the webhook's."),
    ),
  ),
  avatarUrl: v.optional(webUrl("Sender avatar instead of the webhook's.")),
  threadId: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{5,25}$/, 'must be the numeric id of a thread'),
      v.description('Post into this thread of a forum or channel.'),
    ),
  ),
  ...channelOptionEntries,
});

export type DiscordNotifierOptions = v.InferInput<typeof discordNotifierOptions>;
