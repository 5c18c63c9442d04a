import {
  decode,
  integerParam,
  readQuery,
  type ServiceUrlOptions,
  ServiceUrlProblem,
  titleTemplateParam,
  urlSecrets,
  webScheme,
  yesNo,
} from '../_service-url.ts';

/**
 * Shoutrrr's Gotify URLs: `gotify://host[:port][/subpath]/<token>?title=&priority=&disabletls=yes`
 * (Watchtower: `gotify://my.gotify.tld/SuperSecretToken`). The fork's `useheader` is the only way
 * here (the token always goes in `X-Gotify-Key`); its extras and date are ignored.
 */
export function gotifyFromServiceUrl(url: URL): ServiceUrlOptions {
  const query = readQuery(
    url,
    {
      title: 'use',
      priority: 'use',
      disabletls: 'use',
      useheader: { ignored: 'the token always goes in the X-Gotify-Key header' },
      insecureskipverify: { ignored: 'TLS is always verified' },
      extras: { ignored: 'Docker Watcher sets the extras' },
      date: { ignored: 'Gotify stamps the message' },
    },
    'gotify',
  );
  const segments = url.pathname
    .split('/')
    .filter((part) => part !== '')
    .map(decode);
  const token = segments.pop();
  if (url.host === '' || token === undefined)
    throw new ServiceUrlProblem('must be gotify://<host>[/<sub path>]/<token>');
  const scheme = webScheme({ disableTls: yesNo(query.get('disabletls'), 'disabletls') });
  const priority = integerParam(query.get('priority'), 'priority', 0, 10);
  const titleTemplate = titleTemplateParam(query.get('title'));
  return {
    options: {
      url: `${scheme}://${url.host}/${segments.map(encodeURIComponent).join('/')}`,
      token,
      ...(priority === undefined ? {} : { priority }),
      ...(titleTemplate ? { titleTemplate } : {}),
    },
    secrets: urlSecrets(token),
  };
}
