import { defineConfig } from 'vitest/config';
import { join } from 'node:path';
import { root, sourceEntries, workspacePackages } from './scripts/workspace.ts';

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export default defineConfig({
  resolve: {
    // Workspace packages resolve to their TypeScript sources: tests never need a build first.
    alias: sourceEntries().map(({ specifier, file }) => ({
      find: new RegExp(`^${escape(specifier)}$`),
      replacement: file,
    })),
  },
  test: {
    globalSetup: [join(root, 'packages/testkit/src/global-setup.ts')],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: workspacePackages().map((pkg) => ({
      extends: true,
      test: {
        name: pkg.short,
        root: pkg.dir,
        include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      },
    })),
  },
});
