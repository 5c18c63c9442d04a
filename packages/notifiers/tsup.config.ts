import { defineConfig } from 'tsup';

const channels = ['slack', 'discord', 'teams', 'telegram', 'ntfy', 'gotify', 'matrix', 'email', 'generic'];

export default defineConfig({
  // One entry per channel: importing one never loads another's code (or nodemailer).
  entry: {
    index: 'src/index.ts',
    ...Object.fromEntries(channels.map((channel) => [`${channel}/index`, `src/${channel}/index.ts`])),
  },
  format: ['esm'],
  // Stack traces point into the sources (shipped in the maps).
  sourcemap: true,
  dts: true,
  clean: true,
  target: 'node22',
  external: ['@docker-watcher/core', 'nodemailer'],
});
