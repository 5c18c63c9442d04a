// What to tell a person about a failed call: the server's message and the way forward.
import { ApiError } from '@docker-watcher/server/client';
import { apiHooks } from './index.ts';

export interface ErrorView {
  readonly title: string;
  readonly message: string;
  /** What to do next. */
  readonly hint: string;
}

export const isApiError = (error: unknown): error is ApiError => error instanceof ApiError;

export function describeError(error: unknown): ErrorView {
  if (!isApiError(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      title: 'Something went wrong',
      message,
      hint: 'Reload the page; if it persists, see the server log.',
    };
  }
  const { status, message } = error;
  if (status === 0)
    return {
      title: 'Server unreachable',
      message,
      hint: 'The dashboard reconnects on its own once it answers.',
    };
  if (status === 401) return { title: 'Session ended', message, hint: 'Log in again to continue.' };
  if (status === 403)
    return { title: 'Not allowed', message, hint: 'Ask an administrator for the scope this action needs.' };
  if (status === 404)
    return { title: 'Not found', message, hint: 'It may have left the config; go back to the board.' };
  if (status === 409)
    return {
      title: 'Conflict',
      message,
      hint: 'Something changed meanwhile: look at the current state and try again.',
    };
  if (status === 429) {
    const wait = apiHooks.retryAfterSeconds;
    return {
      title: 'Too many requests',
      message,
      hint: wait ? `Try again in ${wait} s.` : 'Wait a moment, then try again.',
    };
  }
  if (status === 400) return { title: 'Refused', message, hint: 'Check the values and try again.' };
  if (status >= 500)
    return {
      title: 'Server error',
      message,
      hint: 'Look at the current state before you try again; the server log says more.',
    };
  return { title: `Error ${status}`, message, hint: 'Try again.' };
}
