import { type NotificationMessage, toneColors } from '@docker-watcher/core';
import { escapeHtml, truncate } from '../_text.ts';

export const emailLimits = { subject: 250 } as const;

export interface RenderedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** Subject (the title), a plain-text part, and an HTML part in which every text is escaped. */
export function renderEmailMessage(message: NotificationMessage): RenderedEmail {
  const { link } = message;
  const text = [message.text];
  if (message.fields.length > 0)
    text.push(message.fields.map((field) => `${field.label}: ${field.value}`).join('\n'));
  if (message.items?.length) text.push(message.items.map((item) => `• ${item.title}`).join('\n'));
  if (link) text.push(`${link.label}: ${link.url}`);
  const rows = message.fields
    .map(
      (field) =>
        `<tr><th align="left" style="padding-right:12px">${escapeHtml(field.label)}</th><td>${escapeHtml(field.value)}</td></tr>`,
    )
    .join('');
  const html = [
    `<h2 style="border-left:6px solid ${toneColors[message.tone]};padding-left:8px">${escapeHtml(message.title)}</h2>`,
    `<p>${escapeHtml(message.text)}</p>`,
    rows ? `<table>${rows}</table>` : '',
    message.items?.length
      ? `<ul>${message.items.map((item) => `<li>${escapeHtml(item.title)}</li>`).join('')}</ul>`
      : '',
    link ? `<p><a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a></p>` : '',
  ].join('\n');
  return {
    // A subject is one line.
    subject: truncate(message.title.replace(/[\r\n]+/g, ' '), emailLimits.subject),
    text: text.join('\n\n'),
    html: `<!doctype html><html><body>${html}</body></html>`,
  };
}
