import { createHash } from 'node:crypto';
import adapter from '@sveltejs/adapter-static';

// SvelteKit's route announcer (a visually hidden live region) carries this style attribute; only it
// is allowed, by hash. A kit that changes it shows up as a CSP error in the browser tests.
const announcerStyle =
  'position: absolute; left: 0; top: 0; clip: rect(0 0 0 0); clip-path: inset(50%); overflow: hidden; white-space: nowrap; width: 1px; height: 1px';
const announcerHash = `'sha256-${createHash('sha256').update(announcerStyle).digest('base64')}'`;

/** @type {import('@sveltejs/kit').Config} */
export default {
  kit: {
    // A single-page app: the server answers every page path with the fallback, the router does the rest.
    adapter: adapter({ fallback: 'index.html', strict: true }),
    // Hashes of SvelteKit's inline boot script go into a CSP meta tag; nothing else runs inline.
    csp: {
      mode: 'hash',
      directives: {
        'default-src': ['none'],
        'script-src': ['self'],
        'style-src': ['self'],
        'style-src-attr': ['unsafe-hashes', announcerHash],
        'img-src': ['self', 'data:'],
        'font-src': ['self'],
        'connect-src': ['self'],
        'manifest-src': ['self'],
        'base-uri': ['none'],
        'form-action': ['self'],
      },
    },
    version: { pollInterval: 0 },
    // The server's typed API client, from its source: browser-safe (valibot only), and no package
    // dependency (the server's build depends on this app's).
    alias: { '@docker-watcher/server/client': '../server/src/client.ts' },
  },
};
