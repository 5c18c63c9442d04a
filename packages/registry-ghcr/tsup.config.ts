import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm'],
  // Stack traces point into the sources (shipped in the maps), the conformance kit's included.
  sourcemap: true,
  dts: true,
  clean: true,
  target: 'node22',
  external: ['@docker-watcher/core', '@docker-watcher/registry-oci'],
});
