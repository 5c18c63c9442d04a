import { ConfigError, type NotifierDefinition, webhookNotifier } from '@docker-watcher/core';
import { type ServiceUrlOptions, ServiceUrlProblem } from './_service-url.ts';
import { discordNotifier } from './discord/discord-notifier.ts';
import { discordFromServiceUrl } from './discord/service-url.ts';
import { emailNotifier } from './email/email-notifier.ts';
import { emailFromServiceUrl } from './email/service-url.ts';
import { genericNotifier } from './generic/generic-notifier.ts';
import { genericFromServiceUrl } from './generic/service-url.ts';
import { gotifyNotifier } from './gotify/gotify-notifier.ts';
import { gotifyFromServiceUrl } from './gotify/service-url.ts';
import { matrixNotifier } from './matrix/matrix-notifier.ts';
import { matrixFromServiceUrl } from './matrix/service-url.ts';
import { ntfyNotifier } from './ntfy/ntfy-notifier.ts';
import { ntfyFromServiceUrl } from './ntfy/service-url.ts';
import { slackFromServiceUrl } from './slack/service-url.ts';
import { slackNotifier } from './slack/slack-notifier.ts';
import { teamsFromServiceUrl } from './teams/service-url.ts';
import { teamsNotifier } from './teams/teams-notifier.ts';
import { telegramFromServiceUrl } from './telegram/service-url.ts';
import { telegramNotifier } from './telegram/telegram-notifier.ts';

// Each definition's `create` takes its own options type; the table hands it only what its schema parsed.
const anyOptions = (definition: unknown) => definition as NotifierDefinition;

/** Every channel by name, with the generic signed webhook of core as `webhook`. */
export const notifierChannels = {
  slack: anyOptions(slackNotifier),
  discord: anyOptions(discordNotifier),
  teams: anyOptions(teamsNotifier),
  telegram: anyOptions(telegramNotifier),
  ntfy: anyOptions(ntfyNotifier),
  gotify: anyOptions(gotifyNotifier),
  matrix: anyOptions(matrixNotifier),
  email: anyOptions(emailNotifier),
  generic: anyOptions(genericNotifier),
  webhook: anyOptions(webhookNotifier),
} as const;

export type NotifierChannelName = keyof typeof notifierChannels;

interface Scheme {
  readonly channel: NotifierChannelName;
  readonly parse: (url: URL) => ServiceUrlOptions;
}

const schemes: ReadonlyMap<string, Scheme> = new Map<string, Scheme>([
  ['slack', { channel: 'slack', parse: slackFromServiceUrl }],
  ['discord', { channel: 'discord', parse: discordFromServiceUrl }],
  ['teams', { channel: 'teams', parse: teamsFromServiceUrl }],
  ['telegram', { channel: 'telegram', parse: telegramFromServiceUrl }],
  ['ntfy', { channel: 'ntfy', parse: ntfyFromServiceUrl }],
  ['gotify', { channel: 'gotify', parse: gotifyFromServiceUrl }],
  ['matrix', { channel: 'matrix', parse: matrixFromServiceUrl }],
  ['smtp', { channel: 'email', parse: emailFromServiceUrl }],
  ['generic', { channel: 'generic', parse: genericFromServiceUrl }],
  ['generic+http', { channel: 'generic', parse: genericFromServiceUrl }],
  ['generic+https', { channel: 'generic', parse: genericFromServiceUrl }],
  // A plain URL is the signed JSON webhook of the original plan (`notification_url`).
  [
    'http',
    { channel: 'webhook', parse: (url) => ({ options: { url: url.href }, secrets: webhookSecrets(url) }) },
  ],
  [
    'https',
    { channel: 'webhook', parse: (url) => ({ options: { url: url.href }, secrets: webhookSecrets(url) }) },
  ],
]);

/** Shoutrrr services Docker Watcher has no channel for, named so the error can say so. */
const otherShoutrrrServices = [
  'bark',
  'googlechat',
  'hangouts',
  'ifttt',
  'join',
  'lark',
  'mattermost',
  'opsgenie',
  'pushbullet',
  'pushover',
  'rocketchat',
  'signal',
  'wecom',
  'zulip',
];

function webhookSecrets(url: URL): string[] {
  return [...url.searchParams.values(), url.search.slice(1)].filter((value) => value.length >= 4);
}

/** A service URL read: which channel, its options, and the secret values in it (for redaction). */
export interface ParsedServiceUrl {
  readonly channel: NotifierChannelName;
  readonly options: Record<string, unknown>;
  readonly secrets: readonly string[];
}

/**
 * Reads a notification URL in the format Shoutrrr documents (`discord://token@id`,
 * `ntfy://ntfy.sh/topic`, `smtp://…`), so a Watchtower user's URLs work as they are; a plain
 * `https://` URL is the generic signed webhook. Problems are a `ConfigError` at `path`, never
 * quoting the URL, which holds credentials.
 */
export function parseServiceUrl(text: string, path = 'url'): ParsedServiceUrl {
  const fail = (message: string): never => {
    throw new ConfigError([{ path, message }], { subject: 'notification URL' });
  };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text.trim())?.[1]?.toLowerCase();
  if (scheme === undefined || !URL.canParse(text.trim()))
    return fail('is not a URL, e.g. discord://<token>@<webhook id>');
  const entry = schemes.get(scheme);
  if (entry === undefined) {
    const known = [...schemes.keys()].join(', ');
    return fail(
      otherShoutrrrServices.includes(scheme)
        ? `${scheme}:// is a Shoutrrr service Docker Watcher has no channel for; use generic:// with its webhook URL, or one of: ${known}`
        : `unknown service ${scheme}://; one of: ${known}`,
    );
  }
  try {
    const parsed = entry.parse(new URL(text.trim()));
    return { channel: entry.channel, ...parsed };
  } catch (error) {
    if (error instanceof ServiceUrlProblem) return fail(`${scheme}:// URL ${error.message}`);
    throw error;
  }
}
