import { join } from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';
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
          exclude: [...configDefaults.exclude, 'test/daemon/**'],
        },
      })),
      {
        // Tests that start, stop and crash private Docker daemons: a restarting dockerd may take the
        // host's docker0 with it (the testkit puts it back), so they run alone, after all others.
        extends: true as const,
        test: {
          name: 'daemon',
          root,
          include: ['packages/*/test/daemon/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true as const,
        test: { name: 'scripts', root: join(root, 'scripts'), include: ['*.test.ts'] },
      },
    ],
  },
});
