import * as v from 'valibot';
import { channelOptionEntries, webUrl } from '../_options.ts';

export const slackNotifierOptions = v.strictObject({
  url: webUrl(
    'The incoming webhook URL, https://hooks.slack.com/services/T…/B…/… (a secret: never logged, never in errors).',
  ),
  username: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1),
      v.description("Sender name (legacy webhooks only; an app's webhook uses the app's)."),
    ),
  ),
  iconEmoji: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^:[\w+-]+:$/, 'must be an emoji code such as :rocket:'),
      v.description('Sender icon as an emoji code (legacy webhooks only).'),
    ),
  ),
  iconUrl: v.optional(v.pipe(webUrl('Sender icon as an image URL (legacy webhooks only).'))),
  threadTs: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d+\.\d+$/, 'must be a message timestamp such as 1767225600.000100'),
      v.description('Post into this thread.'),
    ),
  ),
  ...channelOptionEntries,
});

export type SlackNotifierOptions = v.InferInput<typeof slackNotifierOptions>;
