import {
  type AdapterContext,
  CoreError,
  defineNotifier,
  instantiate,
  type Notifier,
} from '@docker-watcher/core';
import type * as v from 'valibot';
import { createChannelNotifier } from '../_channel.ts';
import { answerError, type HttpAnswer } from '../_http.ts';
import { type DiscordNotifierOptions, discordNotifierOptions } from './options.ts';
import { renderDiscordMessage } from './render.ts';

/** Seconds as Discord writes them (floats) into milliseconds. */
const secondsToMs = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0
    ? Math.ceil(value * 1000)
    : typeof value === 'string' && /^\d+(\.\d+)?$/.test(value)
      ? Math.ceil(Number(value) * 1000)
      : undefined;

function buildDiscordNotifier(
  options: v.InferOutput<typeof discordNotifierOptions>,
  context: AdapterContext,
) {
  const base = options.apiUrl.replace(/\/+$/, '');
  const url = new URL(`${base}/webhooks/${options.webhookId}/${options.token}`);
  // wait=true: without it Discord answers 204 even when the message fails to save.
  url.searchParams.set('wait', 'true');
  // Link buttons are taken from webhooks that no application owns only with this.
  url.searchParams.set('with_components', 'true');
  if (options.threadId) url.searchParams.set('thread_id', options.threadId);
  /** When the bucket may be used again, after an answer said none is left (ms since the epoch). */
  let notBefore = 0;
  /** Discord asks clients to stop using a webhook that answered 404 Unknown Webhook. */
  let gone: CoreError | undefined;

  const pauseAfter = (answer: HttpAnswer) => {
    if (answer.headers.get('x-ratelimit-remaining') !== '0') return;
    const resetAfter = secondsToMs(answer.headers.get('x-ratelimit-reset-after'));
    if (resetAfter !== undefined) notBefore = Date.now() + resetAfter;
  };

  return createChannelNotifier({
    name: 'discord',
    options,
    context,
    secrets: [options.token],
    transport: ({ id, http }) => ({
      async send({ message, what, signal }) {
        if (gone) throw gone;
        const wait = notBefore - Date.now();
        if (wait > 0) {
          // Honoured before sending: ≥10,000 answers of 401/403/429 in 10 minutes ban the address.
          throw new CoreError('RATE_LIMITED', `${id} waits ${wait} ms for its rate-limit bucket to refill`, {
            details: { notifier: id, retryAfterMs: wait },
            retryAfterMs: wait,
          });
        }
        const answer = await http.request(
          { url, json: renderDiscordMessage(message, options) },
          { signal, what },
        );
        pauseAfter(answer);
        if (answer.status >= 200 && answer.status < 300) return;
        const body = answer.json as { message?: unknown; code?: unknown; retry_after?: unknown } | undefined;
        const detail = http.detail(
          [
            typeof body?.code === 'number' ? String(body.code) : '',
            typeof body?.message === 'string' ? body.message : answer.text,
          ]
            .filter((part) => part !== '')
            .join(' '),
        );
        const error = answerError({
          id,
          what,
          answer,
          detail,
          ...(answer.status === 429 ? { retryAfterMs: secondsToMs(body?.retry_after) } : {}),
        });
        if (answer.status === 404 && body?.code === 10015) {
          gone = new CoreError(
            'NOT_FOUND',
            `${id}: the webhook was deleted (Discord answered 404 Unknown Webhook); create a new one`,
            {
              details: { notifier: id, status: 404 },
            },
          );
        }
        throw error;
      },
    }),
  });
}

export const discordNotifier = defineNotifier({
  name: 'discord',
  options: discordNotifierOptions,
  secrets: ['token'],
  create: buildDiscordNotifier,
});

/** Posts to a Discord webhook: an embed coloured by outcome with the facts, and a link button. */
export function createDiscordNotifier(
  options: DiscordNotifierOptions,
  context: AdapterContext = {},
): Notifier {
  return instantiate(discordNotifier, options, context);
}
