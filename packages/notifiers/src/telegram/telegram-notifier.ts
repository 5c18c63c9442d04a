import {
  type AdapterContext,
  CoreError,
  defineNotifier,
  instantiate,
  type Notifier,
} from '@docker-watcher/core';
import type * as v from 'valibot';
import { createChannelNotifier } from '../_channel.ts';
import { answerError } from '../_http.ts';
import { type TelegramNotifierOptions, telegramNotifierOptions } from './options.ts';
import { renderTelegramMessage } from './render.ts';

interface TelegramError {
  readonly ok?: boolean;
  readonly description?: unknown;
  readonly parameters?: { readonly retry_after?: unknown; readonly migrate_to_chat_id?: unknown };
}

/** `-100123:42` -> chat `-100123` in thread 42. */
function splitChat(entry: string): { chat: string; thread?: number } {
  const colon = entry.lastIndexOf(':');
  return colon > 0
    ? { chat: entry.slice(0, colon), thread: Number(entry.slice(colon + 1)) }
    : { chat: entry };
}

function buildTelegramNotifier(
  options: v.InferOutput<typeof telegramNotifierOptions>,
  context: AdapterContext,
) {
  const url = new URL(`${options.apiUrl.replace(/\/+$/, '')}/bot${options.token}/sendMessage`);
  /** Groups that became supergroups: the new id, learnt from `migrate_to_chat_id`. */
  const migrated = new Map<string, string>();
  /** Per event or digest: the chats that have it, so a retry does not post twice there. */
  const reached = new WeakMap<object, Set<string>>();

  return createChannelNotifier({
    name: 'telegram',
    options,
    context,
    // The part after the bot id is the secret one; either may be quoted alone.
    secrets: [options.token, options.token.slice(options.token.indexOf(':') + 1)],
    transport: ({ id, http, logger }) => {
      const post = async (
        target: { chat: string; thread?: number },
        fields: Record<string, unknown>,
        what: string,
        signal: AbortSignal,
      ) => {
        for (let hop = 0; ; hop++) {
          const chat = migrated.get(target.chat) ?? target.chat;
          const body = {
            chat_id: chat,
            ...(target.thread ? { message_thread_id: target.thread } : {}),
            ...fields,
          };
          const answer = await http.request({ url, json: body }, { signal, what });
          const data = answer.json as TelegramError | undefined;
          if (answer.status >= 200 && answer.status < 300 && data?.ok !== false) return;
          const next = data?.parameters?.migrate_to_chat_id;
          if (answer.status === 400 && (typeof next === 'number' || typeof next === 'string') && hop === 0) {
            migrated.set(target.chat, String(next));
            logger.warn(
              `chat ${target.chat} became ${next} (a supergroup): posting there; put the new id in the config`,
            );
            continue;
          }
          const retryAfter = data?.parameters?.retry_after;
          throw answerError({
            id,
            what: `${what} to chat ${target.chat}`,
            answer,
            detail: http.detail(typeof data?.description === 'string' ? data.description : answer.text),
            ...(typeof retryAfter === 'number' ? { retryAfterMs: retryAfter * 1000 } : {}),
          });
        }
      };
      return {
        async send({ message, what, signal, subject }) {
          const fields = renderTelegramMessage(message, options);
          const done = reached.get(subject) ?? new Set<string>();
          reached.set(subject, done);
          for (const entry of options.chats) {
            if (done.has(entry)) continue;
            await post(splitChat(entry), fields, what, signal);
            done.add(entry);
          }
          if (done.size === 0) throw new CoreError('INTERNAL', `${id}: no chat to post to`);
        },
      };
    },
  });
}

export const telegramNotifier = defineNotifier({
  name: 'telegram',
  options: telegramNotifierOptions,
  secrets: ['token'],
  create: buildTelegramNotifier,
});

/** Sends through a Telegram bot to chats and channels: HTML text and a link button. */
export function createTelegramNotifier(
  options: TelegramNotifierOptions,
  context: AdapterContext = {},
): Notifier {
  return instantiate(telegramNotifier, options, context);
}
