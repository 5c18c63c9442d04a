import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'store-kit/index': 'src/store-kit/index.ts',
    'testing/index': 'src/testing/index.ts',
    'testing/vitest': 'src/testing/vitest.ts',
  },
  format: ['esm'],
  // Stack traces point into the sources (shipped in the maps), the conformance kit's included.
  sourcemap: true,
  dts: true,
  clean: true,
  target: 'node22',
  external: ['vitest'],
});
