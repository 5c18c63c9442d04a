import * as v from 'valibot';
import { channelOptionEntries, webUrl } from '../_options.ts';

const priority = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(5));

export const ntfyNotifierOptions = v.strictObject({
  url: v.optional(webUrl('The ntfy server, with its path when it has one.'), 'https://ntfy.sh'),
  topic: v.pipe(
    v.string(),
    v.regex(/^[-_A-Za-z0-9]{1,64}$/, 'must be a topic name: letters, digits, - and _ (at most 64)'),
    v.description('The topic to publish to.'),
  ),
  token: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1),
      v.description('An access token (tk_…), sent as a Bearer token (a secret).'),
    ),
  ),
  username: v.optional(
    v.pipe(v.string(), v.description('User for Basic auth; with an empty user the password is a token.')),
  ),
  password: v.optional(
    v.pipe(v.string(), v.minLength(1), v.description('Password for Basic auth (a secret).')),
  ),
  priority: v.optional(
    v.pipe(
      priority,
      v.description(
        'Priority of every message (1 min … 5 max); by default 4 for failures and waiting releases, 3 for successes, 2 for the rest.',
      ),
    ),
  ),
  tags: v.optional(
    v.pipe(
      v.array(v.pipe(v.string(), v.minLength(1))),
      v.description('Tags (emoji short codes) added to every message.'),
    ),
  ),
  icon: v.optional(webUrl('Notification icon (a JPEG or PNG URL).')),
  ...channelOptionEntries,
});

export type NtfyNotifierOptions = v.InferInput<typeof ntfyNotifierOptions>;
