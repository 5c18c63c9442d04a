import * as v from 'valibot';
import { channelOptionEntries, webUrl } from '../_options.ts';

export const gotifyNotifierOptions = v.strictObject({
  url: webUrl('The Gotify server, with its sub path when it has one (https://push.example.com/gotify).'),
  token: v.pipe(
    v.string(),
    v.minLength(1),
    v.description('The application token (a secret: never logged, never in errors).'),
  ),
  priority: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(0),
      v.maxValue(10),
      v.description(
        'Priority of every message (0 silent … 10); by default 8 for failures, 7 for waiting releases, 6 for warnings, 4 for successes, 2 for the rest.',
      ),
    ),
  ),
  ...channelOptionEntries,
});

export type GotifyNotifierOptions = v.InferInput<typeof gotifyNotifierOptions>;
