// The `notify` key: notification channels as Shoutrrr-style service URLs, with routes and
// templates, and the dispatcher's settings. Kept apart from the rest of the schema on purpose.
import {
  ConfigError,
  type ConfigProblem,
  type NotificationDispatcherSettings,
  type NotificationRoute,
  type NotifierDefinition,
  notificationRoute,
  parseOptions,
} from '@docker-watcher/core';
import { type NotifierChannelName, notifierChannels, parseServiceUrl } from '@docker-watcher/notifiers';
import * as v from 'valibot';
import type { ResolveContext } from './context.ts';
import { fileObject, secretEntries } from './file-form.ts';

const channelName = v.pipe(
  v.string(),
  v.regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lower-case letters, digits, - and _ (at most 63)'),
  v.description(
    'Name of the channel in logs, metrics and `docker-watcher notify test <name>`; by default its service (slack, discord, …), numbered when there are several.',
  ),
);

const template = v.strictObject({
  title: v.optional(v.pipe(v.string(), v.description('Title (mail subject); also each line of a digest.'))),
  text: v.optional(
    v.pipe(v.string(), v.description('Text of a single-event message; the facts below it stay.')),
  ),
});

const channelObject = fileObject({
  name: v.optional(channelName),
  // Secret only sometimes (ntfy://ntfy.sh/topic holds none): no warning when written in the file.
  ...secretEntries(
    'url',
    v.pipe(v.string(), v.minLength(1)),
    'Service URL in the format Shoutrrr documents (discord://token@id, ntfy://ntfy.sh/topic, smtp://…), or an https:// URL for the signed JSON webhook. Credentials in it are masked in logs, but better kept in url_env or url_file.',
    { warnPlain: false },
  ),
  events: notificationRoute.entries.events,
  projects: notificationRoute.entries.projects,
  stages: notificationRoute.entries.stages,
  routes: v.optional(
    v.pipe(
      v.array(notificationRoute),
      v.minLength(1, 'needs at least one route'),
      v.description(
        'Several routes: an event is sent when any of them lets it through (instead of events/projects/stages).',
      ),
    ),
  ),
  template: v.optional(
    v.pipe(template, v.description('Templates replacing the default title and text (see the README).')),
  ),
  options: v.optional(
    v.pipe(
      v.record(v.string(), v.unknown()),
      v.description(
        "More options of the channel, as its README names them (e.g. email's tlsCa), over what the URL says.",
      ),
    ),
  ),
});

const channelEntry = v.union([
  v.pipe(
    v.string(),
    v.description('A service URL; failures and waiting releases of every project go there.'),
  ),
  channelObject,
]);

const seconds = (description: string, min: number) =>
  v.pipe(v.number(), v.minValue(min), v.description(description));

const notifyObject = v.strictObject({
  channels: v.pipe(v.array(channelEntry), v.description('The channels.')),
  batch_window_seconds: v.optional(
    seconds(
      'Events reaching a channel within this long after a first one go out as one digest; 0 sends each at once.',
      0,
    ),
    3,
  ),
  max_queue: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.description(
        'Most messages waiting per channel; beyond it the oldest is dropped, and the channel is told what it missed.',
      ),
    ),
    1000,
  ),
  retries: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(0),
      v.description('Retries of a message a channel could not take (with backoff, or as long as it asks).'),
    ),
    10,
  ),
  timeout_seconds: v.optional(seconds('Longest one delivery may take.', 1), 30),
});

/** `notify`: a list of channels, or an object with the channels and the dispatcher's settings. */
export const notifyConfig = v.pipe(
  v.union([v.array(channelEntry), notifyObject]),
  v.description(
    'Notification channels: Slack, Discord, Teams, Telegram, ntfy, Gotify, Matrix, email, generic webhooks, as Shoutrrr-style URLs. A list of channels, or `{ channels, batch_window_seconds, max_queue, retries, timeout_seconds }`.',
  ),
);

export type NotifyConfig = v.InferOutput<typeof notifyConfig>;

/** One channel, ready to be created. */
export interface NotifyChannelSpec {
  readonly name: string;
  readonly channel: NotifierChannelName;
  readonly definition: NotifierDefinition;
  /** Validated against the channel's schema already. */
  readonly options: Record<string, unknown>;
  readonly routes: readonly NotificationRoute[];
  /** Where it is in the config file, for messages. */
  readonly path: string;
}

export interface NotifySettings {
  readonly channels: readonly NotifyChannelSpec[];
  readonly dispatcher: NotificationDispatcherSettings;
}

export interface NotifyContext extends Pick<ResolveContext, 'problem' | 'secrets' | 'origins'> {
  /** Whether the file's value at `path` already has a problem (an unset url_env, say). */
  readonly broken: (path: string) => boolean;
  /** `global.server.public_url`: messages link to the dashboard there. */
  readonly publicUrl?: string | undefined;
  /** The plan's `global.notification_url` and its secret: the signed JSON webhook. */
  readonly legacyWebhook?: { readonly url: string; readonly secret?: string | undefined } | undefined;
}

/** What the plan's `notification_url` gets: every deploy and release event, as it did before. */
const legacyWebhookEvents = [
  'deploy:started',
  'deploy:succeeded',
  'deploy:failed',
  'deploy:rolled-back',
  'deploy:awaiting-confirmation',
  'release:available',
] as const;

