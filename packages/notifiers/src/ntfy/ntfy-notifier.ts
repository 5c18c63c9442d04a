import { type AdapterContext, defineNotifier, instantiate, type Notifier } from '@docker-watcher/core';
import type * as v from 'valibot';
import { createChannelNotifier } from '../_channel.ts';
import { answerError } from '../_http.ts';
import { type NtfyNotifierOptions, ntfyNotifierOptions } from './options.ts';
import { renderNtfyMessage } from './render.ts';

/** ntfy's code for a spent daily message quota: waiting minutes does not help. */
const dailyQuota = 42908;

function authorization(options: v.InferOutput<typeof ntfyNotifierOptions>): string | undefined {
  if (options.token) return `Bearer ${options.token}`;
  if (options.password)
    return `Basic ${Buffer.from(`${options.username ?? ''}:${options.password}`).toString('base64')}`;
  return undefined;
}

function buildNtfyNotifier(options: v.InferOutput<typeof ntfyNotifierOptions>, context: AdapterContext) {
  const base = new URL(options.url);
  if (!base.pathname.endsWith('/')) base.pathname = `${base.pathname}/`;
  const auth = authorization(options);
  return createChannelNotifier({
    name: 'ntfy',
    options,
    context,
    secrets: [options.token, options.password, auth, auth?.replace(/^\w+ /, '')],
    transport: ({ id, http }) => ({
      async send({ message, what, signal }) {
        // JSON publishing goes to the server's root, the topic in the body.
        const answer = await http.request(
          {
            url: base,
            headers: auth ? { authorization: auth } : {},
            json: renderNtfyMessage(message, options.topic, options),
          },
          { signal, what },
        );
        if (answer.status >= 200 && answer.status < 300) return;
        const body = answer.json as { code?: unknown; error?: unknown } | undefined;
        const detail = http.detail(
          [
            typeof body?.code === 'number' ? String(body.code) : '',
            typeof body?.error === 'string' ? body.error : answer.text,
          ]
            .filter((part) => part !== '')
            .join(' '),
        );
        // ntfy sends no Retry-After on 429: the dispatcher's backoff decides; a spent daily quota is not worth retrying.
        throw answerError({
          id,
          what,
          answer,
          detail,
          ...(body?.code === dailyQuota ? { retryable: false } : {}),
        });
      },
    }),
  });
}

export const ntfyNotifier = defineNotifier({
  name: 'ntfy',
  options: ntfyNotifierOptions,
  secrets: ['token', 'password'],
  create: buildNtfyNotifier,
});

/** Publishes to an ntfy topic: title, priority and tag by outcome, a view action to the dashboard. */
export function createNtfyNotifier(options: NtfyNotifierOptions, context: AdapterContext = {}): Notifier {
  return instantiate(ntfyNotifier, options, context);
}
