import type { MessageTone, NotificationMessage } from '@docker-watcher/core';
import { truncate } from '../_text.ts';

/** Gotify documents no limit; clients show long messages badly. */
export const gotifyLimits = { title: 250, message: 8000 } as const;

const priorities: Readonly<Record<MessageTone, number>> = {
  failure: 8,
  action: 7,
  warning: 6,
  success: 4,
  info: 2,
};

/** Plain text, the facts one per line, the dashboard link at the end (and as the click target). */
export function renderGotifyMessage(
  message: NotificationMessage,
  priority?: number,
): Record<string, unknown> {
  const lines = [message.text];
  if (message.fields.length > 0)
    lines.push('', ...message.fields.map((field) => `${field.label}: ${field.value}`));
  if (message.items?.length) lines.push('', ...message.items.map((item) => `• ${item.title}`));
  const linkLine = message.link ? `\n\n${message.link.label}: ${message.link.url}` : '';
  return {
    title: truncate(message.title, gotifyLimits.title),
    message: `${truncate(lines.join('\n'), gotifyLimits.message - linkLine.length)}${linkLine}`,
    priority: priority ?? priorities[message.tone],
    extras: {
      'client::display': { contentType: 'text/plain' },
      ...(message.link ? { 'client::notification': { click: { url: message.link.url } } } : {}),
    },
  };
}
