import {
  decode,
  readQuery,
  type ServiceUrlOptions,
  ServiceUrlProblem,
  titleTemplateParam,
  urlSecrets,
} from '../_service-url.ts';

const ignoredLook = { ignored: 'the colour shows the outcome' } as const;

/**
 * Shoutrrr's Discord URLs: `discord://<token>@<webhookid>[/raw]?username=&avatar=&title=&thread_id=`
 * (Watchtower: `discord://token@channel`). Colour and splitting settings are accepted and ignored.
 */
export function discordFromServiceUrl(url: URL): ServiceUrlOptions {
  const query = readQuery(
    url,
    {
      username: 'use',
      avatar: 'use',
      avatarurl: 'use',
      title: 'use',
      thread_id: 'use',
      color: ignoredLook,
      colorerror: ignoredLook,
      colorwarn: ignoredLook,
      colorinfo: ignoredLook,
      colordebug: ignoredLook,
      splitlines: { ignored: 'each message is one embed' },
      json: { ignored: 'messages are always embeds' },
    },
    'discord',
  );
  const token = decode(url.username);
  const webhookId = url.hostname;
  if (token === '' || webhookId === '') throw new ServiceUrlProblem('must be discord://<token>@<webhook id>');
  if (url.pathname !== '' && url.pathname !== '/' && url.pathname !== '/raw')
    throw new ServiceUrlProblem('discord:// URLs have no path but /raw');
  const avatar = query.get('avatar') ?? query.get('avatarurl');
  const titleTemplate = titleTemplateParam(query.get('title'));
  return {
    options: {
      webhookId,
      token,
      ...(query.get('username') ? { username: query.get('username') } : {}),
      ...(avatar ? { avatarUrl: avatar } : {}),
      ...(query.get('thread_id') ? { threadId: query.get('thread_id') } : {}),
      ...(titleTemplate ? { titleTemplate } : {}),
    },
    secrets: urlSecrets(token),
  };
}
