import type { MessageTone, NotificationMessage } from '@docker-watcher/core';
import { truncate, truncateBytes } from '../_text.ts';

/** A message over 4096 bytes becomes an attachment; at most 3 action buttons. */
export const ntfyLimits = { messageBytes: 4096, title: 250, actions: 3 } as const;

const priorities: Readonly<Record<MessageTone, number>> = {
  failure: 4,
  action: 4,
  warning: 4,
  success: 3,
  info: 2,
};
const toneTags: Readonly<Record<MessageTone, string>> = {
  failure: 'x',
  warning: 'warning',
  success: 'white_check_mark',
  action: 'point_right',
  info: 'information_source',
};

export interface NtfyLook {
  readonly priority?: number | undefined;
  readonly tags?: readonly string[] | undefined;
  readonly icon?: string | undefined;
}

/** Plain text: the text, the facts one per line, digest lines. ntfy shows it as it is. */
function bodyOf(message: NotificationMessage): string {
  const lines = [message.text];
  if (message.fields.length > 0)
    lines.push('', ...message.fields.map((field) => `${field.label}: ${field.value}`));
  if (message.items?.length) lines.push('', ...message.items.map((item) => `• ${item.title}`));
  return lines.join('\n');
}

/** A JSON publish: title, text, priority and tag by outcome, and a `view` action to the dashboard. */
export function renderNtfyMessage(
  message: NotificationMessage,
  topic: string,
  look: NtfyLook = {},
): Record<string, unknown> {
  const { link } = message;
  return {
    topic,
    title: truncate(message.title, ntfyLimits.title),
    message: truncateBytes(bodyOf(message), ntfyLimits.messageBytes),
    priority: look.priority ?? priorities[message.tone],
    tags: [toneTags[message.tone], ...(look.tags ?? [])],
    ...(look.icon ? { icon: look.icon } : {}),
    ...(link
      ? { click: link.url, actions: [{ action: 'view', label: link.label, url: link.url, clear: true }] }
      : {}),
  };
}
