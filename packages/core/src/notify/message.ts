import type { NotifiableEventName, NotificationDigest, NotificationEvent } from '../contracts/notifier.ts';
import type { Release } from '../contracts/release.ts';
import type { NotificationTemplate, TemplateValues } from './template.ts';

/** What kind of news a message is: channels colour it (`toneColors`) or pick an emoji from it. */
export type MessageTone = 'success' | 'failure' | 'warning' | 'info' | 'action';

/** One colour per tone, as `#rrggbb`, shared by every channel that has colours. */
export const toneColors: Readonly<Record<MessageTone, string>> = Object.freeze({
  success: '#2eb67d',
  failure: '#e01e5a',
  warning: '#ecb22e',
  info: '#36c5f0',
  action: '#7c5cfc',
});

export interface MessageField {
  readonly label: string;
  readonly value: string;
}

export interface MessageLink {
  readonly label: string;
  readonly url: string;
}

/** One event of a digest, in a line. */
export interface MessageItem {
  readonly tone: MessageTone;
  readonly title: string;
  readonly link?: MessageLink;
}

/**
 * A notification as channels render it: plain text throughout (each channel escapes it for its
 * markup), the same facts for every channel.
 */
export interface NotificationMessage {
  readonly tone: MessageTone;
  readonly title: string;
  /** A sentence or two. */
  readonly text: string;
  /** Project, stage, tag, short digest, previous release, duration, reason: what the event has. */
  readonly fields: readonly MessageField[];
  /** The dashboard page to open: the deploy, or the approvals page (never a URL that acts on GET). */
  readonly link?: MessageLink;
  /** For a digest: one line per event. */
  readonly items?: readonly MessageItem[];
  /** The event types the message tells of. */
  readonly types: readonly NotifiableEventName[];
}

export interface DescribeOptions {
  /** Where people reach the dashboard, e.g. `https://deploy.example.com`; no links without it. */
  readonly publicUrl?: string;
  /** Replace the default title and text of single-event messages (and the lines of digests). */
  readonly templates?: { readonly title?: NotificationTemplate; readonly text?: NotificationTemplate };
}

/** `sha256:<64 hex>` -> `sha256:<first 12 hex>`. */
export function shortDigest(digest: string): string {
  const colon = digest.indexOf(':');
  return colon === -1 ? digest.slice(0, 12) : digest.slice(0, colon + 13);
}

/** `840 ms`, `1.8 s`, `2 min 3 s`, `1 h 5 min`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(Math.round(ms / 100) / 10).toString()} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

const releaseText = (release: Release) => `${release.tag} (${shortDigest(release.digest)})`;

/** A dashboard URL under `publicUrl` (which may have a path prefix). */
function dashboardUrl(publicUrl: string | undefined, path: string): string | undefined {
  if (publicUrl === undefined || !URL.canParse(publicUrl)) return undefined;
  const base = new URL(publicUrl);
  if (!base.pathname.endsWith('/')) base.pathname = `${base.pathname}/`;
  return new URL(path, base).href;
}

function linkOf(event: NotificationEvent, publicUrl: string | undefined): MessageLink | undefined {
  let label: string;
  let url: string | undefined;
  if (event.type === 'deploy:awaiting-confirmation') {
    label = 'Review approval';
    url = dashboardUrl(publicUrl, 'approvals');
  } else if ('deployId' in event) {
    label = 'Open deploy';
    url = dashboardUrl(publicUrl, `deploys/${encodeURIComponent(event.deployId)}`);
  } else if (event.type === 'release:available') {
    label = 'Open dashboard';
    url = dashboardUrl(publicUrl, '');
  } else return undefined;
  return url === undefined ? undefined : { label, url };
}

interface Facts {
  readonly tone: MessageTone;
  readonly title: string;
  readonly text: string;
  readonly fields: MessageField[];
}

const field = (label: string, value: string | undefined): MessageField[] =>
  value === undefined || value === '' ? [] : [{ label, value }];

const stageFields = (event: { project: string; stage: string }, release: Release) => [
  ...field('Project', event.project),
  ...field('Stage', event.stage),
  ...field('Tag', release.tag),
  ...field('Digest', shortDigest(release.digest)),
];

const durationText = (ms: number | undefined) => (ms === undefined ? undefined : formatDuration(ms));

