import {
  decode,
  listParam,
  readQuery,
  type ServiceUrlOptions,
  ServiceUrlProblem,
  titleTemplateParam,
  urlSecrets,
  webScheme,
  yesNo,
} from '../_service-url.ts';

/**
 * Shoutrrr's Matrix URLs: `matrix://[user]:<password or token>@host[:port]/?rooms=!id:host,%23alias:host&disableTLS=yes&title=`.
 * Without a user the password is an access token; without rooms, every joined room.
 */
export function matrixFromServiceUrl(url: URL): ServiceUrlOptions {
  const query = readQuery(url, { rooms: 'use', room: 'use', disabletls: 'use', title: 'use' }, 'matrix');
  if (url.host === '' || url.password === '')
    throw new ServiceUrlProblem('must be matrix://[user]:<password or token>@<homeserver host>');
  const user = decode(url.username);
  const secret = decode(url.password);
  const scheme = webScheme({ disableTls: yesNo(query.get('disabletls'), 'disableTLS') });
  const rooms = listParam(query.get('rooms') ?? query.get('room'));
  const titleTemplate = titleTemplateParam(query.get('title'));
  return {
    options: {
      homeserver: `${scheme}://${url.host}`,
      ...(user ? { user, password: secret } : { accessToken: secret }),
      ...(rooms ? { rooms } : {}),
      ...(titleTemplate ? { titleTemplate } : {}),
    },
    secrets: urlSecrets(secret),
  };
}
