import {
  decode,
  type ServiceUrlOptions,
  ServiceUrlProblem,
  titleTemplateParam,
  urlSecrets,
  webScheme,
  yesNo,
} from '../_service-url.ts';

/** The query parameters Shoutrrr's generic service consumes; others are passed on to the target. */
const reserved = new Set([
  'template',
  'titlekey',
  'messagekey',
  'contenttype',
  'method',
  'disabletls',
  'title',
]);

/**
 * Shoutrrr's generic webhook URLs: `generic://host[:port]/path?template=json&titlekey=&messagekey=&contenttype=&method=&disabletls=yes&@Header=value&$extra=value`,
 * or `generic+https://host/path?…`. Parameters it does not consume are passed on in the target's
 * query; `_name` passes on a reserved `name`. A user and password become Basic auth.
 */
export function genericFromServiceUrl(url: URL): ServiceUrlOptions {
  const plus = /^generic\+(https?):$/.exec(url.protocol);
  const params = new Map<string, string>();
  const headers: Record<string, string> = {};
  const extraData: Record<string, string> = Object.create(null);
  const forwarded = new URLSearchParams();
  for (const [name, value] of url.searchParams) {
    if (name.startsWith('@')) headers[name.slice(1)] = value;
    else if (name.startsWith('$')) extraData[name.slice(1)] = value;
    else if (reserved.has(name.toLowerCase())) params.set(name.toLowerCase(), value);
    else forwarded.append(name.startsWith('_') ? name.slice(1) : name, value);
  }
  if (url.host === '') throw new ServiceUrlProblem('must be generic://<host>[:port]/<path>');
  const scheme = plus
    ? (plus[1] as 'http' | 'https')
    : webScheme({ disableTls: yesNo(params.get('disabletls'), 'disabletls') });
  const template = params.get('template')?.toLowerCase();
  if (template !== undefined && template !== 'json' && template !== '')
    throw new ServiceUrlProblem('parameter template must be json (or left out for plain text)');
  const method = params.get('method')?.toUpperCase();
  if (method !== undefined && !['POST', 'PUT', 'PATCH'].includes(method))
    throw new ServiceUrlProblem('parameter method must be POST, PUT or PATCH');
  const user = decode(url.username);
  const password = decode(url.password);
  if (user || password)
    headers.Authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const target = `${scheme}://${url.host}${url.pathname}${forwarded.size > 0 ? `?${forwarded}` : ''}`;
  const titleTemplate = titleTemplateParam(params.get('title'));
  return {
    options: {
      url: target,
      ...(template === 'json' ? { template: 'json' } : {}),
      ...(method ? { method } : {}),
      ...(params.get('titlekey') ? { titleKey: params.get('titlekey') } : {}),
      ...(params.get('messagekey') ? { messageKey: params.get('messagekey') } : {}),
      ...(params.get('contenttype') ? { contentType: params.get('contenttype') } : {}),
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      ...(Object.keys(extraData).length > 0 ? { extraData: { ...extraData } } : {}),
      ...(titleTemplate ? { titleTemplate } : {}),
    },
    secrets: urlSecrets(password, ...forwarded.values(), ...Object.values(headers)),
  };
}
