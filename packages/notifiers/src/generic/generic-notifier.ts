import { type AdapterContext, defineNotifier, instantiate, type Notifier } from '@docker-watcher/core';
import type * as v from 'valibot';
import { createChannelNotifier } from '../_channel.ts';
import { answerError } from '../_http.ts';
import { type GenericNotifierOptions, genericNotifierOptions } from './options.ts';
import { renderGenericBody } from './render.ts';

function buildGenericNotifier(
  options: v.InferOutput<typeof genericNotifierOptions>,
  context: AdapterContext,
) {
  const url = new URL(options.url);
  const contentType =
    options.contentType ?? (options.template === 'json' ? 'application/json' : 'text/plain; charset=utf-8');
  return createChannelNotifier({
    name: 'generic',
    options,
    context,
    secrets: [options.url, ...url.searchParams.values(), ...Object.values(options.headers ?? {})],
    transport: ({ id, http }) => ({
      async send({ message, what, signal }) {
        const answer = await http.request(
          {
            url,
            method: options.method,
            headers: { ...options.headers, 'content-type': contentType },
            body: renderGenericBody(message, options),
          },
          { signal, what },
        );
        if (answer.status >= 200 && answer.status < 300) return;
        throw answerError({ id, what, answer, detail: http.detail(answer.text) });
      },
    }),
  });
}

export const genericNotifier = defineNotifier({
  name: 'generic',
  options: genericNotifierOptions,
  secrets: ['url', 'headers'],
  create: buildGenericNotifier,
});

/** Sends messages to any HTTP endpoint the way Shoutrrr's generic service does: plain text or a JSON object. */
export function createGenericNotifier(
  options: GenericNotifierOptions,
  context: AdapterContext = {},
): Notifier {
  return instantiate(genericNotifier, options, context);
}
