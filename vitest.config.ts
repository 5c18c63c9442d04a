import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { root, sourceEntries, workspacePackages } from './scripts/workspace.ts';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export default defineConfig({
  resolve: {
    // Workspace packages resolve to their TypeScript sources: tests never need a build first.
    alias: sourceEntries().map(({ specifier, file }) => ({
      find: new RegExp(`^${escapeRegExp(specifier)}$`),
      replacement: file,
    })),
  },
  test: {
    globalSetup: [join(root, 'packages/testkit/src/global-setup.ts')],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      ...workspacePackages().map((pkg) => ({
        extends: true as const,
        test: {
          name: pkg.short,
          root: join(root, pkg.dir),
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
        },
      })),
      {
        extends: true as const,
        test: { name: 'scripts', root: join(root, 'scripts'), include: ['*.test.ts'] },
      },
    ],
  },
});
