import type { MessageTone, NotificationMessage } from '@docker-watcher/core';
import { escapeHtml } from '../_text.ts';

/** Telegram counts at most 4096 characters of text after its HTML entities are parsed. */
export const telegramLimits = { text: 4096, buttonText: 64 } as const;

const marks: Readonly<Record<MessageTone, string>> = {
  success: '✅',
  failure: '❌',
  warning: '⚠️',
  info: 'ℹ️',
  action: '👉',
};

/** A line as shown (`plain`) and as sent (`html`): limits count what is shown. */
interface Line {
  readonly plain: string;
  readonly html: string;
}

const line = (plain: string, html = escapeHtml(plain)): Line => ({ plain, html });

function linesOf(message: NotificationMessage): Line[] {
  const title = `${marks[message.tone]} ${message.title}`;
  const lines = [line(title, `<b>${escapeHtml(title)}</b>`), line(message.text)];
  if (message.fields.length > 0) lines.push(line(''));
  for (const field of message.fields) {
    lines.push(
      line(`${field.label}: ${field.value}`, `<b>${escapeHtml(field.label)}:</b> ${escapeHtml(field.value)}`),
    );
  }
  if (message.items?.length) lines.push(line(''));
  for (const item of message.items ?? []) lines.push(line(`• ${item.title}`));
  return lines;
}

/** Cuts a line to `room` shown characters; the cut line loses its markup rather than breaking it. */
function cut(entry: Line, room: number): Line {
  const chars = Array.from(entry.plain);
  if (chars.length <= room) return entry;
  const plain = `${chars.slice(0, Math.max(0, room - 1)).join('')}…`;
  return line(plain);
}

/**
 * `sendMessage` fields for one chat: HTML text (bold title with a mark for the outcome, the text,
 * the facts), at most 4096 shown characters, and an inline keyboard link button to the dashboard.
 */
export function renderTelegramMessage(
  message: NotificationMessage,
  settings: { readonly silent?: boolean; readonly preview?: boolean } = {},
): Record<string, unknown> {
  const kept: Line[] = [];
  let shown = 0;
  const lines = linesOf(message);
  for (const [index, entry] of lines.entries()) {
    const more = index === 0 ? 0 : 30;
    const room = telegramLimits.text - shown - (index === 0 ? 0 : 1) - more;
    const fitted = cut(entry, room);
    kept.push(fitted);
    shown += Array.from(fitted.plain).length + (index === 0 ? 0 : 1);
    if (fitted !== entry) {
      if (index < lines.length - 1) kept.push(line(`… ${lines.length - index - 1} more lines`));
      break;
    }
  }
  const { link } = message;
  return {
    text: kept.map((entry) => entry.html).join('\n'),
    parse_mode: 'HTML',
    link_preview_options: { is_disabled: settings.preview !== true },
    ...(settings.silent ? { disable_notification: true } : {}),
    ...(link
      ? {
          reply_markup: {
            inline_keyboard: [[{ text: link.label.slice(0, telegramLimits.buttonText), url: link.url }]],
          },
        }
      : {}),
  };
}
