import adapter from '@sveltejs/adapter-static';

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
        'img-src': ['self', 'data:'],
        'font-src': ['self'],
        'connect-src': ['self'],
        'manifest-src': ['self'],
        'base-uri': ['none'],
        'form-action': ['self'],
      },
    },
    output: { bundleStrategy: 'single' },
    version: { pollInterval: 0 },
  },
};
