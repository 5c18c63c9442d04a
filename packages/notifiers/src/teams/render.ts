import type { MessageTone, NotificationMessage } from '@docker-watcher/core';
import { escapeMarkdown, truncate } from '../_text.ts';

/** A card larger than about 28 KB fails inside the flow, invisibly to the sender: stay well below. */
export const teamsLimits = { text: 4000, factValue: 600, items: 40, payloadBytes: 24 * 1024 } as const;

/** Adaptive Card text colours per tone. */
const colors: Readonly<Record<MessageTone, string>> = {
  success: 'Good',
  failure: 'Attention',
  warning: 'Warning',
  info: 'Accent',
  action: 'Accent',
};

/**
 * A Workflows message: one Adaptive Card 1.4 with the title coloured by outcome, the text, the
 * facts as a FactSet, digest lines, and an `Action.OpenUrl` button to the dashboard.
 */
export function renderTeamsMessage(message: NotificationMessage): Record<string, unknown> {
  const body: unknown[] = [
    {
      type: 'TextBlock',
      text: escapeMarkdown(truncate(message.title, 300)),
      weight: 'Bolder',
      size: 'Medium',
      color: colors[message.tone],
      wrap: true,
    },
    { type: 'TextBlock', text: escapeMarkdown(truncate(message.text, teamsLimits.text)), wrap: true },
  ];
  if (message.fields.length > 0) {
    body.push({
      type: 'FactSet',
      facts: message.fields.map((field) => ({
        title: escapeMarkdown(field.label),
        value: escapeMarkdown(truncate(field.value, teamsLimits.factValue)),
      })),
    });
  }
  const items = message.items ?? [];
  for (const item of items.slice(0, teamsLimits.items)) {
    body.push({
      type: 'TextBlock',
      text: `• ${escapeMarkdown(truncate(item.title, 200))}`,
      wrap: true,
      spacing: 'None',
    });
  }
  if (items.length > teamsLimits.items) {
    body.push({
      type: 'TextBlock',
      text: `… and ${items.length - teamsLimits.items} more`,
      wrap: true,
      isSubtle: true,
    });
  }
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
          ...(message.link
            ? { actions: [{ type: 'Action.OpenUrl', title: message.link.label, url: message.link.url }] }
            : {}),
        },
      },
    ],
  };
}
