import { type AdapterContext, defineNotifier, instantiate, type Notifier } from '@docker-watcher/core';
import type * as v from 'valibot';
import { createChannelNotifier } from '../_channel.ts';
import { answerError } from '../_http.ts';
import { type SlackNotifierOptions, slackNotifierOptions } from './options.ts';
import { renderSlackMessage } from './render.ts';

function buildSlackNotifier(options: v.InferOutput<typeof slackNotifierOptions>, context: AdapterContext) {
  const url = new URL(options.url);
  return createChannelNotifier({
    name: 'slack',
    options,
    context,
    // The whole webhook URL is the credential; its path alone too.
    secrets: [options.url, url.pathname, url.pathname.split('/').at(-1)],
    transport: ({ id, http }) => ({
      async send({ message, what, signal }) {
        const answer = await http.request(
          { url, json: renderSlackMessage(message, options) },
          { signal, what },
        );
        if (answer.status >= 200 && answer.status < 300) return;
        // Slack answers errors as a plain-text code: invalid_payload, channel_not_found, …
        throw answerError({ id, what, answer, detail: http.detail(answer.text) });
      },
    }),
  });
}

export const slackNotifier = defineNotifier({
  name: 'slack',
  options: slackNotifierOptions,
  secrets: ['url'],
  create: buildSlackNotifier,
});

/** Posts to a Slack incoming webhook: Block Kit in an attachment coloured by outcome, a link button. */
export function createSlackNotifier(options: SlackNotifierOptions, context: AdapterContext = {}): Notifier {
  return instantiate(slackNotifier, options, context);
}
