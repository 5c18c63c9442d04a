// Errors SvelteKit caught while loading a route. A route whose code could not be fetched is the boot
// guard's (static/boot-guard.js) to recover from: it reloads the page, within its limits.
import type { HandleClientError } from '@sveltejs/kit';

export const handleError: HandleClientError = ({ error }) => {
  const message = error instanceof Error ? error.message : String(error);
  dispatchEvent(new CustomEvent('dw:code-missing', { detail: message }));
};
