import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [sveltekit()],
  build: { target: 'es2022', reportCompressedSize: false },
  server: {
    // `pnpm dev` against a server on :8080 (same origin for the session cookie).
    proxy: Object.fromEntries(
      ['/api', '/healthz', '/readyz', '/metrics'].map((path) => [
        path,
        { target: process.env.DOCKER_WATCHER_URL ?? 'http://127.0.0.1:8080' },
      ]),
    ),
  },
});
