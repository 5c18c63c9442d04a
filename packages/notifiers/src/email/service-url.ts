import {
  decode,
  integerParam,
  listParam,
  readQuery,
  type ServiceUrlOptions,
  ServiceUrlProblem,
  titleTemplateParam,
  urlSecrets,
  yesNo,
} from '../_service-url.ts';

const encryptions: Record<string, 'auto' | 'none' | 'starttls' | 'tls'> = {
  auto: 'auto',
  none: 'none',
  explicittls: 'starttls',
  implicittls: 'tls',
};
const authMethods: Record<string, 'PLAIN' | 'LOGIN' | 'CRAM-MD5' | null> = {
  none: null,
  plain: 'PLAIN',
  login: 'LOGIN',
  crammd5: 'CRAM-MD5',
  unknown: 'PLAIN',
};

/**
 * Shoutrrr's SMTP URLs: `smtp://user:password@host:port/?from=&to=a@x,b@y&subject=&fromname=&auth=None|Plain|CRAMMD5|Unknown&encryption=Auto|None|ExplicitTLS|ImplicitTLS&usestarttls=yes&usehtml=no&clienthost=`
 * (`fromaddress` and `toaddresses` are the long names Watchtower documents); the fork's
 * `requirestarttls=yes` and `skiptlsverify=yes`. OAuth2 is not supported.
 */
export function emailFromServiceUrl(url: URL): ServiceUrlOptions {
  const query = readQuery(
    url,
    {
      from: 'use',
      fromaddress: 'use',
      fromname: 'use',
      to: 'use',
      toaddresses: 'use',
      subject: 'use',
      title: 'use',
      auth: 'use',
      encryption: 'use',
      usestarttls: 'use',
      requirestarttls: 'use',
      usehtml: 'use',
      clienthost: 'use',
      skiptlsverify: 'use',
      timeout: { ignored: 'the channel timeout applies' },
    },
    'smtp',
  );
  if (url.hostname === '')
    throw new ServiceUrlProblem('must be smtp://[user:password@]<host>[:port]/?from=…&to=…');
  const from = query.get('from') ?? query.get('fromaddress');
  const to = listParam(query.get('to') ?? query.get('toaddresses'));
  if (!from || !to) throw new ServiceUrlProblem('needs from=<address> and to=<addresses>');
  const rawEncryption = query.get('encryption')?.toLowerCase() ?? 'auto';
  let encryption = encryptions[rawEncryption];
  if (encryption === undefined)
    throw new ServiceUrlProblem('parameter encryption must be Auto, None, ExplicitTLS or ImplicitTLS');
  if (yesNo(query.get('requirestarttls'), 'requirestarttls')) encryption = 'starttls';
  if (yesNo(query.get('usestarttls'), 'usestarttls') === false && encryption === 'auto') encryption = 'none';
  const rawAuth = query.get('auth')?.toLowerCase();
  if (rawAuth === 'oauth2')
    throw new ServiceUrlProblem('auth=OAuth2 is not supported: use a password (an app password)');
  if (rawAuth !== undefined && !Object.hasOwn(authMethods, rawAuth))
    throw new ServiceUrlProblem('parameter auth must be None, Plain, Login, CRAMMD5 or Unknown');
  const authMethod = rawAuth === undefined ? undefined : authMethods[rawAuth];
  const username = decode(url.username);
  const password = decode(url.password);
  const port = integerParam(url.port || undefined, 'port', 1, 65_535);
  const html = yesNo(query.get('usehtml'), 'usehtml');
  const skipVerify = yesNo(query.get('skiptlsverify'), 'skiptlsverify');
  const titleTemplate = titleTemplateParam(query.get('subject') ?? query.get('title'));
  return {
    options: {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      ...(port === undefined ? {} : { port }),
      encryption,
      ...(username && authMethod !== null ? { username, ...(password ? { password } : {}) } : {}),
      ...(authMethod ? { authMethod } : {}),
      from,
      ...(query.get('fromname') ? { fromName: query.get('fromname') } : {}),
      to,
      ...(html === undefined ? {} : { html }),
      ...(query.get('clienthost') ? { clientHost: query.get('clienthost') } : {}),
      ...(skipVerify ? { tlsVerify: false } : {}),
      ...(titleTemplate ? { titleTemplate } : {}),
    },
    secrets: urlSecrets(password),
  };
}