/** Title, text and fields of one event, before templates. */
function factsOf(event: NotificationEvent): Facts {
  switch (event.type) {
    case 'deploy:started': {
      const who = event.by ? ` by ${event.by}` : '';
      return {
        tone: 'info',
        title: `${event.project}/${event.stage}: deploying ${event.release.tag}`,
        text: `Deploying ${event.release.tag} to ${event.stage} of ${event.project}${event.previous ? `, replacing ${event.previous.tag}` : ''} (${event.trigger}${who}).`,
        fields: [
          ...stageFields(event, event.release),
          ...field('Previous', event.previous && releaseText(event.previous)),
          ...field('Trigger', event.trigger),
          ...field('By', event.by),
        ],
      };
    }
    case 'deploy:succeeded': {
      const duration = durationText(event.durationMs);
      return {
        tone: 'success',
        title: `${event.project}/${event.stage}: ${event.release.tag} deployed`,
        text: `${event.release.tag} is live in ${event.stage} of ${event.project}${duration ? ` after ${duration}` : ''}.`,
        fields: [
          ...stageFields(event, event.release),
          ...field('Previous', event.previous && releaseText(event.previous)),
          ...field('Duration', duration),
        ],
      };
    }
    case 'deploy:failed':
      return {
        tone: 'failure',
        title: `${event.project}/${event.stage}: ${event.release.tag} failed`,
        text: `Deploying ${event.release.tag} to ${event.stage} of ${event.project} failed: ${event.error.message}`,
        fields: [
          ...stageFields(event, event.release),
          ...field('Previous', event.previous && releaseText(event.previous)),
          ...field('Duration', durationText(event.durationMs)),
          ...field('Error', `${event.error.code}: ${event.error.message}`),
        ],
      };
    case 'deploy:rolled-back':
      return {
        tone: 'warning',
        title: `${event.project}/${event.stage}: ${event.release.tag} rolled back`,
        text: `${event.release.tag} was rolled back in ${event.stage} of ${event.project}${event.restored ? `; ${event.restored.tag} serves again` : ''}: ${event.reason}`,
        fields: [
          ...stageFields(event, event.release),
          ...field('Restored', event.restored && releaseText(event.restored)),
          ...field('Duration', durationText(event.durationMs)),
          ...field('Reason', event.reason),
        ],
      };
    case 'deploy:awaiting-confirmation':
      return {
        tone: 'action',
        title: `${event.project}/${event.stage}: ${event.release.tag} awaits approval`,
        text: `${event.release.tag} is ready for ${event.stage} of ${event.project} and waits for a person to approve it${event.current ? ` (${event.current.tag} runs now)` : ''}.`,
        fields: [
          ...stageFields(event, event.release),
          ...field('Running now', event.current && releaseText(event.current)),
        ],
      };
    case 'release:available':
      return {
        tone: 'action',
        title: `${event.project}/${event.stage}: ${event.release.tag} available`,
        text: `${event.release.tag} may be deployed to ${event.stage} of ${event.project}, which deploys by hand${event.current ? ` (${event.current.tag} runs now)` : ''}: ${event.reason}`,
        fields: [
          ...stageFields(event, event.release),
          ...field('Running now', event.current && releaseText(event.current)),
          ...field('Reason', event.reason),
        ],
      };
    case 'adapter:error':
      return {
        tone: 'warning',
        title: `${event.adapterId}: ${event.operation} failed`,
        text: `${event.adapterId} failed to ${event.operation}: ${event.error.message}`,
        fields: [
          ...field('Adapter', event.adapterId),
          ...field('Operation', event.operation),
          ...field('Error', `${event.error.code}: ${event.error.message}`),
        ],
      };
    case 'engine:leadership':
      return {
        tone: 'info',
        title: `${event.holder} ${event.leader ? 'leads now' : 'stopped leading'}`,
        text: event.leader
          ? `Replica ${event.holder} polls the registries now.`
          : `Replica ${event.holder} no longer polls the registries.`,
        fields: [...field('Replica', event.holder)],
      };
    case 'labels:invalid':
      return {
        tone: 'warning',
        title: `${event.container}: labels not usable, left alone`,
        text: `Container ${event.container} is labelled for docker-watcher but left alone: ${event.problems
          .map((problem) => `${problem.label}: ${problem.message}`)
          .join('; ')}`,
        fields: [
          ...field('Container', event.container),
          ...event.problems.flatMap((problem) => field(problem.label, problem.message)),
        ],
      };
  }
}

