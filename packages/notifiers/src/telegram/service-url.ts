import {
  decode,
  listParam,
  readQuery,
  type ServiceUrlOptions,
  ServiceUrlProblem,
  titleTemplateParam,
  urlSecrets,
  yesNo,
} from '../_service-url.ts';

/**
 * Shoutrrr's Telegram URLs: `telegram://<token>@telegram?chats=@channel,-1001234567890:<thread>&notification=no&preview=no&title=`
 * (`channels` is an alias of `chats`; the token's `:` makes it user:password). `parsemode` is
 * accepted and ignored: messages are always HTML, escaped.
 */
export function telegramFromServiceUrl(url: URL): ServiceUrlOptions {
  const query = readQuery(
    url,
    {
      chats: 'use',
      channels: 'use',
      notification: 'use',
      preview: 'use',
      title: 'use',
      parsemode: { ignored: 'messages are HTML, with everything from outside escaped' },
    },
    'telegram',
  );
  const token = `${decode(url.username)}:${decode(url.password)}`;
  if (url.hostname !== 'telegram' || url.username === '' || url.password === '')
    throw new ServiceUrlProblem('must be telegram://<bot token>@telegram?chats=<chat ids or @channels>');
  const chats = listParam(query.get('chats') ?? query.get('channels'));
  if (!chats) throw new ServiceUrlProblem('needs chats=<chat ids or @channels>');
  const notification = yesNo(query.get('notification'), 'notification');
  const preview = yesNo(query.get('preview'), 'preview');
  const titleTemplate = titleTemplateParam(query.get('title'));
  return {
    options: {
      token,
      chats,
      ...(notification === false ? { silent: true } : {}),
      ...(preview === undefined ? {} : { preview }),
      ...(titleTemplate ? { titleTemplate } : {}),
    },
    secrets: urlSecrets(token, decode(url.password)),
  };
}
