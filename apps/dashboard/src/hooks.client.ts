// Errors SvelteKit caught while loading a route. A route whose code could not be fetched is the boot
// guard's (static/boot-guard.js) to recover from: it goes to the page the user was navigating to (a
// fresh document fetches the code again), or reloads a page whose own code was lost.

import type { HandleClientError } from '@sveltejs/kit';
import { navigating } from '$app/state';

export const handleError: HandleClientError = ({ error }) => {
  const message = error instanceof Error ? error.message : String(error);
  // `navigating.to` is set during a navigation only: a failed hover preload has none (the click's
  // navigation that follows fails the same way, and recovers then).
  const to = navigating.to?.url.href ?? null;
  dispatchEvent(new CustomEvent('dw:code-missing', { detail: { message, to } }));
};
