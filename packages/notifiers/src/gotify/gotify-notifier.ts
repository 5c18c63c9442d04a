import { type AdapterContext, defineNotifier, instantiate, type Notifier } from '@docker-watcher/core';
import type * as v from 'valibot';
import { createChannelNotifier } from '../_channel.ts';
import { answerError } from '../_http.ts';
import { type GotifyNotifierOptions, gotifyNotifierOptions } from './options.ts';
import { renderGotifyMessage } from './render.ts';

function buildGotifyNotifier(options: v.InferOutput<typeof gotifyNotifierOptions>, context: AdapterContext) {
  const url = new URL(options.url);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/message`;
  return createChannelNotifier({
    name: 'gotify',
    options,
    context,
    secrets: [options.token],
    transport: ({ id, http }) => ({
      async send({ message, what, signal }) {
        // The token goes in a header, never in the URL where proxies log it.
        const answer = await http.request(
          {
            url,
            headers: { 'x-gotify-key': options.token },
            json: renderGotifyMessage(message, options.priority),
          },
          { signal, what },
        );
        if (answer.status >= 200 && answer.status < 300) return;
        const body = answer.json as { errorDescription?: unknown } | undefined;
        const detail = http.detail(
          typeof body?.errorDescription === 'string' ? body.errorDescription : answer.text,
        );
        throw answerError({ id, what, answer, detail });
      },
    }),
  });
}

export const gotifyNotifier = defineNotifier({
  name: 'gotify',
  options: gotifyNotifierOptions,
  secrets: ['token'],
  create: buildGotifyNotifier,
});

/** Pushes to a Gotify application: priority by outcome, a click to the dashboard. */
export function createGotifyNotifier(options: GotifyNotifierOptions, context: AdapterContext = {}): Notifier {
  return instantiate(gotifyNotifier, options, context);
}