/** Every template variable of one event, as text; absent facts are left out. */
export function templateValuesOf(event: NotificationEvent, options: DescribeOptions = {}): TemplateValues {
  const facts = factsOf(event);
  const values: Record<string, string> = Object.create(null);
  const put = (name: string, value: string | undefined) => {
    if (value !== undefined && value !== '') values[name] = value;
  };
  put('type', event.type);
  put('title', facts.title);
  put('text', facts.text);
  put('count', '1');
  put('link', linkOf(event, options.publicUrl)?.url);
  if ('project' in event) {
    put('project', event.project);
    put('stage', event.stage);
  }
  if ('deployId' in event) put('deploy_id', event.deployId);
  if ('release' in event) {
    put('tag', event.release.tag);
    put('digest', event.release.digest);
  }
  const previous =
    'previous' in event
      ? event.previous
      : 'restored' in event
        ? event.restored
        : 'current' in event
          ? event.current
          : undefined;
  put('previous', previous?.tag);
  put('previous_digest', previous?.digest);
  if ('durationMs' in event) put('duration', durationText(event.durationMs));
  switch (event.type) {
    case 'deploy:started':
      put('trigger', event.trigger);
      put('by', event.by);
      break;
    case 'deploy:failed':
      put('reason', event.error.message);
      put('error_code', event.error.code);
      break;
    case 'deploy:rolled-back':
    case 'release:available':
      put('reason', event.reason);
      break;
    case 'deploy:awaiting-confirmation':
      put('approval_id', event.approvalId);
      break;
    case 'adapter:error':
      put('adapter', event.adapterId);
      put('operation', event.operation);
      put('reason', event.error.message);
      put('error_code', event.error.code);
      break;
    case 'engine:leadership':
      put('holder', event.holder);
      break;
    case 'labels:invalid':
      put('container', event.container);
      put('reason', event.problems.map((problem) => `${problem.label}: ${problem.message}`).join('; '));
      break;
    default:
      break;
  }
  return values;
}

/** The message of one event: default title, text and fields, templates applied, a dashboard link. */
export function describeNotification(
  event: NotificationEvent,
  options: DescribeOptions = {},
): NotificationMessage {
  const facts = factsOf(event);
  const { templates } = options;
  const values = templates?.title || templates?.text ? templateValuesOf(event, options) : undefined;
  const link = linkOf(event, options.publicUrl);
  return {
    tone: facts.tone,
    title: (values && templates?.title?.render(values)) || facts.title,
    text: (values && templates?.text?.render(values)) || facts.text,
    fields: facts.fields,
    ...(link ? { link } : {}),
    types: [event.type],
  };
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

const toneRank: readonly MessageTone[] = ['failure', 'warning', 'action', 'success', 'info'];

/**
 * The message of a digest: one line per event (its title, templated when a title template is
 * set), the most serious tone of them, and a report of dropped notifications when there is one.
 */
export function describeDigest(
  digest: NotificationDigest,
  options: DescribeOptions = {},
): NotificationMessage {
  const items: MessageItem[] = digest.events.map((event) => {
    const message = describeNotification(event, {
      ...options,
      templates: { ...(options.templates?.title ? { title: options.templates.title } : {}) },
    });
    return { tone: message.tone, title: message.title, ...(message.link ? { link: message.link } : {}) };
  });
  const { dropped } = digest;
  const droppedText = dropped
    ? `${plural(dropped.count, 'notification')} could not be delivered and ${dropped.count === 1 ? 'was' : 'were'} dropped (${Object.entries(
        dropped.types,
      )
        .map(([type, count]) => `${count} ${type}`)
        .join(', ')}; ${dropped.from === dropped.to ? dropped.from : `${dropped.from} to ${dropped.to}`}).`
    : '';
  const tones = [...items.map((item) => item.tone), ...(dropped ? (['warning'] as const) : [])];
  const tone = toneRank.find((candidate) => tones.includes(candidate)) ?? 'info';
  const count = digest.events.length;
  const title =
    count === 0
      ? `Docker Watcher: ${plural(dropped?.count ?? 0, 'notification')} dropped`
      : `Docker Watcher: ${plural(count, 'notification')}`;
  const projects = [
    ...new Set(digest.events.flatMap((event) => ('project' in event ? [event.project] : []))),
  ];
  const text = [
    count > 0 ? `${plural(count, 'event')}${projects.length > 0 ? ` in ${projects.join(', ')}` : ''}.` : '',
    droppedText,
  ]
    .filter((part) => part !== '')
    .join(' ');
  const approvals = digest.events.some((event) => event.type === 'deploy:awaiting-confirmation');
  const url = dashboardUrl(options.publicUrl, approvals ? 'approvals' : '');
  return {
    tone,
    title,
    text,
    fields: [],
    items,
    ...(url ? { link: { label: approvals ? 'Review approvals' : 'Open dashboard', url } } : {}),
    types: [...new Set(digest.events.map((event) => event.type))],
  };
}
