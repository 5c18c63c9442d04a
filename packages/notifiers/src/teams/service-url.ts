import {
  readQuery,
  type ServiceUrlOptions,
  ServiceUrlProblem,
  titleTemplateParam,
  urlSecrets,
} from '../_service-url.ts';
import { retiredTeamsHosts } from './options.ts';

/**
 * Shoutrrr's Teams URLs as the maintained fork writes them since v0.16: `teams://?host=<percent-encoded
 * workflow URL>&title=`. The connector forms of containrrr/shoutrrr and older fork versions
 * (`teams://<group>@<tenant>/<altId>/<groupOwner>…`) point at Office 365 connectors, which Microsoft
 * retired: they are refused with what to do instead.
 */
export function teamsFromServiceUrl(url: URL): ServiceUrlOptions {
  const query = readQuery(
    url,
    { host: 'use', title: 'use', color: { ignored: 'the colour shows the outcome' } },
    'teams',
  );
  const host = query.get('host');
  const connector =
    url.username !== '' || url.hostname !== '' || (host !== undefined && retiredTeamsHosts.test(host));
  if (connector) {
    throw new ServiceUrlProblem(
      'points at an Office 365 connector webhook, which Microsoft retired: create a Workflows webhook ("Post to a channel when a webhook request is received") and use teams://?host=<its URL, percent-encoded>',
    );
  }
  if (host === undefined || !/^https?:\/\//i.test(host) || !URL.canParse(host)) {
    throw new ServiceUrlProblem(
      'must be teams://?host=<the https:// URL of a Teams workflow, percent-encoded>',
    );
  }
  const workflow = new URL(host);
  const titleTemplate = titleTemplateParam(query.get('title'));
  return {
    options: { url: workflow.href, ...(titleTemplate ? { titleTemplate } : {}) },
    secrets: urlSecrets(workflow.href, workflow.searchParams.get('sig') ?? undefined),
  };
}