type ChannelEntry = v.InferOutput<typeof channelEntry>;

/** The service URL (the loader read `url_env` / `url_file` into `url` already) and where it came from. */
function urlOf(
  entry: Exclude<ChannelEntry, string>,
  path: string,
  context: NotifyContext,
): { readonly url: string; readonly path: string } | undefined {
  if (context.broken(`${path}.url`)) return undefined;
  if (entry.url === undefined) {
    context.problem(path, 'needs one of url, url_env and url_file');
    return undefined;
  }
  return { url: entry.url, path: context.origins.get(`${path}.url`)?.path ?? `${path}.url` };
}

function routesOf(
  entry: Exclude<ChannelEntry, string>,
  path: string,
  context: NotifyContext,
): NotificationRoute[] {
  const shorthand = entry.events !== undefined || entry.projects !== undefined || entry.stages !== undefined;
  if (entry.routes && shorthand)
    context.problem(`${path}.routes`, 'set routes, or events/projects/stages, not both');
  if (entry.routes) return entry.routes;
  return [
    {
      ...(entry.events ? { events: entry.events } : {}),
      ...(entry.projects ? { projects: entry.projects } : {}),
      ...(entry.stages ? { stages: entry.stages } : {}),
    },
  ];
}

/** The channel's own options: what its URL says, then `options`, templates and the public URL. */
function resolveChannel(
  entry: ChannelEntry,
  path: string,
  context: NotifyContext,
): (Omit<NotifyChannelSpec, 'name'> & { readonly name?: string }) | undefined {
  const object = typeof entry === 'string' ? { url: entry } : entry;
  const url = urlOf(object, path, context);
  if (url === undefined) return undefined;
  let parsed: ReturnType<typeof parseServiceUrl>;
  try {
    parsed = parseServiceUrl(url.url, url.path);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) context.problem(problem.path, problem.message);
    return undefined;
  }
  context.secrets.push(...parsed.secrets);
  const definition = notifierChannels[parsed.channel];
  const options: Record<string, unknown> = {
    ...parsed.options,
    ...(object.options ?? {}),
    ...(object.template?.title ? { titleTemplate: object.template.title } : {}),
    ...(object.template?.text ? { textTemplate: object.template.text } : {}),
    ...(context.publicUrl && parsed.channel !== 'webhook' ? { publicUrl: context.publicUrl } : {}),
  };
  try {
    parseOptions(definition.options, options, { path, secrets: definition.secrets });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) context.problem(problem.path, problem.message);
    return undefined;
  }
  return {
    ...(object.name ? { name: object.name } : {}),
    channel: parsed.channel,
    definition,
    options,
    routes: routesOf(object, path, context),
    path,
  };
}

/** Names channels that have none after their service, numbering repeats (`slack`, `slack-2`). */
function nameChannels(
  resolved: ReadonlyArray<Omit<NotifyChannelSpec, 'name'> & { readonly name?: string }>,
  context: NotifyContext,
): NotifyChannelSpec[] {
  const taken = new Set(resolved.flatMap((spec) => (spec.name ? [spec.name] : [])));
  const seen = new Set<string>();
  return resolved.map((spec) => {
    let name = spec.name;
    if (name === undefined) {
      name = spec.channel;
      for (let n = 2; taken.has(name); n++) name = `${spec.channel}-${n}`;
      taken.add(name);
    } else if (seen.has(name)) context.problem(`${spec.path}.name`, `another channel is named ${name}`);
    seen.add(name);
    return { ...spec, name };
  });
}

/** Turns `notify` (and the plan's `notification_url`) into channels and dispatcher settings; problems are reported, not thrown. */
export function resolveNotify(config: NotifyConfig | undefined, context: NotifyContext): NotifySettings {
  const object = Array.isArray(config) ? { channels: config } : config;
  const resolved: Array<Omit<NotifyChannelSpec, 'name'> & { readonly name?: string }> = [];
  if (context.legacyWebhook) {
    const { url, secret } = context.legacyWebhook;
    const options = { url, ...(secret ? { secret } : {}) };
    const problems: ConfigProblem[] = [];
    try {
      parseOptions(notifierChannels.webhook.options, options, {
        path: 'global.notification_url',
        secrets: ['secret'],
      });
      resolved.push({
        name: 'webhook',
        channel: 'webhook',
        definition: notifierChannels.webhook,
        options,
        routes: [{ events: [...legacyWebhookEvents] }],
        path: 'global.notification_url',
      });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
    for (const problem of problems) context.problem(problem.path, problem.message);
  }
  const base = Array.isArray(config) ? 'notify' : 'notify.channels';
  (object?.channels ?? []).forEach((entry, index) => {
    const spec = resolveChannel(entry, `${base}.${index}`, context);
    if (spec) resolved.push(spec);
  });
  const settings = Array.isArray(config) || config === undefined ? undefined : config;
  return {
    channels: nameChannels(resolved, context),
    dispatcher: {
      batchWindowMs: Math.round((settings?.batch_window_seconds ?? 3) * 1000),
      maxQueue: settings?.max_queue ?? 1000,
      retries: settings?.retries ?? 10,
      timeoutMs: Math.round((settings?.timeout_seconds ?? 30) * 1000),
      backoffMs: 1000,
      maxRetryDelayMs: 60_000,
    },
  };
}
