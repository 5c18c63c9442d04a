import { type AdapterContext, defineNotifier, instantiate, type Notifier } from '@docker-watcher/core';
import type * as v from 'valibot';
import { createChannelNotifier } from '../_channel.ts';
import { answerError } from '../_http.ts';
import { type TeamsNotifierOptions, teamsNotifierOptions } from './options.ts';
import { renderTeamsMessage } from './render.ts';

function buildTeamsNotifier(options: v.InferOutput<typeof teamsNotifierOptions>, context: AdapterContext) {
  const url = new URL(options.url);
  return createChannelNotifier({
    name: 'teams',
    options,
    context,
    // The sig is the credential; the whole URL carries it.
    secrets: [options.url, url.search, url.searchParams.get('sig') ?? undefined],
    transport: ({ id, http }) => ({
      async send({ message, what, signal }) {
        const answer = await http.request({ url, json: renderTeamsMessage(message) }, { signal, what });
        // 202: the flow runs afterwards; a broken flow still answers 202.
        if (answer.status >= 200 && answer.status < 300) return;
        throw answerError({ id, what, answer, detail: http.detail(answer.text) });
      },
    }),
  });
}

export const teamsNotifier = defineNotifier({
  name: 'teams',
  options: teamsNotifierOptions,
  secrets: ['url'],
  create: buildTeamsNotifier,
});

/** Posts an Adaptive Card to a Microsoft Teams Workflows webhook. */
export function createTeamsNotifier(options: TeamsNotifierOptions, context: AdapterContext = {}): Notifier {
  return instantiate(teamsNotifier, options, context);
}
