import { createHash } from 'node:crypto';
import {
  type AdapterContext,
  CoreError,
  defineNotifier,
  instantiate,
  type Notifier,
} from '@docker-watcher/core';
import type * as v from 'valibot';
import { createChannelNotifier } from '../_channel.ts';
import { answerError, type HttpAnswer, type HttpClient } from '../_http.ts';
import { type MatrixNotifierOptions, matrixNotifierOptions } from './options.ts';
import { renderMatrixMessage } from './render.ts';

type Options = v.InferOutput<typeof matrixNotifierOptions>;

interface MatrixError {
  readonly errcode?: unknown;
  readonly error?: unknown;
  readonly retry_after_ms?: unknown;
}

/** The client-server API calls the notifier makes, each failing with the answer's `CoreError`. */
function matrixApi(options: Options, http: HttpClient, id: string) {
  const base = options.homeserver.replace(/\/+$/, '');
  const url = (path: string) => new URL(`${base}/_matrix/client/v3${path}`);
  const fail = (answer: HttpAnswer, what: string) => {
    const body = answer.json as MatrixError | undefined;
    const detail = http.detail(
      [
        typeof body?.errcode === 'string' ? body.errcode : '',
        typeof body?.error === 'string' ? body.error : answer.text,
      ]
        .filter((part) => part !== '')
        .join(': '),
    );
    // Retry-After first (since v1.10); the deprecated retry_after_ms when it is all there is.
    const fromBody = typeof body?.retry_after_ms === 'number' ? body.retry_after_ms : undefined;
    const header = answer.headers.get('retry-after');
    return answerError({
      id,
      what,
      answer,
      detail,
      ...(header === null && fromBody !== undefined ? { retryAfterMs: fromBody } : {}),
    });
  };
  const call = async (
    request: { path: string; method: 'GET' | 'POST' | 'PUT'; token?: string; json?: unknown },
    what: string,
    signal: AbortSignal,
  ): Promise<unknown> => {
    const answer = await http.request(
      {
        url: url(request.path),
        method: request.method,
        headers: request.token ? { authorization: `Bearer ${request.token}` } : {},
        ...(request.json === undefined ? {} : { json: request.json }),
      },
      { signal, what },
    );
    if (answer.status >= 200 && answer.status < 300) return answer.json;
    throw fail(answer, what);
  };
  return { call };
}

function buildMatrixNotifier(options: Options, context: AdapterContext) {
  /** Per event or digest: the rooms that have it, so a retry does not post twice there. */
  const reached = new WeakMap<object, Set<string>>();
  return createChannelNotifier({
    name: 'matrix',
    options,
    context,
    secrets: [options.accessToken, options.password],
    transport: ({ id, http }) => {
      const api = matrixApi(options, http, id);
      let token = options.accessToken;
      let rooms: string[] | undefined;

      const login = async (signal: AbortSignal): Promise<string> => {
        const body = (await api.call(
          {
            path: '/login',
            method: 'POST',
            json: {
              type: 'm.login.password',
              identifier: { type: 'm.id.user', user: options.user },
              password: options.password,
              initial_device_display_name: 'Docker Watcher',
            },
          },
          'log in',
          signal,
        )) as { access_token?: unknown } | undefined;
        if (typeof body?.access_token !== 'string')
          throw new CoreError('BAD_RESPONSE', `${id}: the homeserver's login answer has no access_token`);
        token = body.access_token;
        return token;
      };

      /** The rooms to post to: the configured ones joined (by id or alias), or every joined room. */
      const resolveRooms = async (auth: string, signal: AbortSignal): Promise<string[]> => {
        if (options.rooms === undefined) {
          const body = (await api.call(
            { path: '/joined_rooms', method: 'GET', token: auth },
            'list joined rooms',
            signal,
          )) as { joined_rooms?: unknown } | undefined;
          const joined = Array.isArray(body?.joined_rooms)
            ? body.joined_rooms.filter((room): room is string => typeof room === 'string')
            : [];
          if (joined.length === 0)
            throw new CoreError(
              'NOT_FOUND',
              `${id}: the user has joined no room; invite it to one, or name rooms`,
            );
          return joined;
        }
        const ids: string[] = [];
        for (const room of options.rooms) {
          const body = (await api.call(
            { path: `/join/${encodeURIComponent(room)}`, method: 'POST', token: auth, json: {} },
            `join ${room}`,
            signal,
          )) as { room_id?: unknown } | undefined;
          ids.push(typeof body?.room_id === 'string' ? body.room_id : room);
        }
        return ids;
      };

      /** Runs `work` with a token; a password user whose token was revoked logs in again, once. */
      const authorized = async <T>(work: (auth: string) => Promise<T>, signal: AbortSignal): Promise<T> => {
        const auth = token ?? (await login(signal));
        try {
          return await work(auth);
        } catch (error) {
          if (
            !(error instanceof CoreError) ||
            error.code !== 'UNAUTHORIZED' ||
            options.password === undefined
          )
            throw error;
          return work(await login(signal));
        }
      };

      return {
        async send({ message, what, key, subject, signal }) {
          const content = renderMatrixMessage(message);
          const done = reached.get(subject) ?? new Set<string>();
          reached.set(subject, done);
          await authorized(async (auth) => {
            rooms ??= await resolveRooms(auth, signal);
            for (const room of rooms) {
              if (done.has(room)) continue;
              // The same transaction id on a retry: the homeserver answers without a second event.
              const txn = `dw-${key}-${createHash('sha256').update(room).digest('hex').slice(0, 8)}`;
              const path = `/rooms/${encodeURIComponent(room)}/send/m.room.message/${txn}`;
              await api.call(
                { path, method: 'PUT', token: auth, json: content },
                `${what} to ${room}`,
                signal,
              );
              done.add(room);
            }
          }, signal);
        },
      };
    },
  });
}

export const matrixNotifier = defineNotifier({
  name: 'matrix',
  options: matrixNotifierOptions,
  secrets: ['accessToken', 'password'],
  create: buildMatrixNotifier,
});

/** Posts `m.notice` messages to Matrix rooms through the client-server API; retries never duplicate. */
export function createMatrixNotifier(options: MatrixNotifierOptions, context: AdapterContext = {}): Notifier {
  return instantiate(matrixNotifier, options, context);
}
