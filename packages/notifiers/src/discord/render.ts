import { type NotificationMessage, toneColors } from '@docker-watcher/core';
import { escapeMarkdown, truncate } from '../_text.ts';

/** Discord's documented embed limits (resources/message.mdx) and link-button limits. */
export const discordLimits = {
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  total: 6000,
  buttonLabel: 80,
  buttonUrl: 512,
} as const;

export interface DiscordLook {
  readonly username?: string | undefined;
  readonly avatarUrl?: string | undefined;
}

/** Digest lines as Markdown, as many as fit in `room` characters, then how many more there were. */
function itemLines(message: NotificationMessage, room: number): string {
  const items = message.items ?? [];
  const lines: string[] = [];
  let size = 0;
  for (const [index, item] of items.entries()) {
    const title = escapeMarkdown(truncate(item.title, 200));
    const line = item.link ? `• [${title}](${item.link.url})` : `• ${title}`;
    const more = `… and ${items.length - index} more`;
    if (size + line.length + 1 > room - more.length - 1) {
      lines.push(more);
      break;
    }
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join('\n');
}

/**
 * An Execute Webhook payload: one embed (title linking to the dashboard, colour by outcome, the
 * facts as inline fields) and a link button. Nobody is ever mentioned: text from outside could say
 * `@everyone`.
 */
export function renderDiscordMessage(
  message: NotificationMessage,
  look: DiscordLook = {},
): Record<string, unknown> {
  const title = truncate(message.title, discordLimits.title);
  // Fields first: what is left of the 6000 characters of all embeds goes to the description.
  const fields = message.fields.slice(0, discordLimits.fields).map((field) => ({
    name: truncate(field.label, discordLimits.fieldName),
    value: truncate(escapeMarkdown(field.value), discordLimits.fieldValue),
    inline: field.value.length <= 40,
  }));
  const used = title.length + fields.reduce((sum, field) => sum + field.name.length + field.value.length, 0);
  const room = Math.min(discordLimits.description, discordLimits.total - used - 100);
  const text = truncate(escapeMarkdown(message.text), Math.max(0, Math.floor(room / 2)));
  const lines = message.items?.length ? itemLines(message, room - text.length - 2) : '';
  const description = truncate([text, lines].filter((part) => part !== '').join('\n\n'), room);
  const link = message.link && message.link.url.length <= discordLimits.buttonUrl ? message.link : undefined;
  return {
    ...(look.username ? { username: look.username } : {}),
    ...(look.avatarUrl ? { avatar_url: look.avatarUrl } : {}),
    allowed_mentions: { parse: [] },
    embeds: [
      {
        title,
        ...(link ? { url: link.url } : {}),
        description,
        color: Number.parseInt(toneColors[message.tone].slice(1), 16),
        ...(fields.length > 0 ? { fields } : {}),
      },
    ],
    ...(link
      ? {
          components: [
            {
              type: 1,
              components: [
                { type: 2, style: 5, label: truncate(link.label, discordLimits.buttonLabel), url: link.url },
              ],
            },
          ],
        }
      : {}),
  };
}
