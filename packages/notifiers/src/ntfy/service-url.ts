import {
  decode,
  integerParam,
  listParam,
  readQuery,
  type ServiceUrlOptions,
  ServiceUrlProblem,
  titleTemplateParam,
  urlSecrets,
  webScheme,
  yesNo,
} from '../_service-url.ts';

const ignored = (why: string) => ({ ignored: why }) as const;
const priorityNames: Record<string, number> = { min: 1, low: 2, default: 3, high: 4, max: 5, urgent: 5 };

/**
 * Shoutrrr's ntfy URLs: `ntfy://[user:password@]host[:port]/<topic>?title=&priority=&tags=&icon=&scheme=http`
 * (default host ntfy.sh). The fork's `disabletls=yes` means plain HTTP too. Click, actions,
 * attachments, delay, email and caching are Docker Watcher's to decide, so they are ignored.
 */
export function ntfyFromServiceUrl(url: URL): ServiceUrlOptions {
  const query = readQuery(
    url,
    {
      title: 'use',
      priority: 'use',
      tags: 'use',
      icon: 'use',
      scheme: 'use',
      disabletls: 'use',
      click: ignored('the click opens the deploy or the approvals page'),
      actions: ignored('the action opens the deploy or the approvals page'),
      attach: ignored('messages have no attachment'),
      filename: ignored('messages have no attachment'),
      delay: ignored('messages go out at once'),
      email: ignored('use the email channel'),
      cache: ignored('the server decides'),
      firebase: ignored('the server decides'),
      markdown: ignored('messages are plain text'),
      disabletlsverification: ignored('TLS is always verified'),
    },
    'ntfy',
  );
  const segments = url.pathname
    .split('/')
    .filter((part) => part !== '')
    .map(decode);
  const topic = segments.pop();
  if (topic === undefined) throw new ServiceUrlProblem('must name a topic: ntfy://[host]/<topic>');
  const scheme = webScheme({
    scheme: query.get('scheme'),
    disableTls: yesNo(query.get('disabletls'), 'disabletls'),
  });
  const host = url.host === '' ? 'ntfy.sh' : url.host;
  const rawPriority = query.get('priority');
  const priority =
    rawPriority !== undefined && Object.hasOwn(priorityNames, rawPriority.toLowerCase())
      ? priorityNames[rawPriority.toLowerCase()]
      : integerParam(rawPriority, 'priority', 1, 5);
  const username = decode(url.username);
  const password = decode(url.password);
  const tags = listParam(query.get('tags'));
  const titleTemplate = titleTemplateParam(query.get('title'));
  return {
    options: {
      url: `${scheme}://${host}/${segments.map(encodeURIComponent).join('/')}`,
      topic,
      ...(password ? { password, ...(username ? { username } : {}) } : {}),
      ...(priority === undefined ? {} : { priority }),
      ...(tags ? { tags } : {}),
      ...(query.get('icon') ? { icon: query.get('icon') } : {}),
      ...(titleTemplate ? { titleTemplate } : {}),
    },
    secrets: urlSecrets(password),
  };
}
