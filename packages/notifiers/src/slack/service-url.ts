import {
  decode,
  readQuery,
  type ServiceUrlOptions,
  ServiceUrlProblem,
  titleTemplateParam,
  urlSecrets,
} from '../_service-url.ts';

const hooks = 'https://hooks.slack.com/services';

/**
 * Shoutrrr's Slack URLs: `slack://hook:<T>-<B>-<secret>@webhook?botname=&icon=&color=&title=&thread_ts=`,
 * and the legacy `slack://[botname@]<T>/<B>/<secret>` Watchtower documents. The bot-token form
 * (`slack://xoxb:<token>@<channel>`) posts through Slack's Web API, which Docker Watcher does not use.
 */
export function slackFromServiceUrl(url: URL): ServiceUrlOptions {
  const query = readQuery(
    url,
    {
      botname: 'use',
      icon: 'use',
      title: 'use',
      thread_ts: 'use',
      color: { ignored: 'the colour shows the outcome' },
    },
    'slack',
  );
  const user = decode(url.username);
  const password = decode(url.password);
  let parts: string[];
  let botname = query.get('botname');
  if (user === 'hook' && url.hostname === 'webhook') {
    parts = password.split('-');
  } else if (/^xox[abpe]$/.test(user)) {
    throw new ServiceUrlProblem(
      'slack:// URLs with a bot token (xoxb:…) are not supported: create an incoming webhook and use slack://hook:<T>-<B>-<secret>@webhook',
    );
  } else {
    // Legacy: slack://[botname@]T/B/secret.
    parts = [
      url.hostname,
      ...url.pathname
        .split('/')
        .filter((part) => part !== '')
        .map(decode),
    ];
    if (user !== '') botname ??= user;
  }
  if (parts.length !== 3 || parts.some((part) => !/^[\w-]+$/.test(part))) {
    throw new ServiceUrlProblem('must name the webhook as slack://hook:<T…>-<B…>-<secret>@webhook');
  }
  const [team, bot, secret] = parts as [string, string, string];
  const icon = query.get('icon');
  const titleTemplate = titleTemplateParam(query.get('title'));
  return {
    options: {
      url: `${hooks}/${team}/${bot}/${secret}`,
      ...(botname ? { username: botname } : {}),
      ...(icon
        ? /^https?:/.test(icon)
          ? { iconUrl: icon }
          : { iconEmoji: icon.startsWith(':') ? icon : `:${icon}:` }
        : {}),
      ...(query.get('thread_ts') ? { threadTs: query.get('thread_ts') } : {}),
      ...(titleTemplate ? { titleTemplate } : {}),
    },
    secrets: urlSecrets(secret, `${team}-${bot}-${secret}`),
  };
}
