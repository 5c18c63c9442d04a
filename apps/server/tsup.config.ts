import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli.ts', client: 'src/client.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts', client: 'src/client.ts' } },
  clean: true,
  target: 'node22',
  external: [/^@docker-watcher\//, 'node:sqlite'],
  removeNodeProtocol: false,
});
