import { join } from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';
import { root, sourceEntries, usesTestkit, workspacePackages } from './scripts/workspace.ts';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

// Only projects whose tests use real parts get the testkit's global setup, and even there the engine
// and fixture images come only when a test file imports the testkit: `--project core` never waits.
const realParts = [join(root, 'packages/testkit/src/global-setup.ts')];

export default defineConfig({
  resolve: {
    // Workspace packages resolve to their TypeScript sources: tests never need a build first.
    alias: sourceEntries().map(({ specifier, file }) => ({
      find: new RegExp(`^${escapeRegExp(specifier)}$`),
      replacement: file,
    })),
  },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      ...workspacePackages().map((pkg) => ({
        extends: true as const,
        test: {
          name: pkg.short,
          root: join(root, pkg.dir),
          // Unit tests next to the code (src/), tests of real parts and of the package as a whole in test/.
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/daemon/**'],
          globalSetup: usesTestkit(pkg) ? realParts : [],
        },
      })),
      {
        // Tests that start, stop and crash private Docker daemons (each in a network namespace of its
        // own); they run alone, after all others, so that no other test meets a daemon restarting.
        extends: true as const,
        test: {
          name: 'daemon',
          root,
          include: ['packages/*/test/daemon/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          globalSetup: realParts,
        },
      },
      {
        extends: true as const,
        test: { name: 'scripts', root: join(root, 'scripts'), include: ['*.test.ts'] },
      },
    ],
  },
});
