import { type NotificationMessage, toneColors } from '@docker-watcher/core';
import { escapeSlack, truncate } from '../_text.ts';

/** Slack's documented limits (Block Kit reference). */
export const slackLimits = {
  sectionText: 3000,
  fieldText: 2000,
  fields: 10,
  buttonText: 75,
  buttonUrl: 3000,
  fallbackText: 3000,
} as const;

export interface SlackLook {
  readonly username?: string | undefined;
  readonly iconEmoji?: string | undefined;
  readonly iconUrl?: string | undefined;
  readonly threadTs?: string | undefined;
}

/** Digest lines as mrkdwn, as many as fit, then how many more there were. */
function itemLines(message: NotificationMessage): string | undefined {
  const items = message.items ?? [];
  if (items.length === 0) return undefined;
  const lines: string[] = [];
  let size = 0;
  for (const [index, item] of items.entries()) {
    const title = escapeSlack(truncate(item.title, 300));
    const line = item.link ? `• <${item.link.url}|${title}>` : `• ${title}`;
    const more = `… and ${items.length - index} more`;
    if (size + line.length + 1 > slackLimits.sectionText - more.length - 1) {
      lines.push(more);
      break;
    }
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join('\n');
}

/**
 * An incoming-webhook payload: Block Kit blocks inside one attachment, whose `color` shows the
 * outcome (blocks alone have no colour), and `text` as the notification's fallback.
 */
export function renderSlackMessage(
  message: NotificationMessage,
  look: SlackLook = {},
): Record<string, unknown> {
  const head = `*${escapeSlack(truncate(message.title, 500))}*`;
  const text = truncate(message.text, slackLimits.sectionText - head.length - 1);
  const blocks: unknown[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `${head}\n${escapeSlack(text)}` } },
  ];
  if (message.fields.length > 0) {
    blocks.push({
      type: 'section',
      fields: message.fields.slice(0, slackLimits.fields).map((field) => ({
        type: 'mrkdwn',
        text: truncate(`*${escapeSlack(field.label)}*\n${escapeSlack(field.value)}`, slackLimits.fieldText),
      })),
    });
  }
  const lines = itemLines(message);
  if (lines) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: lines } });
  if (message.link && message.link.url.length <= slackLimits.buttonUrl) {
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: truncate(message.link.label, slackLimits.buttonText) },
          url: message.link.url,
          ...(message.tone === 'action' ? { style: 'primary' } : {}),
        },
      ],
    });
  }
  return {
    text: escapeSlack(truncate(message.title, slackLimits.fallbackText)),
    ...(look.username ? { username: look.username } : {}),
    ...(look.iconEmoji ? { icon_emoji: look.iconEmoji } : {}),
    ...(look.iconUrl ? { icon_url: look.iconUrl } : {}),
    ...(look.threadTs ? { thread_ts: look.threadTs } : {}),
    attachments: [
      { color: toneColors[message.tone], fallback: escapeSlack(truncate(message.title, 300)), blocks },
    ],
  };
}
