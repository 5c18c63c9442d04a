import type { NotificationMessage } from '@docker-watcher/core';
import { truncate } from '../_text.ts';

export const genericLimits = { message: 16_000 } as const;

/** The message without its title, as plain text: the text, the facts, digest lines, the link. */
export function genericMessageText(message: NotificationMessage): string {
  const lines = [message.text];
  if (message.fields.length > 0)
    lines.push('', ...message.fields.map((field) => `${field.label}: ${field.value}`));
  if (message.items?.length) lines.push('', ...message.items.map((item) => `• ${item.title}`));
  if (message.link) lines.push('', `${message.link.label}: ${message.link.url}`);
  return truncate(lines.join('\n'), genericLimits.message);
}

/** The body as Shoutrrr's generic service sends it: plain text, or JSON with the title and message. */
export function renderGenericBody(
  message: NotificationMessage,
  settings: {
    readonly template: 'text' | 'json';
    readonly titleKey: string;
    readonly messageKey: string;
    readonly extraData?: Readonly<Record<string, string>> | undefined;
  },
): string {
  const text = genericMessageText(message);
  if (settings.template === 'text') return `${message.title}\n\n${text}`;
  // Keys come from the config: a null-prototype object, so `__proto__` stays a key.
  const body: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(settings.extraData ?? {})) body[key] = value;
  body[settings.titleKey] = message.title;
  body[settings.messageKey] = text;
  return JSON.stringify(body);
}
