import type { NotificationMessage } from '@docker-watcher/core';
import { escapeHtml, truncate } from '../_text.ts';

/**
 * Events over 65,536 bytes are refused. Each part is cut before it becomes HTML (a cut inside a
 * tag would break the markup), so the plain and the HTML body together stay far below that.
 */
export const matrixLimits = { title: 300, text: 4000, fieldValue: 500, items: 100, itemTitle: 200 } as const;

/** An `m.notice` (bots' messages, which other bots do not answer) with a plain and an HTML body. */
export function renderMatrixMessage(message: NotificationMessage): Record<string, unknown> {
  const title = truncate(message.title, matrixLimits.title);
  const text = truncate(message.text, matrixLimits.text);
  const fields = message.fields.map((field) => ({
    label: field.label,
    value: truncate(field.value, matrixLimits.fieldValue),
  }));
  const items = (message.items ?? [])
    .slice(0, matrixLimits.items)
    .map((item) => truncate(item.title, matrixLimits.itemTitle));
  const more = (message.items?.length ?? 0) - items.length;
  const plain = [title, text];
  const html = [`<b>${escapeHtml(title)}</b>`, escapeHtml(text)];
  if (fields.length > 0) {
    plain.push(fields.map((field) => `${field.label}: ${field.value}`).join('\n'));
    html.push(
      fields.map((field) => `<b>${escapeHtml(field.label)}:</b> ${escapeHtml(field.value)}`).join('<br>'),
    );
  }
  if (items.length > 0) {
    const tail = more > 0 ? [`… and ${more} more`] : [];
    plain.push([...items.map((item) => `• ${item}`), ...tail].join('\n'));
    html.push(`<ul>${items.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ul>${tail.join('')}`);
  }
  const { link } = message;
  if (link) {
    plain.push(`${link.label}: ${link.url}`);
    html.push(`<a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a>`);
  }
  return {
    msgtype: 'm.notice',
    body: plain.join('\n\n'),
    format: 'org.matrix.custom.html',
    formatted_body: html.join('<br><br>'),
  };
}
