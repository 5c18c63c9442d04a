import * as v from 'valibot';
import { channelOptionEntries, webUrl } from '../_options.ts';

/** Office 365 connector webhooks, retired by Microsoft at the end of 2025. */
export const retiredTeamsHosts = /(^|\.)webhook\.office\.com$|^outlook\.office(365)?\.com$/i;

export const teamsNotifierOptions = v.strictObject({
  url: v.pipe(
    webUrl(
      'The URL of a Teams workflow "When a Teams webhook request is received" (…logic.azure.com/workflows/… or …powerplatform.com/…/workflows/…), with its sig (a secret: never logged, never in errors).',
    ),
    v.check(
      (value) => !retiredTeamsHosts.test(new URL(value).hostname),
      'is an Office 365 connector webhook, which Microsoft retired: create a Workflows webhook ("Post to a channel when a webhook request is received") and use its URL',
    ),
  ),
  ...channelOptionEntries,
});

export type TeamsNotifierOptions = v.InferInput<typeof teamsNotifierOptions>;
