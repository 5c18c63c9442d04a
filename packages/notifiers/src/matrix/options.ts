import * as v from 'valibot';
import { channelOptionEntries, webUrl } from '../_options.ts';

const room = v.pipe(
  v.string(),
  v.regex(/^[!#][^:\s]+:\S+$/, 'must be a room id (!abc:example.org) or alias (#deploys:example.org)'),
);

export const matrixNotifierOptions = v.pipe(
  v.strictObject({
    homeserver: webUrl('The homeserver base URL, e.g. https://matrix.example.org.'),
    accessToken: v.optional(
      v.pipe(v.string(), v.minLength(1), v.description('An access token of the sending user (a secret).')),
    ),
    user: v.optional(
      v.pipe(
        v.string(),
        v.minLength(1),
        v.description('User to log in as with `password`, instead of an access token.'),
      ),
    ),
    password: v.optional(
      v.pipe(v.string(), v.minLength(1), v.description("The user's password (a secret).")),
    ),
    rooms: v.optional(
      v.pipe(
        v.array(room),
        v.minLength(1, 'must name at least one room; leave it out for every joined room'),
        v.description(
          'Rooms to post to (joined first, which accepts an invite); every joined room when absent.',
        ),
      ),
    ),
    ...channelOptionEntries,
  }),
  v.check(
    (options) =>
      (options.accessToken !== undefined) !== (options.user !== undefined && options.password !== undefined),
    'needs accessToken, or user and password (not both)',
  ),
);

export type MatrixNotifierOptions = v.InferInput<typeof matrixNotifierOptions>;
